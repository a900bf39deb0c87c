import GraphIR

/// Replaces spatial gates by one `spatial_gate` op: channel pooling (mean and/or max, in the
/// order they are concatenated), a k×k convolution to one map, optional batch norm, sigmoid, and
/// the product with the input. A gate applied to a rotated input and rotated back (triplet
/// attention) becomes a gate over other dims of the original input, so neither rotation is
/// materialised.
///
/// The fused kernel reads the feature map twice: once to pool over the channels, once to apply
/// the gate (the convolution needs the whole pooled map first).
///
/// ```
/// %m = concat(mean(%x, axes=[1], keepdims=true), amax(%x, axes=[1], keepdims=true), axis=1)
/// %g = sigmoid(conv2d(%m, @w, padding=[3,3]))                →   %out = spatial_gate(%x, @w, pool=[mean,max], padding=[3,3])
/// %out = mul(%x, %g)
/// ```
public struct FuseSpatialGate: Pass {
    public let name = "fuse-spatial-gate"

    public init() {}

    private struct Match {
        var root: NodeID
        /// Where the fused op goes and whose result it replaces (the root, or the transpose
        /// that rotates the root's result back).
        var replaced: NodeID
        var x: ValueID
        var attributes: SpatialGateAttributes
        var parameters: [ValueID]
        var absorbed: [String]
    }

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        let users = graph.users()
        var matches: [Match] = []
        for (n, node) in graph.nodes.enumerated() where node.op == .binary(.mul) {
            do {
                guard var match = try match(node, NodeID(n), graph) else { continue }
                // A gate on transpose(x, p) whose result is transposed back by p⁻¹ is a gate on x.
                if let rotation = graph.producer(of: match.x), case .transpose(let p) = rotation.op, p.first == 0,
                   users[node.results[0].index].count == 1, !graph.outputs.contains(node.results[0]),
                   case .transpose(let q) = graph[users[node.results[0].index][0]].op, q.indices.map({ p[q[$0]] }) == Array(q.indices) {
                    match.replaced = users[node.results[0].index][0]
                    match.x = rotation.operands[0]
                    match.attributes.dims = Array(p.dropFirst())
                    match.absorbed += ["transpose", "transpose"]
                }
                matches.append(match)
            } catch {
                context.remark(.missed, name, "spatial-gate-like chain ending at %\(graph[node.results[0]].name ?? "") not fused at \(error.node.map { $0.op.mnemonic } ?? "?"): \(error.reason)",
                               at: error.node?.location ?? node.location)
            }
        }
        guard !matches.isEmpty else { return false }
        var rebuilder = GraphRebuilder(graph)
        for (n, node) in graph.nodes.enumerated() {
            guard let match = matches.first(where: { $0.replaced == NodeID(n) }) else {
                rebuilder.copy(node)
                continue
            }
            let result = node.results[0]
            let operands = [rebuilder.value(match.x)] + match.parameters.map(rebuilder.value)
            let fused = rebuilder.add(.spatialGate(match.attributes), operands, types: [graph.type(of: result)], names: [graph[result].name],
                                      location: node.location, trivia: node.trivia)[0]
            rebuilder.replace(result, with: fused)
            context.remark(.fused, name, "spatial gate (\(match.attributes.pools.map(\.rawValue).joined(separator: "+")) over dim \(match.attributes.dims[0])) absorbed \(match.absorbed.joined(separator: ", "))",
                           at: node.location)
        }
        graph = rebuilder.finish()
        return true
    }

    private struct Miss: Error {
        let node: Node?
        let reason: String
    }

    /// `mul(x, sigmoid([bn](conv2d(concat(pool_c(x)…)))))`, either operand order.
    private func match(_ root: Node, _ id: NodeID, _ graph: Graph) throws(Miss) -> Match? {
        for (side, other) in [(1, 0), (0, 1)] {
            let x = root.operands[other]
            let xType = graph.type(of: x)
            guard xType.rank == 4, graph.type(of: root.results[0]) == xType,
                  let sigmoid = graph.producer(of: root.operands[side]), sigmoid.op == .unary(.sigmoid) else { continue }
            let gateShape = graph.type(of: root.operands[side]).shape
            guard gateShape.count == 4, gateShape[1] == 1, gateShape[0] == xType.shape[0],
                  Array(gateShape[2...]) == Array(xType.shape[2...]) else { continue }
            var absorbed = ["mul", "sigmoid"]
            var z = sigmoid.operands[0]
            var normParameters: [ValueID] = []
            var epsilon = 1e-5
            if let bn = graph.producer(of: z), case .batchNorm(let eps) = bn.op {
                normParameters = Array(bn.operands[1...4])
                epsilon = eps
                z = bn.operands[0]
                absorbed.append("batch_norm")
            }
            guard let conv = graph.producer(of: z), case .conv2d(let a) = conv.op else {
                throw Miss(node: graph.producer(of: z), reason: "the gate is not a convolution of pooled maps")
            }
            guard a.stride == [1, 1], a.dilation == [1, 1], a.groups == 1, a.padding.top == a.padding.bottom,
                  a.padding.left == a.padding.right else {
                throw Miss(node: conv, reason: "the convolution is strided, dilated, grouped or unevenly padded")
            }
            let bias = conv.operands.count > 2 ? [conv.operands[2]] : []
            absorbed.append("conv2d")
            var pooled = [conv.operands[0]]
            if let concat = graph.producer(of: conv.operands[0]), case .concat(let axis) = concat.op, axis == 1 || axis == -3 {
                pooled = concat.operands
                absorbed.append("concat")
            }
            var pools: [SpatialPooling] = []
            for map in pooled {
                guard let reduce = graph.producer(of: map), case .reduce(let f, let axes?, true) = reduce.op, axes == [1] || axes == [-3],
                      reduce.operands[0] == x, f == .mean || f == .amax else {
                    throw Miss(node: graph.producer(of: map), reason: "a map is not a mean or max over the channels of the gated input")
                }
                pools.append(f == .mean ? .mean : .max)
                absorbed.append(f.rawValue)
            }
            guard pools.count == Set(pools).count else { throw Miss(node: conv, reason: "the same pooling twice") }
            let attributes = SpatialGateAttributes(pools: pools, padding: [a.padding.top, a.padding.left], bias: !bias.isEmpty,
                                                   batchNorm: !normParameters.isEmpty, epsilon: epsilon)
            let parameters = [conv.operands[1]] + bias + normParameters
            guard (try? inferResultTypes(.spatialGate(attributes), operands: ([x] + parameters).map { graph.type(of: $0) },
                                         declared: nil)) != nil else {
                throw Miss(node: conv, reason: "the convolution does not keep the map's size, or its bias is not a single value")
            }
            return Match(root: id, replaced: id, x: x, attributes: attributes, parameters: parameters, absorbed: absorbed)
        }
        return nil
    }
}
