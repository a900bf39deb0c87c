import Engine
import Foundation
import GraphIR
import Testing

/// The fused attention's masks on the inputs where spellings of a mask differ: NaN and +inf
/// scores under a mask, and rows masked entirely. Each graph runs through the interpreter
/// (unfused, the oracle), the JIT unfused and the JIT fused, on the tiled kernel (several
/// queries) and on the row kernel (one query).
@Suite struct AttentionMaskTests {
    /// `q [B, Sq, 4]`, `k [B, Sk, 4]`, `v [B, Sk, 3]` with small distinct values.
    private static func inputs(batch: Int, queries: Int, keys: Int) -> [String: TensorData] {
        [
            "q": TensorData(shape: [batch, queries, 4], floats: (0..<(batch * queries * 4)).map { Float($0 % 7) / 4 - 0.75 }),
            "k": TensorData(shape: [batch, keys, 4], floats: (0..<(batch * keys * 4)).map { Float($0 % 5) / 3 - 0.5 }),
            "v": TensorData(shape: [batch, keys, 3], floats: (0..<(batch * keys * 3)).map { Float($0 % 11) / 8 }),
        ]
    }

    /// Key `j` of every batch element set to `value` in all its features.
    private static func poison(_ inputs: inout [String: TensorData], key j: Int, with value: Float) {
        let k = inputs["k"]!
        var floats = k.doubles.map(Float.init)
        let (keys, features) = (k.shape[1], k.shape[2])
        for b in 0..<k.shape[0] { for f in 0..<features { floats[(b * keys + j) * features + f] = value } }
        inputs["k"] = TensorData(shape: k.shape, floats: floats)
    }

    private func expectFusedAndExact(_ graph: Graph, _ inputs: [String: TensorData], containing fragment: String) {
        let result = runDifferential(graph, inputs: inputs, weights: [:])
        #expect(result.optimizedText?.contains(fragment) == true, "not fused with \(fragment):\n\(result.optimizedText ?? "")")
        #expect(result.allProblems.isEmpty, "\(result.allProblems.joined(separator: "\n"))")
    }

    /// NaN and +inf scores at keys a `select(-inf)` mask hides are gone, as in the graph:
    /// adding -inf would have made every row NaN.
    @Test(arguments: [1, 7])
    func hiddenNaNAndInfinityAreReplaced(queries: Int) throws {
        let graph = try parseGraph("""
            graph hidden(%q: f32[2,\(queries),4], %k: f32[2,20,4], %v: f32[2,20,3], %odd: i1[1,20]) {
              %s = matmul(%q, %k, transpose_b=true) : f32[2,\(queries),20]
              %masked = select(%odd, -inf, %s) : f32[2,\(queries),20]
              %p = softmax(%masked) : f32[2,\(queries),20]
              %o = matmul(%p, %v) : f32[2,\(queries),3]
              return %o
            }
            """)
        var inputs = Self.inputs(batch: 2, queries: queries, keys: 20)
        inputs["odd"] = TensorData(.i1, shape: [1, 20], doubles: (0..<20).map { Double($0 % 2) })
        Self.poison(&inputs, key: 3, with: .nan)
        Self.poison(&inputs, key: 17, with: .infinity)
        let expected = runDifferential(graph, inputs: inputs, weights: [:], variants: []).expected
        #expect(expected.first?.doubles.allSatisfy { $0.isFinite } == true, "the hidden keys leak into the graph's own result")
        expectFusedAndExact(graph, inputs, containing: "-inf, select=true")
    }

    /// A causal select is `causal=true`, exactly: a NaN key poisons only the queries that see it.
    @Test func causalSelectIsExactWithNaNKeys() throws {
        let graph = try parseGraph("""
            graph causal(%q: f32[2,20,4], %k: f32[2,20,4], %v: f32[2,20,3]) {
              %s = matmul(%q, %k, transpose_b=true) : f32[2,20,20]
              %row = iota(axis=0) : i32[20,20]
              %col = iota(axis=1) : i32[20,20]
              %future = gt(%col, %row) : i1[20,20]
              %masked = select(%future, -inf, %s) : f32[2,20,20]
              %p = softmax(%masked) : f32[2,20,20]
              %o = matmul(%p, %v) : f32[2,20,3]
              return %o
            }
            """)
        var inputs = Self.inputs(batch: 2, queries: 20, keys: 20)
        Self.poison(&inputs, key: 18, with: .nan)
        let expected = runDifferential(graph, inputs: inputs, weights: [:], variants: []).expected[0].doubles
        // Queries 18 and 19 see key 18; the others do not.
        #expect(expected[0..<(18 * 3)].allSatisfy { $0.isFinite })
        #expect(expected[(18 * 3)..<(20 * 3)].allSatisfy { $0.isNaN })
        expectFusedAndExact(graph, inputs, containing: "causal=true")
    }

    /// masked_fill with a finite value on a row masked entirely: every score is the fill, so the
    /// weights are uniform and the result is the mean of the values (not NaN, as -inf gives).
    @Test(arguments: [1, 7])
    func fullyMaskedRowsWithAFiniteFillAreUniform(queries: Int) throws {
        let graph = try parseGraph("""
            graph filled(%q: f32[2,\(queries),4], %k: f32[2,20,4], %v: f32[2,20,3], %keep: i1[2,1,20]) {
              %s = matmul(%q, %k, transpose_b=true) : f32[2,\(queries),20]
              %scaled = mul(%s, 0.5) : f32[2,\(queries),20]
              %kept = select(%keep, %scaled, -1000000000.0) : f32[2,\(queries),20]
              %p = softmax(%kept) : f32[2,\(queries),20]
              %o = matmul(%p, %v) : f32[2,\(queries),3]
              return %o
            }
            """)
        var inputs = Self.inputs(batch: 2, queries: queries, keys: 20)
        // Batch 0 keeps nothing; batch 1 keeps every third key.
        inputs["keep"] = TensorData(.i1, shape: [2, 1, 20], doubles: (0..<40).map { $0 >= 20 && ($0 - 20) % 3 == 0 ? 1 : 0 })
        // A NaN at a dropped key of batch 1 is replaced too.
        let v = inputs["v"]!.doubles
        Self.poison(&inputs, key: 4, with: .nan)
        let expected = runDifferential(graph, inputs: inputs, weights: [:], variants: []).expected[0].doubles
        for c in 0..<3 {
            let mean = (0..<20).map { v[$0 * 3 + c] }.reduce(0, +) / 20
            #expect(abs(expected[c] - mean) < 1e-6, "batch 0, feature \(c): \(expected[c]), not the mean \(mean)")
        }
        #expect(expected.allSatisfy { $0.isFinite })
        expectFusedAndExact(graph, inputs, containing: "-1000000000.0, scale=0.5, select=true")
    }

    /// The one documented difference (docs/IR.md, "Numerics"): an additive causal mask becomes
    /// `causal=true`, which drops a NaN score at a hidden key where adding -inf keeps it. The
    /// fused code computes exactly what the fused op means.
    @Test func additiveCausalMaskDropsHiddenNaN() throws {
        let graph = try parseGraph("""
            graph additive(%q: f32[1,20,4], %k: f32[1,20,4], %v: f32[1,20,3]) {
              %row = iota(axis=0) : i32[20,20]
              %col = iota(axis=1) : i32[20,20]
              %future = gt(%col, %row) : i1[20,20]
              %zero = constant(value=0.0) : f32[]
              %bias = select(%future, -inf, %zero) : f32[20,20]
              %s = matmul(%q, %k, transpose_b=true) : f32[1,20,20]
              %masked = add(%s, %bias) : f32[1,20,20]
              %p = softmax(%masked) : f32[1,20,20]
              %o = matmul(%p, %v) : f32[1,20,3]
              return %o
            }
            """)
        var inputs = Self.inputs(batch: 1, queries: 20, keys: 20)
        Self.poison(&inputs, key: 18, with: .nan)
        let unfused = runDifferential(graph, inputs: inputs, weights: [:], variants: [.asBuilt])
        #expect(unfused.problems.isEmpty, "\(unfused.problems)")
        #expect(unfused.expected[0].doubles.allSatisfy { $0.isNaN }, "NaN + -inf is NaN in every row")
        let fused = try Optimizer().run(graph).graph
        #expect(printGraph(fused).contains("causal=true"))
        let result = runDifferential(fused, inputs: inputs, weights: [:], variants: [.asBuilt])
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.expected[0].doubles[0..<(18 * 3)].allSatisfy { $0.isFinite })
    }
}
