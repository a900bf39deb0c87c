import GraphIR

/// Rewrites the graph into its canonical form, so later passes match one spelling instead of
/// many. The rules are a table (`canonicalRewrites`); each runs on every node, operands first,
/// so chains collapse in one pass.
///
/// ```
/// %s = div(%scores, 8.0)               →   %s = mul(%scores, 0.125)
/// %t = transpose(%k, perm=[0,1,3,2])
/// %m = matmul(%q, %t)                  →   %m = matmul(%q, %k, transpose_b=true)
/// %u = unsqueeze(%x, axes=[1])         →   %u = reshape(%x, shape=[2,1,16])
/// ```
public struct Canonicalize: Pass {
    public let name = "canonicalize"

    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        var rebuilder = GraphRebuilder(graph)
        var changed = false
        for node in graph.nodes {
            let operands = node.operands.map(rebuilder.value)
            var replaced: [ValueID]?
            for rewrite in canonicalRewrites {
                if case .replaced(let results) = rewrite.apply(node, operands, &rebuilder) {
                    replaced = results
                    break
                }
            }
            guard let replaced else {
                rebuilder.copy(node)
                continue
            }
            for (old, new) in zip(node.results, replaced) { rebuilder.replace(old, with: new) }
            changed = true
        }
        guard changed else { return false }
        graph = rebuilder.finish()
        return true
    }
}
