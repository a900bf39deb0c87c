import Foundation
import GraphIR
@testable import ONNXImport
import Reference
import Testing

/// Converters checked on models written in Swift: the GraphIR they produce, and their numbers
/// against direct computations of the ONNX definitions.
@Suite struct ConverterTests {
    /// Seeded values in [-2, 2).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in Float(generator.next() % 4096) / 1024 - 2 }
    }

    func importAndRun(_ bytes: Data, _ inputs: [String: TensorData]) throws -> (text: String, outputs: [String: TensorData]) {
        let model = try importONNX(bytes: bytes, path: "test.onnx")
        let text = printGraph(model.graph)
        #expect(printGraph(try parseGraph(text)) == text)
        let outputs = try ReferenceInterpreter.run(model.graph, inputs: inputs, weights: model.weights)
        return (text, Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0.tensor) }))
    }

    // MARK: Einsum

    /// Evaluates an explicit equation (`ab,bc->ac`) by summing over every label assignment.
    static func naiveEinsum(_ equation: String, _ operands: [(shape: [Int], values: [Float])]) -> (shape: [Int], values: [Float]) {
        let sides = equation.components(separatedBy: "->")
        let terms = sides[0].components(separatedBy: ",").map(Array.init)
        let output = Array(sides[1])
        var size: [Character: Int] = [:]
        for (term, operand) in zip(terms, operands) { for (l, n) in zip(term, operand.shape) { size[l] = n } }
        let labels = size.keys.sorted()
        let shape = output.map { size[$0]! }
        var result = [Float](repeating: 0, count: shape.reduce(1, *))
        var index = [Character: Int](uniqueKeysWithValues: labels.map { ($0, 0) })
        func flat(_ term: [Character], _ dims: [Int]) -> Int { zip(term, dims).reduce(0) { $0 * $1.1 + index[$1.0]! } }
        while true {
            var product: Float = 1
            for (term, operand) in zip(terms, operands) { product *= operand.values[flat(term, operand.shape)] }
            result[flat(output, shape)] += product
            var k = labels.count - 1
            while k >= 0 {
                index[labels[k]]! += 1
                if index[labels[k]]! < size[labels[k]]! { break }
                index[labels[k]] = 0
                k -= 1
            }
            if k < 0 { break }
        }
        return (shape, result)
    }

    @Test(arguments: [
        ("bhid,bhjd->bhij", [[1, 2, 3, 4], [1, 2, 5, 4]]),
        ("bhij,bhjd->bhid", [[1, 2, 3, 5], [1, 2, 5, 4]]),
        ("bqd,bkd->bqk", [[2, 3, 4], [2, 5, 4]]),
        ("bqhd,bkhd->bhqk", [[2, 3, 2, 4], [2, 5, 2, 4]]),
        ("ij,jk->ik", [[3, 4], [4, 2]]),
        ("ij->ji", [[3, 4]]),
        ("ij->", [[3, 4]]),
        ("i,i->", [[5], [5]]),
        ("bij,bjk,bkl->bil", [[2, 2, 3], [2, 3, 4], [2, 4, 2]]),
    ])
    func einsumMatchesItsDefinition(_ equation: String, _ shapes: [[Int]]) throws {
        let names = shapes.indices.map { "x\($0)" }
        let bytes = try ModelBuilder.model(
            nodes: [ModelBuilder.node("Einsum", names, ["y"], [ModelBuilder.string("equation", equation)])],
            inputs: zip(names, shapes).map { ($0, $1) }, outputs: ["y"])
        let operands = shapes.enumerated().map { i, s in (shape: s, values: Self.values(s.reduce(1, *), seed: UInt64(i + 1))) }
        let inputs = Dictionary(uniqueKeysWithValues: zip(names, operands).map { ($0, TensorData(shape: $1.shape, floats: $1.values)) })
        let (text, outputs) = try importAndRun(bytes, inputs)
        let want = Self.naiveEinsum(equation, operands)
        let got = try #require(outputs["y"])
        #expect(got.shape == want.shape, "\(equation)")
        #expect(relativeL2(got.floats, want.values) < 1e-6, "\(equation)\n\(text)")
    }

    @Test func einsumForAttentionScoresIsOneTransposedMatmul() throws {
        let bytes = try ModelBuilder.model(
            nodes: [ModelBuilder.node("Einsum", ["q", "k"], ["scores"], [ModelBuilder.string("equation", "bhid,bhjd->bhij")])],
            inputs: [("q", [1, 2, 3, 4]), ("k", [1, 2, 5, 4])], outputs: ["scores"])
        let model = try importONNX(bytes: bytes, path: "test.onnx")
        #expect(printGraph(model.graph) == """
            graph test(%q: f32[1,2,3,4], %k: f32[1,2,5,4]) {
              %scores = matmul(%q, %k, transpose_b=true) : f32[1,2,3,5]
              return %scores
            }

            """)
    }

    @Test func einsumWithADiagonalIsRejected() throws {
        let bytes = try ModelBuilder.model(
            nodes: [ModelBuilder.node("Einsum", ["x"], ["y"], [ModelBuilder.string("equation", "ii->i")])],
            inputs: [("x", [3, 3])], outputs: ["y"])
        let error = try #require(throws: Diagnostic.self) { try importONNX(bytes: bytes, path: "test.onnx") }
        #expect(error.message.contains("repeats 'i' within one operand (a diagonal or trace), which attnc does not support"))
    }

    // MARK: ConstantOfShape

    /// A small fill is a known constant; a large one a broadcast scalar, so that a huge shape
    /// costs nothing at import (found by the onnx fuzz target: 2³¹ elements asked for 16 GiB).
    @Test func constantOfShapeIsFoldedOnlyWhenSmall() throws {
        func imported(_ shape: [Int64]) throws -> String {
            let dims = TensorData(.i64, shape: [shape.count], storage: .integers(shape))
            let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("ConstantOfShape", ["s"], ["y"])],
                                               inputs: [], outputs: ["y"], initializers: [ModelBuilder.tensor("s", dims)])
            return printGraph(try importONNX(bytes: bytes, path: "test.onnx").graph)
        }
        #expect(try imported([2, 3]).contains("constant("))
        let huge = try imported([65536, 65536])
        #expect(huge.contains("%y = broadcast(%0, shape=[65536,65536]) : f32[65536,65536]"), "\(huge)")
    }

    // MARK: Gemm, Softmax, Trilu

    @Test func gemmWithATransposedWeightIsLinear() throws {
        let weight = TensorData(shape: [3, 4], floats: Self.values(12, seed: 3))
        let bias = TensorData(shape: [3], floats: Self.values(3, seed: 4))
        let bytes = try ModelBuilder.model(
            nodes: [ModelBuilder.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], [ModelBuilder.int("transB", 1)])],
            inputs: [("x", [2, 4])], outputs: ["y"],
            initializers: [ModelBuilder.tensor("fc.weight", weight), ModelBuilder.tensor("fc.bias", bias)])
        let model = try importONNX(bytes: bytes, path: "test.onnx")
        #expect(printGraph(model.graph) == """
            graph test(%x: f32[2,4]) {
              weight @fc.weight: f32[3,4]
              weight @fc.bias: f32[3]
              %y = linear(%x, @fc.weight, @fc.bias) : f32[2,3]
              return %y
            }

            """)
        #expect(model.weights == ["fc.weight": weight, "fc.bias": bias])
    }

    @Test func gemmWithScalesMatchesItsDefinition() throws {
        let a = Self.values(12, seed: 5), b = Self.values(8, seed: 6), c = Self.values(2, seed: 7)
        let bytes = try ModelBuilder.model(
            nodes: [ModelBuilder.node("Gemm", ["a", "b", "c"], ["y"],
                                      [ModelBuilder.int("transA", 1), ModelBuilder.float("alpha", 0.5), ModelBuilder.float("beta", 2)])],
            inputs: [("a", [4, 3]), ("b", [4, 2]), ("c", [2])], outputs: ["y"])
        let (_, outputs) = try importAndRun(bytes, ["a": TensorData(shape: [4, 3], floats: a), "b": TensorData(shape: [4, 2], floats: b),
                                                    "c": TensorData(shape: [2], floats: c)])
        var want: [Float] = []
        for i in 0..<3 {
            for j in 0..<2 {
                let dot = (0..<4).reduce(Float(0)) { $0 + a[$1 * 3 + i] * b[$1 * 2 + j] }
                want.append(0.5 * dot + 2 * c[j])
            }
        }
        #expect(relativeL2(try #require(outputs["y"]).floats, want) < 1e-6)
    }

    @Test func softmaxBeforeOpset13NormalizesTheFlattenedTail() throws {
        let x = Self.values(24, seed: 8)
        let bytes = try ModelBuilder.model(opset: 11, nodes: [ModelBuilder.node("Softmax", ["x"], ["y"], [ModelBuilder.int("axis", 1)])],
                                           inputs: [("x", [2, 3, 4])], outputs: ["y"])
        let (text, outputs) = try importAndRun(bytes, ["x": TensorData(shape: [2, 3, 4], floats: x)])
        #expect(text.contains("reshape(%x, shape=[2,12]) : f32[2,12]"))
        var want: [Float] = []
        for row in 0..<2 {
            let slice = x[(row * 12)..<(row * 12 + 12)].map(Double.init)
            let total = slice.map { exp($0 - slice.max()!) }.reduce(0, +)
            want += slice.map { Float(exp($0 - slice.max()!) / total) }
        }
        #expect(relativeL2(try #require(outputs["y"]).floats, want) < 1e-6)
    }

    @Test func softmaxFromOpset13UsesTheAxisAlone() throws {
        let bytes = try ModelBuilder.model(opset: 13, nodes: [ModelBuilder.node("Softmax", ["x"], ["y"], [ModelBuilder.int("axis", 1)])],
                                           inputs: [("x", [2, 3, 4])], outputs: ["y"])
        let model = try importONNX(bytes: bytes, path: "test.onnx")
        #expect(printGraph(model.graph).contains("%y = softmax(%x, axis=1) : f32[2,3,4]"))
    }

    @Test func shapeArithmeticFoldsAway() throws {
        // y = Reshape(x, Concat(Shape(x)[0:1], [-1])): what exporters write for x.flatten(1).
        let starts = ModelBuilder.tensor("starts", TensorData(.i64, shape: [1], storage: .integers([0])))
        let ends = ModelBuilder.tensor("ends", TensorData(.i64, shape: [1], storage: .integers([1])))
        let minusOne = ModelBuilder.tensor("minus_one", TensorData(.i64, shape: [1], storage: .integers([-1])))
        let bytes = try ModelBuilder.model(
            nodes: [ModelBuilder.node("Shape", ["x"], ["shape"]),
                    ModelBuilder.node("Slice", ["shape", "starts", "ends"], ["batch"]),
                    ModelBuilder.node("Concat", ["batch", "minus_one"], ["target"], [ModelBuilder.int("axis", 0)]),
                    ModelBuilder.node("Reshape", ["x", "target"], ["y"])],
            inputs: [("x", [2, 3, 4])], outputs: ["y"], initializers: [starts, ends, minusOne])
        let model = try importONNX(bytes: bytes, path: "test.onnx")
        #expect(printGraph(model.graph) == """
            graph test(%x: f32[2,3,4]) {
              %y = reshape(%x, shape=[2,12]) : f32[2,12]
              return %y
            }

            """)
        #expect(model.weights.isEmpty)
    }

    @Test func triluOfARuntimeTensorSelects() throws {
        let x = Self.values(12, seed: 9)
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Trilu", ["x"], ["y"], [ModelBuilder.int("upper", 0)])],
                                           inputs: [("x", [3, 4])], outputs: ["y"])
        let (text, outputs) = try importAndRun(bytes, ["x": TensorData(shape: [3, 4], floats: x)])
        #expect(text.contains("le(%1, %0) : i1[3,4]"))
        let want = (0..<12).map { $0 % 4 <= $0 / 4 ? x[$0] : 0 }
        #expect(try #require(outputs["y"]).floats == want)
    }

    // MARK: Attention

    /// softmax(Q Kᵀ / √D + causal) V, computed directly.
    static func naiveAttention(_ q: [Float], _ k: [Float], _ v: [Float], heads: Int, s: Int, t: Int, d: Int, causal: Bool) -> [Float] {
        var out: [Float] = []
        for h in 0..<heads {
            for i in 0..<s {
                var scores = (0..<t).map { j -> Double in
                    (0..<d).reduce(0.0) { $0 + Double(q[(h * s + i) * d + $1]) * Double(k[(h * t + j) * d + $1]) } / Double(d).squareRoot()
                }
                if causal { for j in 0..<t where j > i { scores[j] = -.infinity } }
                let top = scores.max()!
                let weights = scores.map { exp($0 - top) }
                let total = weights.reduce(0, +)
                for e in 0..<d {
                    out.append(Float((0..<t).reduce(0.0) { $0 + weights[$1] / total * Double(v[(h * t + $1) * d + e]) }))
                }
            }
        }
        return out
    }

    @Test(arguments: [false, true])
    func attentionMatchesItsDefinition(causal: Bool) throws {
        let (heads, s, d) = (2, 4, 8)
        let q = Self.values(heads * s * d, seed: 10), k = Self.values(heads * s * d, seed: 11), v = Self.values(heads * s * d, seed: 12)
        let bytes = try ModelBuilder.model(
            opset: 23, nodes: [ModelBuilder.node("Attention", ["q", "k", "v"], ["y"], causal ? [ModelBuilder.int("is_causal", 1)] : [])],
            inputs: [("q", [1, heads, s, d]), ("k", [1, heads, s, d]), ("v", [1, heads, s, d])], outputs: ["y"])
        let shape = [1, heads, s, d]
        let (text, outputs) = try importAndRun(bytes, ["q": TensorData(shape: shape, floats: q), "k": TensorData(shape: shape, floats: k),
                                                       "v": TensorData(shape: shape, floats: v)])
        #expect(text.contains("matmul(%q, %k, transpose_b=true) : f32[1,2,4,4]"))
        let want = Self.naiveAttention(q, k, v, heads: heads, s: s, t: s, d: d, causal: causal)
        #expect(relativeL2(try #require(outputs["y"]).floats, want) < 1e-6)
    }
}
