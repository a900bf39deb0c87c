import Engine
import Foundation
import GraphIR
import Passes
import Testing

/// Pass-pipeline bugs the differential tests found outside the code generator, each kept as a
/// regression case: the graph that showed it, through the pipeline and the JIT, compared with the
/// interpreter on the graph as written.
@Suite struct PassRegressionTests {
    /// fold-constants turned `identity(constant)` into a second constant, and CSE turned the two
    /// equal constants back into `identity`, because outputs must be distinct values: the
    /// simplify fixpoint never settled (and the pipeline stopped with a precondition failure).
    /// fold-constants now leaves `identity` alone.
    @Test func simplifySettlesWhenTwoOutputsAreTheSameConstant() throws {
        let graph = try parseGraph("""
            graph t(%x: f32[1]) {
              %a = constant(value=3.0) : f32[1]
              %b = identity(%a) : f32[1]
              %c = add(%a, 0.0) : f32[1]
              %d = mul(%b, 1.0) : f32[1]
              return %a, %b, %c, %d
            }
            """)
        switch optimizeVerifyingEachPass(graph) {
        case .failure(let failure): Issue.record(Comment(rawValue: failure.description))
        case .success(let optimized):
            #expect(printGraph(optimized) == """
                graph t(%x: f32[1]) {
                  %a = constant(value=3.0) : f32[1]
                  %b = identity(%a) : f32[1]
                  %d = identity(%b) : f32[1]
                  %c = identity(%d) : f32[1]
                  return %a, %b, %c, %d
                }

                """)
        }
        // The pipeline itself (not only the test's pass-by-pass copy of it) settles too.
        _ = try Optimizer().run(graph)
        let result = runDifferential(graph, inputs: ["x": TensorData(shape: [1], floats: [1])], weights: [:])
        #expect(result.allProblems.isEmpty, "\(result.allProblems)")
    }

    /// fuse-attention turned a `select(mask, -inf, scores)` into an additive mask
    /// (`scores + select(mask, -inf, 0)`). They differ where a score is NaN or +inf: the select
    /// replaces it, the sum keeps NaN (NaN + -inf, inf + -inf), which then poisons the whole
    /// row. Here key 3 holds a NaN, and the one query attends to key 0 only. The fused op now
    /// keeps the select (`select=true`), and the kernel selects instead of adding.
    @Test func fusedAttentionKeepsSelectMasksSemantics() throws {
        let graph = try parseGraph("""
            graph masked(%q: f32[1,4], %k: f32[8,4], %v: f32[8,2]) {
              %s = matmul(%q, %k, transpose_b=true) : f32[1,8]
              %col = iota(axis=1) : i32[1,8]
              %later = gt(%col, 0) : i1[1,8]
              %masked = select(%later, -inf, %s) : f32[1,8]
              %p = softmax(%masked) : f32[1,8]
              %o = matmul(%p, %v) : f32[1,2]
              return %o
            }
            """)
        var keys = (0..<32).map { Float($0 % 5) / 4 }
        keys[13] = .nan
        let inputs = [
            "q": TensorData(shape: [1, 4], floats: [0.5, -1, 0.25, 2]),
            "k": TensorData(shape: [8, 4], floats: keys),
            "v": TensorData(shape: [8, 2], floats: (0..<16).map { Float($0) / 8 }),
        ]
        let result = runDifferential(graph, inputs: inputs, weights: [:])
        #expect(result.optimizedText?.contains("select=true") == true, "not fused with a select mask:\n\(result.optimizedText ?? "")")
        #expect(result.expected.first?.doubles.allSatisfy(\.isFinite) == true)
        #expect(result.allProblems.isEmpty, "\(result.allProblems)")
    }
}
