import GraphIR

/// Merges nodes that apply the same op to the same operands; the first one's results stand for
/// the others'. Unnamed scalar literals (which print inline at each use) are operands equal by
/// value: `mul(%x, 2.0)` twice is one computation. The literals themselves stay one per use.
///
/// ```
/// %a = mean(%x, axes=[1]) : f32[2]
/// %b = mean(%x, axes=[1]) : f32[2]     // becomes %a
/// %c = add(%a, %b) : f32[2]            // add(%a, %a)
/// ```
public struct EliminateCommonSubexpressions: Pass {
    public let name = "cse"

    public init() {}

    private struct Key: Hashable {
        let op: Op
        let operands: [Operand]
        let types: [TensorType]
    }

    /// An operand as CSE compares it: a value, or an inline literal by its bits and type.
    private enum Operand: Hashable {
        case value(ValueID)
        case literal(bits: UInt64, type: TensorType)
    }

    private static func isLiteral(_ node: Node, in graph: Graph) -> Bool {
        node.operands.isEmpty && node.results.count == 1 && graph[node.results[0]].name == nil
            && graph.type(of: node.results[0]).rank == 0
    }

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        var rebuilder = GraphRebuilder(graph)
        var seen: [Key: [ValueID]] = [:]
        var changed = false
        for node in graph.nodes {
            let operands = node.operands.map { id -> Operand in
                if let (_, producer) = graph.definingNode(id), case .constant(.splat(let x)) = producer.op, Self.isLiteral(producer, in: graph) {
                    return .literal(bits: x.bitPattern, type: graph.type(of: id))
                }
                return .value(rebuilder.value(id))
            }
            let key = Key(op: node.op, operands: operands, types: node.results.map { graph.type(of: $0) })
            // Literals stay one per use: they print inline, and each use reads its own.
            if !Self.isLiteral(node, in: graph), let existing = seen[key] {
                for (old, new) in zip(node.results, existing) { rebuilder.replace(old, with: new) }
                changed = true
                continue
            }
            rebuilder.copy(node)
            seen[key] = node.results.map(rebuilder.value)
        }
        guard changed else { return false }
        graph = rebuilder.finish()
        return true
    }
}
