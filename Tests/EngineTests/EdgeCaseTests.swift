import Foundation
import GraphIR
import RandomGraphs
import Testing

/// Hand-built graphs at the edges random graphs reach only by luck: vector tails in every
/// position, matmul tile and k-chunk edges, transposes, batch broadcasting, grouped and padded
/// convolutions, softmax and reductions over inner axes, strided data movement, and i1 and
/// integer values stored to memory between kernels.
@Suite struct EdgeCaseTests {
    /// Runs `graph` on random inputs and weights and records every disagreement with its text.
    /// Unoptimised and optimised.
    static func check(_ graph: Graph, seed: UInt64 = 1, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: seed), weights: randomWeights(for: graph, seed: seed))
        guard !result.allProblems.isEmpty else { return }
        Issue.record(Comment(rawValue: "\(result.allProblems.joined(separator: "\n"))\n\(printGraph(graph))"), sourceLocation: sourceLocation)
    }

    static func build(_ name: String, _ body: (GraphBuilder) -> Void) throws -> Graph {
        let builder = GraphBuilder(name)
        body(builder)
        return try builder.finish()
    }

    static let tailSizes = [1, 7, 9, 33, 65]

    /// Each odd size in each position of a rank-3 elementwise op, with the other operand
    /// broadcast along that position or not, and a strided (transposed) read.
    @Test(arguments: tailSizes)
    func elementwiseTails(size: Int) throws {
        let graph = try Self.build("tails_\(size)") { b in
            for position in 0..<3 {
                var shape = [3, 5, 2]
                shape[position] = size
                let x = b.input("x\(position)", TensorType(.f32, dims: shape))
                var narrow = shape
                narrow[position] = 1
                let y = b.weight("w\(position)", TensorType(.f32, dims: narrow))
                b.output((x * y + x.sigmoid()).maximum(y), as: "sum\(position)")
                b.output(x.transpose([2, 0, 1]).exp() - 1.0, as: "transposed\(position)")
                b.output((x.abs() + 0.5).log() / (y.abs() + 0.5), as: "log\(position)")
            }
        }
        Self.check(graph)
    }

    static let matmulSizes = [1, 5, 6, 7, 17, 33, 65, 300]

    /// M and N over every size in `matmulSizes`: the 6-row and 16-column register tile edges,
    /// vector tails, and (300) more panels than one cache block. K cycles through 1, 7, 33 and 300
    /// (past the 256-wide k chunk) and the transpose flags through all four combinations, so
    /// every M×N pair is one matmul; one graph per M keeps the compile count low (compiling, not
    /// running, is what costs here).
    @Test(arguments: matmulSizes.indices)
    func matmulEdges(row: Int) throws {
        let m = Self.matmulSizes[row]
        let contractions = [1, 7, 33, 300]
        let graph = try Self.build("matmul_m\(m)") { b in
            for (j, n) in Self.matmulSizes.enumerated() {
                var choice = (row + j) % contractions.count
                // Keep the interpreter's work (it runs in a debug build) modest.
                while choice > 0 && m * n * contractions[choice] > 400_000 { choice -= 1 }
                let k = contractions[choice]
                let (ta, tb) = (j % 2 == 1, (j + row) % 4 >= 2)
                let a = b.weight("a\(j)", TensorType(.f32, dims: ta ? [k, m] : [m, k]))
                let w = b.weight("b\(j)", TensorType(.f32, dims: tb ? [n, k] : [k, n]))
                b.output(a.matmul(w, transposeA: ta, transposeB: tb), as: "c\(j)_\(m)x\(n)x\(k)\(ta ? "_ta" : "")\(tb ? "_tb" : "")")
            }
        }
        let result = runDifferential(graph, inputs: [:], weights: randomWeights(for: graph, seed: 1), variants: [.asBuilt])
        #expect(result.allProblems.isEmpty, "\(result.allProblems.joined(separator: "\n"))\n\(printGraph(graph))")
    }

    /// Every M, N and K in `matmulSizes` at least once with K past the chunk, in one graph.
    @Test func matmulContractionEdges() throws {
        let graph = try Self.build("matmul_k") { b in
            for (j, k) in Self.matmulSizes.enumerated() {
                let (m, n) = (Self.matmulSizes[(j + 3) % 8], Self.matmulSizes[(j + 5) % 8])
                let scale = m * n * k > 400_000 ? 1 : 0
                let (rows, columns) = scale == 1 ? (1, n) : (m, n)
                let a = b.weight("a\(j)", TensorType(.f32, dims: [rows, k]))
                let w = b.weight("b\(j)", TensorType(.f32, dims: [columns, k]))
                b.output(a.matmul(w, transposeB: true), as: "c\(j)_\(rows)x\(columns)x\(k)")
            }
        }
        let result = runDifferential(graph, inputs: [:], weights: randomWeights(for: graph, seed: 2), variants: [.asBuilt])
        #expect(result.allProblems.isEmpty, "\(result.allProblems.joined(separator: "\n"))\n\(printGraph(graph))")
    }

    /// Batch dims broadcast from either side and rank differences, with transposes.
    @Test func batchedMatmulBroadcasting() throws {
        let graph = try Self.build("batched") { b in
            let a = b.input("a", f32[2, 1, 7, 33])
            let c = b.input("c", f32[3, 33, 17])
            let d = b.input("d", f32[1, 3, 17, 33])
            let e = b.input("e", f32[33, 9])
            b.output(a.matmul(c), as: "ac")
            b.output(a.matmul(d, transposeB: true), as: "adt")
            b.output(c.matmul(a, transposeA: true, transposeB: true), as: "cTaT")
            b.output(a.matmul(e), as: "ae")
            b.output(e.matmul(a, transposeA: true, transposeB: true), as: "eTaT")
        }
        Self.check(graph)
    }

    /// Linear with and without bias over more rows than a register tile, on a 3-D input.
    @Test func linearLayers() throws {
        let graph = try Self.build("linear") { b in
            let x = b.input("x", f32[3, 17, 65])
            b.output(x.linear(b.weight("fc1.weight", f32[33, 65]), b.weight("fc1.bias", f32[33])), as: "biased")
            b.output(x.linear(b.weight("fc2.weight", f32[7, 65])), as: "plain")
            b.output(b.input("v", f32[300]).linear(b.weight("fc3.weight", f32[5, 300]), b.weight("fc3.bias", f32[5])), as: "vector")
        }
        Self.check(graph)
    }

    /// Grouped, depthwise, strided, dilated and asymmetrically padded convolutions, with and
    /// without bias, and 1×1 convolutions with and without groups.
    @Test func convolutions() throws {
        let graph = try Self.build("convolutions") { b in
            let x = b.input("x", f32[2, 6, 9, 17])
            b.output(x.conv2d(b.weight("grouped.weight", f32[9, 2, 3, 3]), b.weight("grouped.bias", f32[9]),
                              padding: Padding2D(top: 1, left: 2, bottom: 0, right: 1), groups: 3), as: "grouped")
            b.output(x.conv2d(b.weight("depthwise.weight", f32[6, 1, 5, 5]), padding: Padding2D(2, 2), groups: 6), as: "depthwise")
            b.output(x.conv2d(b.weight("strided.weight", f32[4, 6, 7, 3]), b.weight("strided.bias", f32[4]), stride: [2, 3],
                              padding: Padding2D(top: 3, left: 0, bottom: 2, right: 1), dilation: [1, 2]), as: "strided")
            b.output(x.conv2d(b.weight("pointwise.weight", f32[17, 6, 1, 1]), b.weight("pointwise.bias", f32[17])), as: "pointwise")
            b.output(x.conv2d(b.weight("pointwise_groups.weight", f32[4, 3, 1, 1]), groups: 2), as: "pointwise_groups")
            b.output(x.conv2d(b.weight("pointwise_strided.weight", f32[3, 6, 1, 1]), stride: [2, 2]), as: "pointwise_strided")
        }
        Self.check(graph)
    }

    /// Pooling with padding, ceil mode and both divisor conventions.
    @Test func pooling() throws {
        let graph = try Self.build("pooling") { b in
            let x = b.input("x", f32[2, 3, 9, 7])
            let a = b.apply(.pool2d(.average, Pool2DAttributes(kernel: [3, 2], stride: [2, 2], padding: Padding2D(top: 1, left: 1, bottom: 1, right: 0),
                                                               ceilMode: true, countIncludePad: true)), [x])[0]
            let c = b.apply(.pool2d(.average, Pool2DAttributes(kernel: [3, 3], stride: [2, 3], padding: Padding2D(1, 1),
                                                               ceilMode: true, countIncludePad: false)), [x])[0]
            let m = b.apply(.pool2d(.max, Pool2DAttributes(kernel: [4, 3], stride: [3, 2], padding: Padding2D(top: 2, left: 0, bottom: 1, right: 1),
                                                           dilation: [1, 2], ceilMode: true)), [x])[0]
            b.output(a, as: "avg_pad")
            b.output(c, as: "avg_valid")
            b.output(m, as: "max")
        }
        Self.check(graph)
    }

    /// Softmax over every axis of a rank-4 value, layer norm over trailing dims.
    @Test func softmaxAndNormalisationOverInnerAxes() throws {
        let graph = try Self.build("softmax") { b in
            let x = b.input("x", f32[3, 17, 9, 5])
            for axis in -4..<4 { b.output(x.softmax(axis: axis), as: "softmax\(axis < 0 ? "_m\(-axis)" : "\(axis)")") }
            b.output(x.layerNorm(b.weight("ln.weight", f32[9, 5]), b.weight("ln.bias", f32[9, 5]), axis: 2), as: "layer_norm")
            b.output(x.layerNorm(axis: 0), as: "layer_norm_all")
        }
        Self.check(graph)
    }

    /// Reductions over adjacent, non-adjacent and all axes, with keepdims, and around size-1 dims.
    @Test func reductions() throws {
        let graph = try Self.build("reductions") { b in
            let x = b.input("x", f32[5, 1, 9, 33])
            b.output(x.sum(axes: [0, 2]), as: "sum_0_2")
            b.output(x.mean(axes: [0, 3], keepDims: true), as: "mean_0_3")
            b.output(x.amax(axes: [-1, 0]), as: "amax_3_0")
            b.output(x.amin(axes: [1, 3]), as: "amin_1_3")
            b.output(x.sum(), as: "sum_all")
            b.output(x.mean(axes: [2]), as: "mean_2")
            b.output(x.amax(axes: [0, 1, 2], keepDims: true), as: "amax_0_1_2")
        }
        Self.check(graph)
    }

    /// Concat, split and slice with steps, negative steps and clamped bounds.
    @Test func stridedDataMovement() throws {
        let graph = try Self.build("movement") { b in
            let x = b.input("x", f32[7, 9, 33])
            let y = b.input("y", f32[7, 2, 33])
            b.output(concat([x, y, x], axis: 1), as: "concat1")
            b.output(concat([x.transpose([0, 2, 1]), y.transpose([0, 2, 1])], axis: -1), as: "concat_transposed")
            let parts = x.split(axis: 2, sizes: [1, 16, 16])
            b.output(parts[0], as: "part0")
            b.output(parts[2] * 2.0, as: "part2")
            b.output(x.slice(axes: [2, 0], starts: [-1, 1], ends: [-100, 100], steps: [-3, 2]), as: "reversed")
            b.output(x.slice(axes: [1], starts: [1], ends: [9], steps: [3]), as: "stepped")
        }
        Self.check(graph)
    }

    /// Masks and integers that go through memory between kernels: comparisons to i1 buffers,
    /// logic on them, transposes and concats of i1 and i32 values, integer arithmetic and casts.
    @Test func booleanAndIntegerIntermediates() throws {
        let graph = try Self.build("masks") { b in
            let x = b.input("x", f32[3, 9, 17])
            let row = b.iota(i32[9, 17], axis: 0), column = b.iota(i32[9, 17], axis: 1)
            let causal = b.apply(.binary(.gt), [column, row])[0]
            let positive = b.apply(.binary(.gt), [x, b.constant(0)])[0]
            let both = b.apply(.binary(.and), [causal, positive])[0]
            b.output(both.transpose([0, 2, 1]), as: "mask_transposed")
            b.output(concat([both, b.apply(.unary(.not), [both])[0]], axis: 1), as: "mask_concat")
            b.output(select(both, x, b.constant(-.infinity)).softmax(axis: -1), as: "masked_softmax")
            let integers = (x * 4.0).cast(to: .i32)
            let shifted = b.apply(.binary(.add), [integers, column])[0]
            b.output(shifted.transpose([2, 1, 0]), as: "integers")
            b.output(shifted.cast(to: .f32) * 0.5, as: "integers_as_floats")
        }
        Self.check(graph)
    }

    /// Rows longer than an elementwise task's column tile (16384), with an index read, a
    /// broadcast operand and a strided read, so that several tiles share a row.
    @Test func rowsLongerThanOneTile() throws {
        let graph = try Self.build("long_rows") { b in
            let x = b.input("x", f32[2, 40_000])
            let position = b.iota(f32[2, 40_000], axis: 1)
            b.output(x * b.weight("scale", f32[2, 1]) + position * 0.001, as: "scaled")
            b.output(x.slice(axes: [1], starts: [39_999], ends: [-40_001], steps: [-1]), as: "reversed")
            b.output(x.transpose([1, 0]).sum(axes: [1]), as: "column_sums")
        }
        Self.check(graph)
    }

    /// Convolutions and batched matmuls whose k (channels · taps, or the contracted dim) spans
    /// several 256-wide chunks, with a bias and broadcast batch dims.
    @Test func longContractions() throws {
        let graph = try Self.build("long_k") { b in
            let x = b.input("x", f32[2, 16, 9, 7])
            b.output(x.conv2d(b.weight("conv.weight", f32[5, 16, 5, 7]), b.weight("conv.bias", f32[5]), padding: Padding2D(2, 3)), as: "conv")
            b.output(x.conv2d(b.weight("grouped.weight", f32[4, 8, 7, 7]), b.weight("grouped.bias", f32[4]),
                              padding: Padding2D(top: 3, left: 3, bottom: 2, right: 3), groups: 2), as: "grouped")
            let a = b.input("a", f32[3, 1, 7, 600])
            let c = b.input("c", f32[2, 600, 9])
            b.output(a.matmul(c), as: "batched")
            b.output(c.matmul(a, transposeA: true, transposeB: true), as: "batched_transposed")
        }
        Self.check(graph)
    }

    /// Rank-0 values and size-1 everything: scalar inputs, reductions to scalars, softmax over a
    /// single element, a 1×1×1 matmul.
    @Test func scalarsAndSingletons() throws {
        let graph = try Self.build("singletons") { b in
            let s = b.input("s", f32[])
            let v = b.input("v", f32[1, 1, 1])
            b.output(s * 3.0 + s.exp(), as: "scalar")
            b.output(v.softmax(axis: 1), as: "softmax")
            b.output(v.matmul(v, transposeB: true), as: "matmul")
            b.output(v.sum(), as: "sum")
            b.output(v.layerNorm(axis: 0), as: "layer_norm")
            b.output((v + s).amax(axes: [0, 2], keepDims: true), as: "amax")
        }
        Self.check(graph)
    }

    /// Special values through every kind of kernel: NaN and ±inf in the inputs must come out
    /// where the interpreter puts them (seeded inputs with one float in 64 special).
    @Test func specialValuesPropagate() throws {
        let graph = try Self.build("special") { b in
            let x = b.input("x", f32[3, 9, 17])
            let w = b.weight("w", f32[17, 9])
            b.output(x.relu().maximum(x * 0.5).minimum(x + 1.0), as: "elementwise")
            b.output(x.matmul(w), as: "matmul")
            b.output(x.softmax(axis: 1), as: "softmax")
            b.output(x.amax(axes: [0, 2]), as: "amax")
            b.output(x.sum(axes: [1]), as: "sum")
            b.output(x.unsqueeze([0]).maxPool2d(kernel: [2, 3], stride: [1, 2], padding: Padding2D(1, 1)), as: "max_pool")
            b.output(x.pow(0.5), as: "pow_half")
            b.output(x.pow(2), as: "pow_two")
            b.output(x.pow(-1), as: "pow_minus_one")
        }
        for seed in UInt64(1)...4 {
            let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: seed, specialValues: true),
                                         weights: randomWeights(for: graph, seed: seed))
            #expect(result.allProblems.isEmpty, "seed \(seed):\n\(result.allProblems.joined(separator: "\n"))")
        }
    }

    /// Tensors with a zero-sized dim, which the IR allows (an empty slice or split piece): a
    /// matmul over an empty k must still write its result (zeros), also when that result lives
    /// in arena memory an earlier kernel wrote; a linear over an empty k gives its bias.
    @Test func emptyTensors() throws {
        let graph = try Self.build("empty") { b in
            let x = b.input("x", f32[3, 5])
            let earlier = (x * 2.0).exp()
            b.output(earlier.sum(axes: [1]), as: "earlier")
            let pieces = x.split(axis: 1, sizes: [5, 0])
            let empty = pieces[1]
            let product = empty.matmul(b.weight("w", f32[0, 7]))
            b.output(product + 1.0, as: "product")
            b.output(empty.linear(b.weight("lw", f32[4, 0]), b.weight("lb", f32[4])), as: "linear")
            b.output(empty.sum(axes: [1]), as: "sum")
            b.output(empty.amax(axes: [1]), as: "amax")
            b.output(empty.mean(axes: [1]), as: "mean")
            b.output(x.slice(axes: [0], starts: [2], ends: [1]), as: "empty_slice")
        }
        Self.check(graph)
    }

    /// Every reduction over every single axis and every pair of axes of a rank-4 value with
    /// odd sizes (rows, columns and slabs of the column reductions, masked tails), in f32 and
    /// for sum, amax and amin also in i32 and i1.
    @Test func reductionsOverEveryAxis() throws {
        let graph = try Self.build("every_axis") { b in
            let x = b.input("x", f32[3, 9, 33, 5])
            // Clamped first: casting ±inf to i32 saturates at the i64 range in the interpreter.
            let integers = b.apply(.cast(to: .i32), [(x * 8.0).maximum(b.constant(-1000)).minimum(b.constant(1000))])[0]
            let booleans = b.apply(.binary(.gt), [x, b.constant(0.5)])[0]
            let axesList = (0..<4).map { [$0] } + (0..<4).flatMap { a in ((a + 1)..<4).map { [a, $0] } }
            for axes in axesList {
                let tag = axes.map(String.init).joined()
                b.output(x.sum(axes: axes), as: "sum\(tag)")
                b.output(x.mean(axes: axes, keepDims: true), as: "mean\(tag)")
                b.output(x.amax(axes: axes), as: "amax\(tag)")
                b.output(x.amin(axes: axes), as: "amin\(tag)")
                b.output(b.apply(.reduce(.sum, axes: axes, keepDims: false), [integers])[0], as: "isum\(tag)")
                b.output(b.apply(.reduce(.amax, axes: axes, keepDims: false), [integers])[0], as: "imax\(tag)")
                b.output(b.apply(.reduce(.amin, axes: axes, keepDims: false), [booleans])[0], as: "all\(tag)")
            }
        }
        for seed in UInt64(1)...2 {
            let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: seed, specialValues: seed == 2),
                                         weights: [:], variants: [.asBuilt])
            #expect(result.allProblems.isEmpty, "seed \(seed):\n\(result.allProblems.joined(separator: "\n"))")
        }
    }
}
