/// Prints a graph in the `.gir` text form. For a graph parsed from canonical text this gives back
/// the text byte for byte: comments and blank lines are kept, result types are always written,
/// attributes at their default are left out, and unnamed scalar constants print as literals.
public func printGraph(_ graph: Graph) -> String {
    var printer = GraphPrinter(graph: graph)
    return printer.print()
}

/// The element type a literal operand of `op` takes: that of the first operand that is a value
/// (of `select`'s value operands), or nil when there is none. `operandTypes` holds nil for literals.
public func literalElementType(_ op: Op, operandTypes: [TensorType?]) -> ElementType? {
    literalElementType(isSelect: op == .select, operandTypes: operandTypes)
}

/// `literalElementType(_:operandTypes:)` knowing only whether the op is `select`.
public func literalElementType(isSelect: Bool, operandTypes: [TensorType?]) -> ElementType? {
    let typedFrom = isSelect ? Array(operandTypes.indices.dropFirst()) : Array(operandTypes.indices)
    return typedFrom.lazy.compactMap { operandTypes[$0]?.elementType }.first
}

private struct GraphPrinter {
    let graph: Graph
    /// The text each value prints as: `%name`, `@name` or a literal.
    var spelling: [String]
    var inlined: Set<ValueID> = []
    var out = ""

    init(graph: Graph) {
        self.graph = graph
        spelling = Array(repeating: "", count: graph.values.count)
    }

    mutating func print() -> String {
        nameValues()
        for line in graph.headerTrivia.leading { out += line + "\n" }
        let inputs = graph.inputs.map { "\(spelling[$0.index]): \(graph.type(of: $0))" }
        out += "graph \(graphNameText(graph.name))(\(inputs.joined(separator: ", "))) {"
        endLine(graph.headerTrivia.trailing)
        for (weight, trivia) in zip(graph.weights, graph.weightTrivia) {
            statement("weight \(spelling[weight.index]): \(graph.type(of: weight))", trivia)
        }
        for node in graph.nodes where !node.results.allSatisfy(inlined.contains) {
            statement(nodeText(node), node.trivia)
        }
        statement("return " + graph.outputs.map { spelling[$0.index] }.joined(separator: ", "), graph.returnTrivia)
        for line in graph.closingTrivia.leading { out += indent(line) + "\n" }
        out += "}"
        endLine(graph.closingTrivia.trailing)
        for line in graph.trailingLines { out += line + "\n" }
        return out
    }

    /// Decides how every value is spelled, generating names for unnamed values that cannot print
    /// as literals.
    private mutating func nameValues() {
        let outputs = Set(graph.outputs)
        let users = graph.users()
        for node in graph.nodes {
            guard case .constant(.splat(let x)) = node.op, let id = node.results.first,
                  graph[id].name == nil, graph.type(of: id).rank == 0, !outputs.contains(id),
                  users[id.index].allSatisfy({ literalFits(id, in: graph[$0]) }) else { continue }
            inlined.insert(id)
            spelling[id.index] = graph.type(of: id).elementType.isFloat ? formatFloat(x) : String(TensorData.truncatingToInteger(x))
        }
        var taken = Set(graph.values.compactMap(\.name))
        var counter = 0
        for (i, value) in graph.values.enumerated() where !inlined.contains(ValueID(i)) {
            var name = value.name
            if name == nil {
                while taken.contains(String(counter)) { counter += 1 }
                name = String(counter)
                taken.insert(name!)
            }
            spelling[i] = (value.isWeight ? "@" : "%") + quoteIfNeeded(name!)
        }
    }

    /// Whether the literal reads back with the same type at this use.
    private func literalFits(_ id: ValueID, in node: Node) -> Bool {
        // Operands already printed as literals give no type either (`select(%c, 0.0, -inf)`
        // could not be read back).
        let types = node.operands.map { $0 == id || inlined.contains($0) ? nil : graph.type(of: $0) }
        return literalElementType(node.op, operandTypes: types) == graph.type(of: id).elementType
    }

    private func nodeText(_ node: Node) -> String {
        let results = node.results.map { spelling[$0.index] }.joined(separator: ", ")
        let arguments = node.operands.map { spelling[$0.index] } + node.op.attributes.map { "\($0.0)=\($0.1)" }
        let types = node.results.map { graph.type(of: $0).description }
        let typeText = types.count == 1 ? types[0] : "(\(types.joined(separator: ", ")))"
        return "\(results) = \(node.op.mnemonic)(\(arguments.joined(separator: ", "))) : \(typeText)"
    }

    private mutating func statement(_ text: String, _ trivia: Trivia) {
        for line in trivia.leading { out += indent(line) + "\n" }
        out += "  " + text
        endLine(trivia.trailing)
    }

    private mutating func endLine(_ comment: String?) {
        if let comment { out += " " + comment }
        out += "\n"
    }

    private func indent(_ line: String) -> String { line.isEmpty ? "" : "  " + line }
}

/// A name as written after `%` or `@`: bare when it is made of letters, digits, `_` and `.`.
func quoteIfNeeded(_ name: String) -> String {
    !name.isEmpty && name.allSatisfy(Lexer.isNameCharacter) ? name : "\"\(name)\""
}

/// A graph name as written after `graph`: bare when it is a word, else quoted.
func graphNameText(_ name: String) -> String {
    guard let first = name.first, Lexer.isWordStart(first), name.allSatisfy(Lexer.isWordCharacter) else { return "\"\(name)\"" }
    return name
}
