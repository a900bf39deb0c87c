import GraphIR

/// Why a graph cannot be planned: unbound symbols or an op the code generator lacks.
public struct PlanError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Lowers a graph with static shapes to a kernel plan.
///
/// - View ops (reshape, squeeze, unsqueeze, identity) become no kernel: their result shares the
///   operand's buffer.
/// - Elementwise ops (batch norm and the `elementwise` ops fusion makes included) become one
///   kernel each. Constants, iotas and expressions built only from them (masks) are folded into
///   every elementwise user that reads them instead of getting a buffer; longer chains are fused
///   by the FuseElementwise pass, so `--no-fuse` shows the unfused cost.
/// - Transposes, slices, concats, splits and broadcasts become elementwise kernels over strided
///   accesses.
/// - Matmul, linear and conv2d become pack kernels and a matmul kernel on packed panels;
///   conv_transpose2d becomes the same plus a col2im kernel (see `PlanConvTranspose.swift`).
/// - Gather becomes one copy kernel (see `PlanGather.swift`).
/// - Graph outputs are written in place by their producers; a copy kernel is added only when an
///   output is an input, a weight, a constant or another output.
/// - Arena buffers get offsets by liveness.
///
/// With `hoistWeightPacking`, packing a weight or constant matrix becomes a setup kernel that
/// runs once into a persistent buffer, instead of on every run.
public func planKernels(_ graph: Graph, tile: MatmulTile, hoistWeightPacking: Bool = true) throws -> KernelPlan {
    var planner = KernelPlanner(graph: graph, tile: tile)
    planner.hoistWeightPacking = hoistWeightPacking
    try planner.run()
    return planner.plan
}

struct KernelPlanner {
    let graph: Graph
    let tile: MatmulTile
    var plan: KernelPlan
    var classes: StorageClasses
    /// The buffer of each storage class root.
    var classBuffer: [Int: BufferID] = [:]
    /// Values computed inside the kernels of their users instead of stored.
    var fused: Set<ValueID> = []
    /// Fused values whose expressions read no memory (constants, iotas, masks built from them).
    var loadFree: Set<ValueID> = []
    /// Transposes and reshapes read through strides instead of copied (see `findFoldedViews`).
    var foldedViews: Set<ValueID> = []
    var hoistWeightPacking = false
    /// Packed panels already made, by the pack kernel's text (its source, shape and tile).
    var packedOperands: [String: BufferID] = [:]
    /// Attention results written straight into their transpose's buffer, with the strides.
    var writtenTransposed: [ValueID: (target: ValueID, strides: [Int])] = [:]

    init(graph: Graph, tile: MatmulTile) {
        self.graph = graph
        self.tile = tile
        plan = KernelPlan(graphName: graph.name)
        classes = StorageClasses(graph)
    }

    mutating func run() throws {
        for value in graph.values where value.type.staticShape == nil {
            throw PlanError("value \(value.name.map { "'\($0)'" } ?? "") has symbolic type \(value.type); bind its dims first")
        }
        findFusedValues()
        findFoldedViews()
        assignStorage()
        for node in graph.nodes { try lower(node) }
        copyAliasedOutputs()
        placeArena()
    }

    // MARK: Storage

    /// Decides which values fuse into their users (see the type's doc comment).
    private mutating func findFusedValues() {
        let users = graph.users()
        let outputs = Set(graph.outputs)
        for node in graph.nodes where KernelPlanner.isElementwise(node.op) {
            let id = node.results[0]
            let readers = users[id.index]
            // Attention reads its mask through an expression too.
            let folds = { (reader: NodeID) -> Bool in
                let op = self.graph[reader].op
                if case .attention(let a) = op {
                    // Every operand after the fixed ones: the mask, the select predicate and fill.
                    let operands = self.graph[reader].operands
                    return operands.indices.allSatisfy { operands[$0] != id || $0 >= a.fixedOperandCount }
                }
                return KernelPlanner.foldsOperands(op)
            }
            guard !outputs.contains(id), !readers.isEmpty, readers.allSatisfy(folds) else { continue }
            if node.operands.allSatisfy(loadFree.contains) {
                fused.insert(id)
                loadFree.insert(id)
            }
        }
    }

    /// Ops lowered to an elementwise expression over their result's shape.
    static func isElementwise(_ op: Op) -> Bool {
        switch op {
        case .constant(.splat), .iota, .batchNorm, .elementwise: return true
        default: return foldsOperands(op)
        }
    }

    /// Ops whose kernel reads operands through broadcast-aligned expressions.
    static func foldsOperands(_ op: Op) -> Bool {
        switch op {
        case .unary(let f): return f != .identity
        case .binary, .select, .cast, .broadcast, .elementwise: return true
        default: return false
        }
    }

    private mutating func assignStorage() {
        for (i, id) in graph.inputs.enumerated() {
            let buffer = addBuffer(for: id, storage: .input(i))
            plan.inputs.append(buffer)
            classBuffer[classes.root(id)] = buffer
        }
        for (i, id) in graph.weights.enumerated() {
            let buffer = addBuffer(for: id, storage: .weight(i))
            plan.weights.append(buffer)
            classBuffer[classes.root(id)] = buffer
        }
        for node in graph.nodes {
            if case .constant(.elements(let values)) = node.op {
                let id = node.results[0]
                let type = graph.type(of: id)
                let data = TensorData(type.elementType, shape: type.staticShape!, doubles: values)
                classBuffer[classes.root(id)] = addBuffer(for: id, storage: .constant(data))
            }
        }
        for (i, id) in graph.outputs.enumerated() {
            let root = classes.root(id)
            let buffer = addBuffer(for: id, storage: .output(i))
            plan.outputs.append(buffer)
            // A class that already has memory (an input, weight, constant or earlier output)
            // keeps it; `copyAliasedOutputs` copies into this output afterwards.
            if classBuffer[root] == nil { classBuffer[root] = buffer }
        }
    }

    private mutating func addBuffer(for id: ValueID, storage: BufferStorage) -> BufferID {
        let type = graph.type(of: id)
        return plan.addBuffer(PlanBuffer(name: graph[id].name ?? "", elementType: type.elementType,
                                         elementCount: type.elementCount!, storage: storage))
    }

    /// The buffer holding `id`, creating an arena buffer for its class on first use.
    mutating func buffer(of id: ValueID) -> BufferID {
        let root = classes.root(id)
        if let buffer = classBuffer[root] { return buffer }
        let buffer = addBuffer(for: id, storage: .arena(offset: 0))
        classBuffer[root] = buffer
        return buffer
    }

    /// A scratch arena buffer of `floats` elements: packed panels, or a transposed copy (of
    /// `elementType`, so that i64 and i1 copies get their own element size).
    mutating func scratch(_ name: String, floats: Int, elementType: ElementType = .f32) -> BufferID {
        plan.addBuffer(PlanBuffer(name: name, elementType: elementType, elementCount: floats, storage: .arena(offset: 0)))
    }

    private mutating func copyAliasedOutputs() {
        for (i, id) in graph.outputs.enumerated() {
            let source = buffer(of: id)
            let output = plan.outputs[i]
            guard source != output else { continue }
            let type = graph.type(of: id)
            let shape = type.staticShape!
            plan.kernels.append(.elementwise(ElementwiseKernel(
                shape: shape, output: Access(buffer: output, offset: 0, strides: rowMajorStrides(shape)), outputType: type.elementType,
                expression: .load(Access(buffer: source, offset: 0, strides: rowMajorStrides(shape)), type.elementType))))
        }
    }

    private mutating func placeArena() {
        var first: [BufferID: Int] = [:], last: [BufferID: Int] = [:]
        for (k, kernel) in plan.kernels.enumerated() {
            for buffer in kernel.buffers {
                if first[buffer] == nil { first[buffer] = k }
                last[buffer] = k
            }
        }
        var arena: [BufferID] = []
        for (i, buffer) in plan.buffers.enumerated() {
            if case .arena = buffer.storage, first[BufferID(i)] != nil { arena.append(BufferID(i)) }
        }
        let (offsets, total) = planArena(sizes: arena.map { plan[$0].byteCount },
                                         lifetimes: arena.map { first[$0]!...last[$0]! })
        for (buffer, offset) in zip(arena, offsets) { plan[buffer].storage = .arena(offset: offset) }
        plan.arenaBytes = total
    }

    // MARK: Accesses

    /// Reads `id` at every point of an iteration space of `shape` under numpy broadcasting.
    mutating func broadcastAccess(_ id: ValueID, to shape: [Int]) -> Access {
        let own = graph.type(of: id).staticShape!
        var access = access(of: id)
        let offset = shape.count - own.count
        access.strides = shape.indices.map { i in
            let j = i - offset
            return j < 0 || own[j] == 1 ? 0 : access.strides[j]
        }
        return access
    }

    /// The expression for `id` at a point of a user's iteration space `shape`: a load, or the
    /// producer's own expression when `id` is fused.
    mutating func operandExpression(_ id: ValueID, in shape: [Int]) -> ScalarExpression {
        guard fused.contains(id), let producer = graph.producer(of: id) else {
            return .load(broadcastAccess(id, to: shape), graph.type(of: id).elementType)
        }
        let own = graph.type(of: id).staticShape!
        let expression = elementwiseExpression(producer)
        guard own != shape else { return expression }
        // Only load-free expressions are fused across a broadcast: re-align their index dims.
        let offset = shape.count - own.count
        return expression.replacingIndices { d, type in own[d] == 1 ? .constant(0, type) : .index(dim: d + offset, type) }
    }

    /// An elementwise node's expression over its result's shape.
    mutating func elementwiseExpression(_ node: Node) -> ScalarExpression {
        let type = graph.type(of: node.results[0])
        let shape = type.staticShape!
        func operand(_ i: Int) -> ScalarExpression { operandExpression(node.operands[i], in: shape) }
        switch node.op {
        case .constant(.splat(let x)):
            return .constant(x, type.elementType)
        case .iota(let axis):
            let a = axis < 0 ? axis + shape.count : axis
            // An iota along a size-1 dim is 0 everywhere.
            return shape[a] == 1 ? .constant(0, type.elementType) : .index(dim: a, type.elementType)
        case .unary(let f): return .unary(f, operand(0))
        case .binary(let f): return .binary(f, operand(0), operand(1))
        case .select: return .select(operand(0), operand(1), operand(2))
        case .cast(let to): return .cast(operand(0), to: to)
        case .broadcast: return operand(0)
        case .batchNorm(let epsilon): return batchNormExpression(node, epsilon: epsilon)
        case .elementwise(let expression): return scalarExpression(expression) { operand($0) }
        default: preconditionFailure("\(node.op.mnemonic) is not elementwise")
        }
    }

    mutating func emitElementwise(_ result: ValueID, _ expression: ScalarExpression) {
        let type = graph.type(of: result)
        let shape = type.staticShape!
        plan.kernels.append(.elementwise(ElementwiseKernel(
            shape: shape, output: Access(buffer: buffer(of: result), offset: 0, strides: rowMajorStrides(shape)),
            outputType: type.elementType, expression: expression)))
    }

    // MARK: Ops

    private mutating func lower(_ node: Node) throws {
        let result = node.results[0]
        let shape = graph.type(of: result).staticShape!
        switch node.op {
        case .reshape, .squeeze, .unsqueeze, .unary(.identity):
            return
        case .constant(.elements):
            return
        case .constant(.splat), .iota, .unary, .binary, .select, .cast, .broadcast, .batchNorm, .elementwise:
            if !fused.contains(result) { emitElementwise(result, elementwiseExpression(node)) }
        case .transpose(let permutation):
            // Folded into its readers, or already written in this layout by its producer.
            if foldedViews.contains(result) || writtenTransposed[node.operands[0]]?.target == result { return }
            var access = access(of: node.operands[0])
            access.strides = permutation.map { access.strides[$0] }
            emitElementwise(result, .load(access, graph.type(of: result).elementType))
        case .slice(let axes, let starts, let ends, let steps):
            lowerSlice(node.operands[0], result, axes: axes, starts: starts, ends: ends, steps: steps)
        case .split(let axis, let sizes):
            let rank = shape.count
            let a = axis < 0 ? axis + rank : axis
            var start = 0
            for (id, size) in zip(node.results, sizes) {
                lowerSlice(node.operands[0], id, axes: [a], starts: [start], ends: [start + size], steps: [1])
                start += size
            }
        case .concat(let axis):
            lowerConcat(node, axis: axis < 0 ? axis + shape.count : axis)
        case .reduce(let f, let axes, _):
            lowerReduce(node.operands[0], result, f, axes: axes)
        case .softmax(let axis):
            let a = axis < 0 ? axis + shape.count : axis
            plan.kernels.append(.softmax(SoftmaxKernel(
                outer: shape[..<a].reduce(1, *), axis: shape[a], inner: shape[(a + 1)...].reduce(1, *),
                input: buffer(of: node.operands[0]), output: buffer(of: result))))
        case .layerNorm(let axis, let epsilon):
            let a = axis < 0 ? axis + shape.count : axis
            plan.kernels.append(.layerNorm(LayerNormKernel(
                outer: shape[..<a].reduce(1, *), normalized: shape[a...].reduce(1, *), epsilon: epsilon,
                input: buffer(of: node.operands[0]), scale: node.operands.count > 1 ? buffer(of: node.operands[1]) : nil,
                bias: node.operands.count > 2 ? buffer(of: node.operands[2]) : nil, output: buffer(of: result))))
        case .matmul(let transposeA, let transposeB):
            lowerMatmul(node.operands[0], node.operands[1], result, transposeA: transposeA, transposeB: transposeB)
        case .linear:
            lowerLinear(node)
        case .conv2d(let attributes):
            lowerConv2D(node, attributes)
        case .attention(let attributes):
            lowerAttention(node, attributes)
        case .channelGate(let attributes):
            lowerChannelGate(node, attributes)
        case .spatialGate(let attributes):
            lowerSpatialGate(node, attributes)
        case .gather(let axis):
            lowerGather(node, axis: axis)
        case .convTranspose2d(let attributes):
            lowerConvTranspose2D(node, attributes)
        case .pool2d(let kind, let attributes):
            let input = graph.type(of: node.operands[0]).staticShape!
            plan.kernels.append(.pool(PoolKernel(
                kind: kind, attributes: attributes, planes: input[0] * input[1], height: input[2], width: input[3],
                outputHeight: shape[2], outputWidth: shape[3], input: buffer(of: node.operands[0]), output: buffer(of: result))))
        }
    }

    private mutating func lowerSlice(_ source: ValueID, _ result: ValueID, axes: [Int], starts: [Int], ends: [Int], steps: [Int]) {
        let input = graph.type(of: source).staticShape!
        var strides = rowMajorStrides(input)
        var offset = 0
        for (i, axis) in axes.enumerated() {
            let a = axis < 0 ? axis + input.count : axis
            let range = SliceRange(start: starts[i], end: ends[i], step: steps[i], size: input[a])
            offset += range.start * strides[a]
            strides[a] *= range.step
        }
        emitElementwise(result, .load(Access(buffer: buffer(of: source), offset: offset, strides: strides), graph.type(of: result).elementType))
    }

    private mutating func lowerConcat(_ node: Node, axis: Int) {
        let result = node.results[0]
        let outputShape = graph.type(of: result).staticShape!
        let outputStrides = rowMajorStrides(outputShape)
        let output = buffer(of: result)
        var start = 0
        for operand in node.operands {
            let shape = graph.type(of: operand).staticShape!
            plan.kernels.append(.elementwise(ElementwiseKernel(
                shape: shape, output: Access(buffer: output, offset: start * outputStrides[axis], strides: outputStrides),
                outputType: graph.type(of: result).elementType, expression: operandExpression(operand, in: shape))))
            start += shape[axis]
        }
    }

    private mutating func lowerReduce(_ source: ValueID, _ result: ValueID, _ f: ReduceFunction, axes: [Int]?) {
        let shape = graph.type(of: source).staticShape!
        let reduced = Set((axes ?? Array(shape.indices)).map { $0 < 0 ? $0 + shape.count : $0 })
        // Reduced dims of size 1 change nothing; the others must form one run for [outer, reduced, inner].
        let run = shape.indices.filter { reduced.contains($0) && shape[$0] != 1 }
        if let first = run.first, let last = run.last, run.count == last - first + 1 {
            plan.kernels.append(.reduce(ReduceKernel(
                function: f, outer: shape[..<first].reduce(1, *), reduced: shape[first...last].reduce(1, *),
                inner: shape[(last + 1)...].reduce(1, *),
                input: Access(buffer: buffer(of: source), offset: 0, strides: []), output: buffer(of: result))))
        } else if run.isEmpty {
            plan.kernels.append(.reduce(ReduceKernel(
                function: f, outer: shape.reduce(1, *), reduced: 1, inner: 1,
                input: Access(buffer: buffer(of: source), offset: 0, strides: []), output: buffer(of: result))))
        } else {
            // Scattered reduced dims: read through a transposed view that gathers them last.
            let kept = shape.indices.filter { !run.contains($0) }
            let permutation = kept + run
            let strides = rowMajorStrides(shape)
            let transposed = scratch("\(graph[result].name ?? "reduce").transposed", floats: shape.reduce(1, *),
                                     elementType: graph.type(of: source).elementType)
            let permutedShape = permutation.map { shape[$0] }
            plan.kernels.append(.elementwise(ElementwiseKernel(
                shape: permutedShape, output: Access(buffer: transposed, offset: 0, strides: rowMajorStrides(permutedShape)),
                outputType: graph.type(of: source).elementType,
                expression: .load(Access(buffer: buffer(of: source), offset: 0, strides: permutation.map { strides[$0] }),
                                  graph.type(of: source).elementType))))
            plan.kernels.append(.reduce(ReduceKernel(
                function: f, outer: kept.map { shape[$0] }.reduce(1, *), reduced: run.map { shape[$0] }.reduce(1, *), inner: 1,
                input: Access(buffer: transposed, offset: 0, strides: []), output: buffer(of: result))))
        }
    }

    /// `(x - mean) / sqrt(var + eps) · scale + bias`, each [C] vector read along dim 1.
    private mutating func batchNormExpression(_ node: Node, epsilon: Double) -> ScalarExpression {
        let type = graph.type(of: node.results[0])
        let shape = type.staticShape!
        func channel(_ id: ValueID) -> ScalarExpression {
            var strides = Array(repeating: 0, count: shape.count)
            strides[1] = 1
            return .load(Access(buffer: buffer(of: id), offset: 0, strides: strides), type.elementType)
        }
        let x = operandExpression(node.operands[0], in: shape)
        let centered = ScalarExpression.binary(.sub, x, channel(node.operands[3]))
        let deviation = ScalarExpression.unary(.sqrt, .binary(.add, channel(node.operands[4]), .constant(epsilon, type.elementType)))
        let normalized = ScalarExpression.binary(.div, centered, deviation)
        return .binary(.add, .binary(.mul, normalized, channel(node.operands[1])), channel(node.operands[2]))
    }
}

/// A fused op's expression in kernel terms, operands read through `operand`.
func scalarExpression(_ e: ElementwiseExpression, _ operand: (Int) -> ScalarExpression) -> ScalarExpression {
    switch e {
    case .operand(let i): return operand(i)
    case .constant(let x, let t): return .constant(x, t)
    case .iota(let d, let t): return .index(dim: d, t)
    case .unary(let f, let x): return .unary(f, scalarExpression(x, operand))
    case .binary(let f, let a, let b): return .binary(f, scalarExpression(a, operand), scalarExpression(b, operand))
    case .select(let c, let a, let b):
        return .select(scalarExpression(c, operand), scalarExpression(a, operand), scalarExpression(b, operand))
    case .cast(let x, let t): return .cast(scalarExpression(x, operand), to: t)
    }
}

/// Row-major element strides.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var running = 1
    for i in shape.indices.reversed() {
        strides[i] = running
        running *= shape[i]
    }
    return strides
}

/// Strides that read a row-major tensor of `own` shape at each point of `target` under numpy
/// broadcasting (0 along broadcast dims).
func broadcastElementStrides(_ own: [Int], to target: [Int]) -> [Int] {
    let strides = rowMajorStrides(own)
    let offset = target.count - own.count
    return target.indices.map { i in
        let j = i - offset
        return j < 0 || own[j] == 1 ? 0 : strides[j]
    }
}

extension Kernel {
    /// Every buffer the kernel reads or writes.
    var buffers: [BufferID] {
        switch self {
        case .elementwise(let k): return [k.output.buffer] + k.expression.loads.map(\.buffer)
        case .reduce(let k): return [k.input.buffer, k.output]
        case .softmax(let k): return [k.input, k.output]
        case .layerNorm(let k): return [k.input, k.output] + [k.scale, k.bias].compactMap { $0 }
        case .pack(let k):
            switch k.source {
            case .matrix(let buffer, _, _, _, _): return [buffer, k.output]
            case .image(let image): return [image.buffer, k.output]
            }
        case .matmul(let k): return [k.packedLeft, k.packedRight, k.output.buffer] + (k.bias.map { [$0.buffer] } ?? [])
        case .attention(let k):
            return [k.packedQuery, k.packedKey, k.packedValue, k.output.buffer] + (k.scoreWeight.map { [$0] } ?? [])
                + (k.mask?.loads.map(\.buffer) ?? []) + (k.select?.loads.map(\.buffer) ?? []) + (k.probabilities.map { [$0.buffer] } ?? [])
        case .pool(let k): return [k.input, k.output]
        case .gather(let k): return [k.data, k.indices, k.output]
        case .col2im(let k): return [k.columns, k.output] + (k.bias.map { [$0] } ?? [])
        case .attentionRows(let k):
            return [k.query.buffer, k.key.buffer, k.value.buffer, k.output.buffer, k.scores] + (k.scoreWeight.map { [$0] } ?? [])
                + (k.mask?.loads.map(\.buffer) ?? []) + (k.select?.loads.map(\.buffer) ?? []) + (k.probabilities.map { [$0.buffer] } ?? [])
        case .multiReduce(let k): return [k.input] + k.outputs.map(\.buffer)
        case .gateMLP(let k):
            return k.descriptors + [k.w1, k.w2, k.output] + [k.b1, k.b2, k.norm?.scale, k.norm?.shift].compactMap { $0 }
        case .channelWeightedSum(let k): return [k.input, k.weight, k.bias, k.output]
        case .rowDot(let k): return [k.matrix, k.vector, k.output]
        case .spatialConv(let k):
            return k.maps + [k.weight, k.output] + [k.bias, k.norm?.scale, k.norm?.shift, k.norm?.mean, k.norm?.variance].compactMap { $0 }
        case .fused(let k): return k.phases.flatMap(\.buffers)
        }
    }
}
