import GraphIR

/// Replaces channel gates by one `channel_gate` op: global pooling (average, max, or GCNet's
/// attention pooling), a shared two-layer MLP (linear or 1×1 convolution, ReLU, optional layer
/// norm), the branches summed, then `x · sigmoid(g)` or `x + g`.
///
/// The fused kernel reads the feature map as often as the data dependences require: twice for
/// average/max pooling (once to pool, once to apply the gate) and three times for attention
/// pooling (the logits need every channel, the weighted sum needs the softmax over every
/// position, then the gate is applied).
///
/// ```
/// %p = mean(%x, axes=[2,3])                      %out = channel_gate(%x, @w1, @b1, @w2, @b2) : f32[8,64,28,28]
/// %h = relu(linear(%p, @w1, @b1))          →
/// %g = sigmoid(linear(%h, @w2, @b2))
/// %out = mul(%x, reshape(%g, [8,64,1,1]))
/// ```
public struct FuseChannelGate: Pass {
    public let name = "fuse-channel-gate"

    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        let matcher = ChannelGateMatcher(graph: graph)
        var matches: [(root: NodeID, match: ChannelGateMatch)] = []
        for (n, node) in graph.nodes.enumerated() {
            switch node.op {
            case .binary(.mul), .binary(.add): break
            default: continue
            }
            do {
                guard let match = try matcher.match(node) else { continue }
                matches.append((NodeID(n), match))
            } catch {
                context.remark(.missed, name, "gate-like chain ending at %\(graph[node.results[0]].name ?? "") not fused at \(error.node.map { $0.op.mnemonic } ?? "?"): \(error.reason)",
                               at: error.node?.location ?? node.location)
            }
        }
        guard !matches.isEmpty else { return false }
        var rebuilder = GraphRebuilder(graph)
        for (n, node) in graph.nodes.enumerated() {
            guard let (_, match) = matches.first(where: { $0.root == NodeID(n) }) else {
                rebuilder.copy(node)
                continue
            }
            var operands = [rebuilder.value(match.x)]
            for (value, shape) in match.parameters {
                var v = rebuilder.value(value)
                let type = rebuilder.type(v)
                if type.shape != shape { v = rebuilder.add(.reshape(shape: shape), [v], types: [TensorType(type.elementType, shape)])[0] }
                operands.append(v)
            }
            let result = node.results[0]
            let fused = rebuilder.add(.channelGate(match.attributes), operands, types: [graph.type(of: result)], names: [graph[result].name],
                                      location: node.location, trivia: node.trivia)[0]
            rebuilder.replace(result, with: fused)
            context.remark(.fused, name, "channel gate (\(match.attributes.pools.map(\.rawValue).joined(separator: "+")) pooling, \(match.attributes.combine == .scale ? "sigmoid scale" : "residual add")) absorbed \(match.absorbed.joined(separator: ", "))",
                           at: node.location)
        }
        graph = rebuilder.finish()
        return true
    }
}

struct ChannelGateMatch {
    var x: ValueID
    var attributes: ChannelGateAttributes
    /// The parameter operands after x, each with the shape the op wants.
    var parameters: [(ValueID, [Dim])]
    var absorbed: [String]
}

/// Recognises the parts of a channel gate, from the `mul` or `add` that applies it back to the
/// pooled input.
struct ChannelGateMatcher {
    let graph: Graph

    struct Miss: Error {
        let node: Node?
        let reason: String
    }

    private struct MLP: Equatable {
        var w1: ValueID, b1: ValueID?, norm: [ValueID]?, w2: ValueID, b2: ValueID?
        var epsilon: Double
    }

    /// nil: not gate-like at all (no remark); a throw: gate-like, but something stopped it.
    func match(_ root: Node) throws(Miss) -> ChannelGateMatch? {
        let combine: ChannelGateAttributes.Combine = root.op == .binary(.mul) ? .scale : .add
        for (side, other) in [(1, 0), (0, 1)] {
            let x = root.operands[other]
            let xType = graph.type(of: x)
            guard xType.rank >= 3, graph.type(of: root.results[0]) == xType,
                  let perChannel = stripViews(root.operands[side], expecting: xType) else { continue }
            var absorbed = [root.op.mnemonic]
            var gate = perChannel
            if combine == .scale {
                guard let node = graph.producer(of: gate), node.op == .unary(.sigmoid) else { continue }
                absorbed.append("sigmoid")
                gate = node.operands[0]
            }
            // From here on the chain is gate-like: failures are reported.
            var branches: [ValueID] = [gate]
            if let node = graph.producer(of: gate), node.op == .binary(.add),
               node.operands.allSatisfy({ graph.producer(of: $0).map(isLayer) ?? false }) {
                branches = node.operands
                absorbed.append("add")
            }
            var mlp: MLP?
            var pools: [ChannelPooling] = []
            var attention: (ValueID, ValueID)?
            for branch in branches {
                let (branchMLP, descriptor, layers) = try perceptron(branch)
                guard mlp == nil || mlp == branchMLP else { throw Miss(node: graph.producer(of: branch), reason: "the branches do not share their MLP") }
                mlp = branchMLP
                absorbed += layers
                let (pool, extra, names) = try pooling(descriptor, of: x)
                guard !pools.contains(pool) else { throw Miss(node: graph.producer(of: descriptor), reason: "two branches pool the same way") }
                pools.append(pool)
                absorbed += names
                if let extra { attention = extra }
            }
            guard let mlp else { return nil }
            if pools.contains(.attention) && pools.count > 1 { throw Miss(node: root, reason: "attention pooling mixed with other pooling") }
            let c = xType.shape[1]
            let p = graph.type(of: mlp.w1).shape[0]
            var parameters: [(ValueID, [Dim])] = []
            if let (wa, ba) = attention { parameters += [(wa, [c]), (ba, [1])] }
            parameters.append((mlp.w1, [p, c]))
            if let b1 = mlp.b1 { parameters.append((b1, [p])) }
            if let norm = mlp.norm { parameters += norm.map { ($0, [p]) } }
            parameters.append((mlp.w2, [c, p]))
            if let b2 = mlp.b2 { parameters.append((b2, [c])) }
            guard (mlp.b1 == nil) == (mlp.b2 == nil) else { throw Miss(node: root, reason: "one MLP layer has a bias and the other has none") }
            let attributes = ChannelGateAttributes(pools: pools, bias: mlp.b1 != nil, layerNorm: mlp.norm != nil, epsilon: mlp.epsilon,
                                                   combine: combine)
            return ChannelGateMatch(x: x, attributes: attributes, parameters: parameters, absorbed: absorbed)
        }
        return nil
    }

    private func isLayer(_ node: Node) -> Bool {
        switch node.op {
        case .linear, .conv2d: return true
        default: return false
        }
    }

    /// `value` without reshapes, if it holds one value per (batch, channel) of `x`.
    private func stripViews(_ value: ValueID, expecting x: TensorType) -> ValueID? {
        var v = value
        while let node = graph.producer(of: v), case .reshape = node.op { v = node.operands[0] }
        let shape = graph.type(of: v).shape
        let wanted = [x.shape[0], x.shape[1]]
        let significant = shape.filter { $0 != 1 }
        guard significant == wanted.filter({ $0 != 1 }), graph.type(of: value).shape.count == x.rank,
              Array(graph.type(of: value).shape.prefix(2)) == wanted, graph.type(of: value).shape.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            return nil
        }
        return v
    }

    /// A layer (linear, or 1×1 convolution on a `[N, C, 1, 1]` tensor): its input, weight and bias.
    private func layer(_ value: ValueID) -> (input: ValueID, weight: ValueID, bias: ValueID?, node: Node)? {
        var v = value
        while let node = graph.producer(of: v), case .reshape = node.op { v = node.operands[0] }
        guard let node = graph.producer(of: v) else { return nil }
        switch node.op {
        case .linear:
            return (node.operands[0], node.operands[1], node.operands.count > 2 ? node.operands[2] : nil, node)
        case .conv2d(let a) where a == Conv2DAttributes():
            let w = graph.type(of: node.operands[1]).shape
            guard w.count == 4, w[2] == 1, w[3] == 1, graph.type(of: node.operands[0]).shape.dropFirst(2).allSatisfy({ $0 == 1 }) else { return nil }
            return (node.operands[0], node.operands[1], node.operands.count > 2 ? node.operands[2] : nil, node)
        default:
            return nil
        }
    }

    /// `w2 · relu([norm](w1 · d + b1)) + b2`: the MLP and its input d.
    private func perceptron(_ value: ValueID) throws(Miss) -> (MLP, ValueID, [String]) {
        guard let second = layer(value) else { throw Miss(node: graph.producer(of: value), reason: "the gate is not computed by a linear or 1x1 convolution layer") }
        var h = second.input
        while let node = graph.producer(of: h), case .reshape = node.op { h = node.operands[0] }
        guard let relu = graph.producer(of: h), relu.op == .unary(.relu) else {
            throw Miss(node: graph.producer(of: h), reason: "the hidden layer's activation is not a ReLU")
        }
        var t = relu.operands[0]
        // The layers are named by their op (linear or conv2d), so the remark says what was absorbed.
        var names = [second.node.op.mnemonic, "relu"]
        var norm: [ValueID]?
        var epsilon = 1e-5
        if let node = graph.producer(of: t), case .layerNorm(let axis, let eps) = node.op {
            let type = graph.type(of: t)
            let a = axis < 0 ? axis + type.rank : axis
            guard a == 1, node.operands.count == 3 else { throw Miss(node: node, reason: "the layer norm is not over the hidden units with scale and shift") }
            norm = [node.operands[1], node.operands[2]]
            epsilon = eps
            t = node.operands[0]
            names.append("layer_norm")
        }
        guard let first = layer(t) else { throw Miss(node: graph.producer(of: t), reason: "the hidden layer is not a linear or 1x1 convolution") }
        names.append(first.node.op.mnemonic)
        return (MLP(w1: first.weight, b1: first.bias, norm: norm, w2: second.weight, b2: second.bias, epsilon: epsilon), first.input, names)
    }

    /// How `descriptor` pools `x`: a mean or max over every spatial dim, or attention pooling.
    private func pooling(_ descriptor: ValueID, of x: ValueID) throws(Miss) -> (ChannelPooling, (ValueID, ValueID)?, [String]) {
        var d = descriptor
        while let node = graph.producer(of: d), case .reshape = node.op { d = node.operands[0] }
        guard let node = graph.producer(of: d) else { throw Miss(node: nil, reason: "the MLP's input is not a pooling") }
        let rank = graph.type(of: x).rank
        switch node.op {
        case .reduce(let f, let axes?, _) where node.operands[0] == x && (f == .mean || f == .amax):
            guard Set(axes.map { $0 < 0 ? $0 + rank : $0 }) == Set(2..<rank) else { throw Miss(node: node, reason: "the pooling is not over every spatial dim") }
            return (f == .mean ? .avg : .max, nil, [f.rawValue])
        case .matmul(false, true):
            // GCNet: context = x[N, C, S] · softmax(conv1x1(x))[N, 1, S]ᵀ.
            var flat = node.operands[0]
            while let n = graph.producer(of: flat), case .reshape = n.op { flat = n.operands[0] }
            guard flat == x else { throw Miss(node: node, reason: "the weighted sum is not over the gated input") }
            var weights = node.operands[1]
            while let n = graph.producer(of: weights), case .reshape = n.op { weights = n.operands[0] }
            guard let softmax = graph.producer(of: weights), case .softmax(let axis) = softmax.op,
                  axis == -1 || axis == graph.type(of: weights).rank - 1 else {
                throw Miss(node: graph.producer(of: weights), reason: "the pooling weights are not a softmax over positions")
            }
            var logits = softmax.operands[0]
            while let n = graph.producer(of: logits), case .reshape = n.op { logits = n.operands[0] }
            guard let conv = graph.producer(of: logits), case .conv2d(let a) = conv.op, a == Conv2DAttributes(), conv.operands[0] == x,
                  conv.operands.count == 3, graph.type(of: conv.operands[1]).shape.first == 1 else {
                throw Miss(node: graph.producer(of: logits), reason: "the pooling logits are not a 1x1 convolution of the input to one channel")
            }
            return (.attention, (conv.operands[1], conv.operands[2]), ["conv2d", "softmax", "matmul"])
        default:
            throw Miss(node: node, reason: "the MLP's input is not a global pooling of the gated input")
        }
    }
}
