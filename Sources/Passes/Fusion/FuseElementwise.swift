import GraphIR

/// Fuses chains of elementwise ops into single `elementwise` ops, one kernel each.
///
/// A value fuses into its users when every user is elementwise and either it has one user of
/// its own shape (each point computed once) or it reads no tensor at all (constants, iotas and
/// masks built from them, recomputed wherever they are read). Batch norm is expanded into its
/// elementwise form first.
///
/// ```
/// %a = mul(%x, 0.5) : f32[8,64]
/// %b = add(%a, %bias) : f32[8,64]            →   %c = elementwise(%x, %bias, expr="sigmoid(add(mul($0, 0.5), $1))") : f32[8,64]
/// %c = sigmoid(%b) : f32[8,64]
/// ```
public struct FuseElementwise: Pass {
    public let name = "fuse-elementwise"

    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        let applied = applyGatesInConsumers(&graph, context)
        let users = graph.users()
        let outputs = Set(graph.outputs)
        var fused: Set<ValueID> = []
        var loadFree: Set<ValueID> = []
        for node in graph.nodes where isElementwise(node.op) {
            let id = node.results[0]
            let readers = users[id.index]
            guard !outputs.contains(id), !readers.isEmpty, readers.allSatisfy({ isElementwise(graph[$0].op) }) else { continue }
            if node.operands.allSatisfy(loadFree.contains) {
                fused.insert(id)
                loadFree.insert(id)
            } else if readers.count == 1, graph.type(of: id).shape == graph.type(of: graph[readers[0]].results[0]).shape {
                fused.insert(id)
            }
        }

        var rebuilder = GraphRebuilder(graph)
        var changed = false
        for node in graph.nodes {
            let id = node.results.first
            if let id, fused.contains(id) { continue }
            guard isElementwise(node.op), let id else {
                rebuilder.copy(node)
                continue
            }
            var builder = ExpressionBuilder(graph: graph, fused: fused)
            let expression = builder.expression(of: id, at: graph.type(of: id).shape)
            // A lone op (nothing absorbed) stays as it was.
            guard builder.absorbed.count > 1 || node.op.isBatchNorm else {
                rebuilder.copy(node)
                continue
            }
            var operands: [ValueID] = []
            for (leaf, trailingOnes) in builder.leaves {
                var value = rebuilder.value(leaf)
                if trailingOnes > 0 {
                    let type = rebuilder.type(value)
                    let shape = type.shape + Array(repeating: Dim.known(1), count: trailingOnes)
                    value = rebuilder.add(.reshape(shape: shape), [value], types: [TensorType(type.elementType, shape)])[0]
                }
                operands.append(value)
            }
            let absorbed = builder.absorbed
            let new = rebuilder.add(.elementwise(expression), operands, types: [graph.type(of: id)], names: [graph[id].name],
                                    location: node.location, trivia: node.trivia)[0]
            rebuilder.replace(id, with: new)
            context.remark(.fused, name, "fused \(absorbed.joined(separator: ", ")) into one elementwise kernel producing %\(graph[id].name ?? "")",
                           at: node.location)
            changed = true
        }
        guard changed else { return applied }
        graph = rebuilder.finish()
        return true
    }

    /// A gate whose result is read only by elementwise ops becomes its map and a `mul` (or
    /// `add`), so the application fuses into those readers: three gated copies of x summed
    /// (triplet attention) become one pass over x with three small maps.
    ///
    /// ```
    /// %a = spatial_gate(%x, …)            %ma = spatial_gate(%x, …, output=map) : f32[8,1,28,28]
    /// %b = spatial_gate(%x, …)      →     %mb = spatial_gate(%x, …, output=map) : f32[8,256,1,28]
    /// %s = add(%a, %b)                    %s = elementwise(%x, %ma, %mb, expr="add(mul($0, $1), mul($0, $2))")
    /// ```
    private func applyGatesInConsumers(_ graph: inout Graph, _ context: PassContext) -> Bool {
        let users = graph.users()
        let outputs = Set(graph.outputs)
        var rebuilder = GraphRebuilder(graph)
        var changed = false
        for node in graph.nodes {
            let id = node.results[0]
            let readers = users[id.index]
            guard !outputs.contains(id), !readers.isEmpty, readers.allSatisfy({ isElementwise(graph[$0].op) }) else {
                rebuilder.copy(node)
                continue
            }
            let mapped: Op
            var apply = BinaryFunction.mul
            switch node.op {
            case .spatialGate(var a) where !a.mapOnly:
                a.mapOnly = true
                mapped = .spatialGate(a)
            case .channelGate(var a) where !a.mapOnly:
                a.mapOnly = true
                if a.combine == .add { apply = .add }
                mapped = .channelGate(a)
            default:
                rebuilder.copy(node)
                continue
            }
            let operands = node.operands.map(rebuilder.value)
            let mapType = try! inferResultTypes(mapped, operands: operands.map(rebuilder.type), declared: nil)[0]
            let map = rebuilder.add(mapped, operands, types: [mapType], location: node.location)[0]
            let gated = rebuilder.add(.binary(apply), [operands[0], map], types: [graph.type(of: id)], names: [graph[id].name],
                                      location: node.location, trivia: node.trivia)[0]
            rebuilder.replace(id, with: gated)
            context.remark(.fused, name, "\(node.op.mnemonic) %\(graph[id].name ?? "") is applied inside its elementwise readers", at: node.location)
            changed = true
        }
        guard changed else { return false }
        graph = rebuilder.finish()
        return true
    }

    private func isElementwise(_ op: Op) -> Bool {
        switch op {
        case .unary(let f): return f != .identity
        case .binary, .select, .cast, .broadcast, .iota, .constant(.splat), .elementwise, .batchNorm: return true
        default: return false
        }
    }
}

/// Builds the expression of a fusion root, inlining fused producers; values that are not fused
/// become the op's operands.
private struct ExpressionBuilder {
    let graph: Graph
    let fused: Set<ValueID>
    /// The fused op's operands, in the order `$0`, `$1`, … refer to them, each with the trailing
    /// size-1 dims it needs to broadcast (batch-norm parameters are [C] vectors read along dim 1).
    private(set) var leaves: [(value: ValueID, trailingOnes: Int)] = []
    /// Mnemonics of the ops taken in, root first.
    private(set) var absorbed: [String] = []

    init(graph: Graph, fused: Set<ValueID>) {
        self.graph = graph
        self.fused = fused
    }

    /// The expression for `id` at a point of a user's iteration space `shape`.
    mutating func expression(of id: ValueID, at shape: [Dim]) -> ElementwiseExpression {
        let isRoot = absorbed.isEmpty
        guard isRoot || fused.contains(id), let node = graph.producer(of: id) else { return leaf(id) }
        let type = graph.type(of: id)
        let own = type.shape
        absorbed.append(node.op.mnemonic)
        var expression: ElementwiseExpression
        switch node.op {
        case .constant(.splat(let x)):
            expression = .constant(x, type.elementType)
        case .iota(let axis):
            let a = axis < 0 ? axis + own.count : axis
            expression = own[a] == 1 ? .constant(0, type.elementType) : .iota(dim: a, type.elementType)
        case .unary(let f):
            expression = .unary(f, operand(node, 0, own))
        case .binary(let f):
            let a = operand(node, 0, own)
            expression = .binary(f, a, operand(node, 1, own))
        case .select:
            let c = operand(node, 0, own), a = operand(node, 1, own)
            expression = .select(c, a, operand(node, 2, own))
        case .cast(let to):
            expression = .cast(operand(node, 0, own), to: to)
        case .broadcast:
            expression = operand(node, 0, own)
        case .elementwise(let inner):
            var operands: [ElementwiseExpression] = []
            for i in node.operands.indices { operands.append(operand(node, i, own)) }
            expression = inner.substituting { operands[$0] }
        case .batchNorm(let epsilon):
            let t = type.elementType
            let x = operand(node, 0, own)
            let parameters = (1...4).map { leaf(node.operands[$0], trailingOnes: own.count - 2) }
            let normalized = ElementwiseExpression.binary(.div, .binary(.sub, x, parameters[2]),
                                                          .unary(.sqrt, .binary(.add, parameters[3], .constant(epsilon, t))))
            expression = .binary(.add, .binary(.mul, normalized, parameters[0]), parameters[1])
        default:
            preconditionFailure("\(node.op.mnemonic) is not elementwise")
        }
        // A load-free value fused across a broadcast: re-align its iota dims to the user's.
        if !isRoot && own != shape {
            let offset = shape.count - own.count
            expression = expression.map { leaf in
                guard case .iota(let d, let t) = leaf else { return nil }
                return own[d] == 1 ? .constant(0, t) : .iota(dim: d + offset, t)
            }
        }
        return expression
    }

    private mutating func operand(_ node: Node, _ i: Int, _ shape: [Dim]) -> ElementwiseExpression {
        expression(of: node.operands[i], at: shape)
    }

    private mutating func leaf(_ id: ValueID, trailingOnes: Int = 0) -> ElementwiseExpression {
        if let i = leaves.firstIndex(where: { $0 == (id, trailingOnes) }) { return .operand(i) }
        leaves.append((id, trailingOnes))
        return .operand(leaves.count - 1)
    }
}

extension Op {
    var isBatchNorm: Bool {
        if case .batchNorm = self { return true }
        return false
    }
}
