import GraphIR

/// Removes nodes whose results reach no output. Inputs and weights stay: they are the graph's
/// interface, used or not.
///
/// ```
/// %a = relu(%x) : f32[4]          // unused: removed
/// %b = tanh(%x) : f32[4]
/// return %b
/// ```
public struct EliminateDeadCode: Pass {
    public let name = "dce"

    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        var live = Set(graph.outputs)
        var keep = Array(repeating: false, count: graph.nodes.count)
        for (n, node) in graph.nodes.enumerated().reversed() where node.results.contains(where: live.contains) {
            keep[n] = true
            live.formUnion(node.operands)
        }
        guard keep.contains(false) else { return false }
        var rebuilder = GraphRebuilder(graph)
        for (n, node) in graph.nodes.enumerated() where keep[n] { rebuilder.copy(node) }
        graph = rebuilder.finish()
        return true
    }
}
