/// Draws a graph for Graphviz: inputs and weights as ellipses, ops as boxes labelled with their
/// attributes and result types, outputs as double octagons. Inline scalar constants are folded
/// into their user's label.
public func printDot(_ graph: Graph) -> String {
    var lines = ["digraph \(dotQuote(graph.name)) {", "  rankdir=TB;", "  node [fontname=\"Helvetica\", fontsize=10];"]
    let users = graph.users()
    func isInlineLiteral(_ id: ValueID) -> Bool {
        guard case .result(let n, _) = graph[id].definition, case .constant(.splat) = graph[n].op else { return false }
        return graph[id].name == nil && graph.type(of: id).rank == 0 && !graph.outputs.contains(id)
    }
    func literal(_ id: ValueID) -> String {
        guard case .result(let n, _) = graph[id].definition, case .constant(.splat(let x)) = graph[n].op else { return "?" }
        return formatFloat(x)
    }
    var source: [ValueID: String] = [:]
    for id in graph.inputs {
        source[id] = "v\(id.index)"
        lines.append("  v\(id.index) [shape=ellipse, label=\(dotQuote("%\(graph[id].name ?? "")\n\(graph.type(of: id))"))];")
    }
    for id in graph.weights where !users[id.index].isEmpty {
        source[id] = "v\(id.index)"
        lines.append("  v\(id.index) [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=\(dotQuote("@\(graph[id].name ?? "")\n\(graph.type(of: id))"))];")
    }
    for (n, node) in graph.nodes.enumerated() where !node.results.allSatisfy(isInlineLiteral) {
        let literals = node.operands.filter(isInlineLiteral).map(literal)
        let attributes = node.op.attributes.map { "\($0.0)=\($0.1)" } + literals.map { "literal \($0)" }
        let types = node.results.map { "\(graph[$0].name.map { "%" + $0 } ?? ""): \(graph.type(of: $0))" }
        let label = ([node.op.mnemonic] + attributes + types).joined(separator: "\n")
        lines.append("  n\(n) [shape=box, label=\(dotQuote(label))];")
        for result in node.results { source[result] = "n\(n)" }
        for operand in node.operands where !isInlineLiteral(operand) {
            if let from = source[operand] { lines.append("  \(from) -> n\(n);") }
        }
    }
    for (i, output) in graph.outputs.enumerated() {
        lines.append("  out\(i) [shape=doubleoctagon, label=\(dotQuote(graph[output].name ?? "output \(i)"))];")
        if let from = source[output] { lines.append("  \(from) -> out\(i);") }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

private func dotQuote(_ text: String) -> String {
    var quoted = "\""
    for c in text {
        switch c {
        case "\\": quoted += "\\\\"
        case "\"": quoted += "\\\""
        case "\n": quoted += "\\n"
        default: quoted.append(c)
        }
    }
    return quoted + "\""
}
