import Codegen
import GraphIR
import RandomGraphs
import Reference
import Testing

/// Gather compiled through the JIT against the interpreter, on the host's vectors and on AVX2's,
/// 1, 2 and 3 threads: along the first, a middle and the last axis (runs of many elements, of
/// a tail's worth, of one), i32 and i64 indices, negative ones, a scalar index (the axis drops
/// out), indices past either end (the interpreter's zeros), and every element width.
@Suite struct GatherTests {
    static let sizes = [1, 7, 33, 65]

    /// `count` indices for an axis of `size`, spread over `[-size, size)`: negative ones count
    /// from the end.
    static func indices(_ type: ElementType, _ shape: [Int], axisSize size: Int, seed: Int) -> TensorData {
        let count = shape.reduce(1, *)
        return TensorData(type, shape: shape, doubles: (0..<count).map { Double(($0 * 7 + seed) % (2 * size) - size) })
    }

    /// Runs `graph` on random data and the given indices, for every test target.
    static func check(_ graph: Graph, indices: [String: TensorData], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        var inputs = randomInputs(for: graph, seed: 3)
        inputs.merge(indices) { $1 }
        let weights = randomWeights(for: graph, seed: 3)
        let problems = try TestTargets.problems(graph, inputs: inputs, weights: weights)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n\(printGraph(graph))", sourceLocation: sourceLocation)
    }

    static func gather(_ data: TensorValue, _ indices: TensorValue, axis: Int) -> TensorValue {
        data.builder.apply(.gather(axis: axis), [data, indices])[0]
    }

    /// Data `[size, 3, size]`: along axis 0 every run is `3·size` elements, along axis 1 `size`
    /// (1, 7, 33, 65: a scalar, a masked tail, vectors and a tail), along the last axis one.
    @Test(arguments: sizes)
    func gatherAlongEveryAxis(size: Int) throws {
        let shapes: [(axis: Int, type: ElementType, shape: [Int])] = [
            (0, .i64, [2, 3]), (0, .i32, [4]), (1, .i64, [5]), (1, .i32, [2, 2]), (-1, .i64, [3, 1, 2]), (2, .i32, [6]),
            (1, .i64, []), (-1, .i32, []),
        ]
        let builder = GraphBuilder("gather_\(size)")
        let data = builder.input("data", TensorType(.f32, dims: [size, 3, size]))
        var indices: [String: TensorData] = [:]
        for (i, (axis, type, shape)) in shapes.enumerated() {
            let name = "ids\(i)"
            let ids = builder.input(name, TensorType(type, dims: shape))
            indices[name] = Self.indices(type, shape, axisSize: [size, 3, size][(axis + 3) % 3], seed: i)
            builder.output(Self.gather(data, ids, axis: axis), as: "axis\(axis)_\(type.rawValue)_\(i)")
        }
        try Self.check(try builder.finish(), indices: indices)
    }

    /// Indices past either end after wrapping read zeros in the interpreter (ONNX leaves them
    /// undefined); the compiled code writes the same zeros and reads nothing out of bounds.
    @Test func indicesOutsideTheAxisGiveZeros() throws {
        let builder = GraphBuilder("gather_outside")
        let data = builder.input("data", TensorType(.f32, dims: [4, 5, 9]))
        let ids = builder.input("ids", TensorType(.i64, dims: [6]))
        builder.output(Self.gather(data, ids, axis: 1), as: "middle")
        builder.output(Self.gather(data, ids, axis: 0), as: "first")
        let graph = try builder.finish()
        let outside = TensorData(.i64, shape: [6], doubles: [5, -6, 1_000_000, -1_000_000, -1, 0])
        let expected = try ReferenceInterpreter.run(graph, inputs: ["data": randomInputs(for: graph, seed: 3)["data"]!, "ids": outside], weights: [:])
        // Indices 5, -6 and the big ones are outside the middle axis: in every [6, 9] block of the
        // result, rows 0...3 are zero and rows 4 and 5 are not.
        let middle = expected[0].tensor.doubles
        for block in 0..<4 {
            #expect(middle[(block * 54)..<(block * 54 + 36)].allSatisfy { $0 == 0 })
            #expect(middle[(block * 54 + 36)..<(block * 54 + 54)].contains { $0 != 0 })
        }
        try Self.check(graph, indices: ["ids": outside])
    }

    /// Runs of 1-, 4- and 8-byte elements (i1 masks, i32 and i64 values) copy bit for bit, with
    /// their own vector widths and tails; constant indices come from the code.
    @Test func everyElementWidth() throws {
        let builder = GraphBuilder("gather_types")
        let x = builder.input("x", TensorType(.f32, dims: [5, 37]))
        let ids = builder.input("ids", TensorType(.i32, dims: [3]))
        let isPositive = builder.apply(.binary(.gt), [x, builder.constant(0)])[0]
        builder.output(Self.gather(isPositive, ids, axis: 0), as: "mask")
        builder.output(Self.gather((x * 8).cast(to: .i64), ids, axis: 0), as: "wide")
        builder.output(Self.gather((x * 8).cast(to: .i32), ids, axis: 0), as: "narrow")
        let fixed = builder.constant([4, -5, 2, 0], TensorType(.i64, dims: [2, 2]))
        builder.output(Self.gather(select(isPositive, x, builder.constant(-1)), fixed, axis: 0), as: "constant_indices")
        try Self.check(try builder.finish(), indices: ["ids": TensorData(.i32, shape: [3], doubles: [-1, 3, 0])])
    }

    /// An embedding lookup feeding a linear layer, the way graph attention gathers neighbours.
    @Test func embeddingLookupFeedsAMatmul() throws {
        let builder = GraphBuilder("embedding")
        let table = builder.weight("table", TensorType(.f32, dims: [50, 33]))
        let weight = builder.weight("proj.weight", TensorType(.f32, dims: [17, 33]))
        let ids = builder.input("ids", TensorType(.i64, dims: [2, 9]))
        builder.output(Self.gather(table, ids, axis: 0).linear(weight), as: "projected")
        try Self.check(try builder.finish(), indices: ["ids": Self.indices(.i64, [2, 9], axisSize: 50, seed: 11)])
    }
}
