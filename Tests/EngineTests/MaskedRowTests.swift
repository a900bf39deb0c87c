import Foundation
import GraphIR
import Testing

/// Fully masked attention rows give the documented result (docs/IR.md, Numerics), fused and
/// unfused, in the JIT as in the interpreter: NaN when the mask is `-inf` (as `torch.softmax`),
/// uniform weights (the mean of the values) when it is a finite fill such as -1e9.
@Suite struct MaskedRowTests {
    /// Query 1 attends to no key: every score of its row is masked.
    static func graph(fill: String) throws -> Graph {
        try parseGraph("""
            graph masked(%q: f32[3,4], %k: f32[5,4], %v: f32[5,2], %m: i1[3,5]) {
              %s = matmul(%q, %k, transpose_b=true) : f32[3,5]
              %filled = select(%m, \(fill), %s) : f32[3,5]
              %p = softmax(%filled) : f32[3,5]
              %o = matmul(%p, %v) : f32[3,2]
              return %o
            }
            """)
    }

    static let inputs: [String: TensorData] = [
        "q": TensorData(shape: [3, 4], floats: (0..<12).map { Float($0 % 5) / 4 - 0.5 }),
        "k": TensorData(shape: [5, 4], floats: (0..<20).map { Float($0 % 7) / 6 - 0.5 }),
        "v": TensorData(shape: [5, 2], floats: (0..<10).map { Float($0) }),
        // Row 1 is all true (masked); rows 0 and 2 mask one key each.
        "m": TensorData(.i1, shape: [3, 5], doubles: [0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1]),
    ]

    @Test func aFullyMaskedRowIsNaNWithAnInfiniteFill() throws {
        let graph = try Self.graph(fill: "-inf")
        let result = runDifferential(graph, inputs: Self.inputs, weights: [:])
        #expect(result.allProblems.isEmpty, "\(result.allProblems.joined(separator: "\n"))")
        #expect(result.optimizedText?.contains("attention(") == true, "not fused:\n\(result.optimizedText ?? "")")
        let output = result.expected[0].doubles
        #expect(output[2].isNaN && output[3].isNaN, "row 1: \(output)")
        #expect(output[0].isFinite && output[5].isFinite, "\(output)")
    }

    @Test func aFullyMaskedRowIsUniformWithAFiniteFill() throws {
        let graph = try Self.graph(fill: "-1e9")
        let result = runDifferential(graph, inputs: Self.inputs, weights: [:])
        #expect(result.allProblems.isEmpty, "\(result.allProblems.joined(separator: "\n"))")
        let output = result.expected[0].doubles
        // The mean of v's columns: (0+2+4+6+8)/5 and (1+3+5+7+9)/5.
        #expect(Swift.abs(output[2] - 4) < 1e-6 && Swift.abs(output[3] - 5) < 1e-6, "row 1: \(output)")
    }
}
