import GraphIR

/// Merges nodes that apply the same op to the same operands; the first one's results stand for
/// the others'.
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
        let operands: [ValueID]
        let types: [TensorType]
    }

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        var rebuilder = GraphRebuilder(graph)
        var seen: [Key: [ValueID]] = [:]
        var changed = false
        for node in graph.nodes {
            let key = Key(op: node.op, operands: node.operands.map(rebuilder.value), types: node.results.map { graph.type(of: $0) })
            // Unnamed scalar literals print inline at every use; merging them changes nothing.
            let isLiteral = node.operands.isEmpty && node.results.allSatisfy { graph[$0].name == nil }
            if !isLiteral, let existing = seen[key] {
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
