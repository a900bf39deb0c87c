/// Reads the `.gir` text form (grammar in docs/IR.md) into a typed, verified `Graph`.
///
/// Every error is a `Diagnostic` at the file, line and column it concerns. Result types may be
/// left out (they are inferred); when written, they must match what the op produces.
public func parseGraph(_ text: String, path: String = "<input>") throws(Diagnostic) -> Graph {
    let file = SourceFile(path: path, text: text)
    var lexer = Lexer(text, file: file)
    var parser = Parser(tokens: try lexer.tokenize(), file: file)
    return try parser.parseFile()
}

private struct Parser {
    private let tokens: [Token]
    private let file: SourceFile
    private var position = 0
    private var graph = Graph(name: "")
    /// `%` names and `@` names live in separate scopes.
    private var valuesByName: [String: ValueID] = [:]
    private var weightsByName: [String: ValueID] = [:]

    init(tokens: [Token], file: SourceFile) {
        self.tokens = tokens
        self.file = file
    }

    // MARK: Structure

    mutating func parseFile() throws(Diagnostic) -> Graph {
        let leading = parseTriviaLines()
        try expectWord("graph", "a graph must start with 'graph NAME(...)'")
        graph.name = try parseGraphName()
        try expectPunctuation("(")
        if !atPunctuation(")") {
            repeat { try parseInput() } while consumePunctuation(",")
        }
        try expectPunctuation(")", "after the graph inputs")
        try expectPunctuation("{", "to open the graph body")
        graph.headerTrivia = Trivia(leading: leading, trailing: try parseLineEnd())

        while true {
            let trivia = parseTriviaLines()
            let token = tokens[position]
            switch token.kind {
            case .word("weight"):
                guard graph.nodes.isEmpty else {
                    throw error(at: token, "weights must be declared before the first node")
                }
                try parseWeight(leading: trivia)
            case .valueName:
                try parseNode(leading: trivia)
            case .word("return"):
                try parseReturn(leading: trivia)
                let closingLines = parseTriviaLines()
                try expectPunctuation("}", "to close the graph body after 'return'")
                graph.closingTrivia = Trivia(leading: closingLines, trailing: try parseLineEnd())
                graph.trailingLines = parseTriviaLines()
                guard case .end = tokens[position].kind else {
                    throw error(at: tokens[position], "expected end of file after the graph, got \(tokens[position].spelling)")
                }
                return graph
            case .end, .punctuation("}"):
                throw error(at: token, "the graph body must end with 'return %output, ...'")
            default:
                throw error(at: token, "expected 'weight @name: type', '%name = op(...)' or 'return', got \(token.spelling)")
            }
        }
    }

    private mutating func parseGraphName() throws(Diagnostic) -> String {
        let token = tokens[position]
        switch token.kind {
        case .word(let name), .string(let name):
            position += 1
            return name
        default:
            throw error(at: token, "expected the graph's name after 'graph', got \(token.spelling)")
        }
    }

    private mutating func parseInput() throws(Diagnostic) {
        let token = tokens[position]
        guard case .valueName(let name) = token.kind else {
            throw error(at: token, "expected an input '%name: type', got \(token.spelling)")
        }
        position += 1
        guard valuesByName[name] == nil else { throw error(at: token, "input '%\(name)' is declared twice") }
        try expectPunctuation(":", "after the input name")
        let type = try parseType()
        valuesByName[name] = graph.addInput(name, type, location: location(of: token))
    }

    private mutating func parseWeight(leading: [String]) throws(Diagnostic) {
        position += 1
        let token = tokens[position]
        guard case .weightName(let name) = token.kind else {
            throw error(at: token, "expected a weight name '@name' after 'weight', got \(token.spelling)")
        }
        position += 1
        guard weightsByName[name] == nil else { throw error(at: token, "weight '@\(name)' is declared twice") }
        try expectPunctuation(":", "after the weight name")
        let type = try parseType()
        let trailing = try parseLineEnd()
        weightsByName[name] = graph.addWeight(name, type, location: location(of: token),
                                              trivia: Trivia(leading: leading, trailing: trailing))
    }

    private mutating func parseReturn(leading: [String]) throws(Diagnostic) {
        position += 1
        var outputs: [ValueID] = []
        repeat {
            let token = tokens[position]
            let id: ValueID
            switch token.kind {
            case .valueName(let name):
                guard let found = valuesByName[name] else { throw error(at: token, "use of undefined value '%\(name)'") }
                id = found
            case .weightName(let name):
                guard let found = weightsByName[name] else { throw error(at: token, "use of undeclared weight '@\(name)'") }
                id = found
            default:
                throw error(at: token, "expected a value to return ('%name'), got \(token.spelling)")
            }
            guard !outputs.contains(id) else { throw error(at: token, "\(token.spelling) is returned twice") }
            outputs.append(id)
            position += 1
        } while consumePunctuation(",")
        graph.outputs = outputs
        graph.returnTrivia = Trivia(leading: leading, trailing: try parseLineEnd())
    }

    // MARK: Nodes

    private mutating func parseNode(leading: [String]) throws(Diagnostic) {
        var resultTokens: [Token] = []
        repeat {
            let token = tokens[position]
            guard case .valueName(let name) = token.kind else {
                throw error(at: token, "expected a result name '%name', got \(token.spelling)")
            }
            guard valuesByName[name] == nil else { throw error(at: token, "'%\(name)' is already defined") }
            guard !resultTokens.contains(where: { $0.kind == token.kind }) else { throw error(at: token, "'%\(name)' is defined twice") }
            resultTokens.append(token)
            position += 1
        } while consumePunctuation(",")
        try expectPunctuation("=", "after the result name")

        let opToken = tokens[position]
        guard case .word(let mnemonic) = opToken.kind else {
            throw error(at: opToken, "expected an op name, got \(opToken.spelling)")
        }
        position += 1
        try expectPunctuation("(", "after the op name")
        var operands: [(Token, OperandSyntax)] = []
        var attributes: [(String, AttributeValue)] = []
        var attributeTokens: [String: Token] = [:]
        if !atPunctuation(")") {
            repeat {
                let token = tokens[position]
                if case .word(let name) = token.kind, tokens[position + 1].kind == .punctuation("=") {
                    guard attributeTokens[name] == nil else { throw error(at: token, "attribute '\(name)' is given twice") }
                    position += 2
                    attributes.append((name, try parseAttributeValue()))
                    attributeTokens[name] = token
                } else {
                    guard attributes.isEmpty else {
                        throw error(at: token, "operands must come before attributes ('name=value'), got \(token.spelling)")
                    }
                    operands.append((token, try parseOperand()))
                }
            } while consumePunctuation(",")
        }
        try expectPunctuation(")", "to close the operand list")

        var declared: [TensorType]?
        var declaredToken: Token?
        if consumePunctuation(":") {
            declaredToken = tokens[position]
            declared = try parseResultTypes()
        }
        let trailing = try parseLineEnd()

        let operandIDs = try resolveOperands(operands, isSelect: mnemonic == "select")
        let op: Op
        do {
            op = try Op(mnemonic: mnemonic, attributes: attributes, operandTypes: operandIDs.map { graph.type(of: $0).elementType })
        } catch {
            let token = error.attribute.flatMap { attributeTokens[$0] } ?? opToken
            throw self.error(at: token, error.message)
        }
        let operandTypes = operandIDs.map { graph.type(of: $0) }
        let types: [TensorType]
        do {
            types = try inferResultTypes(op, operands: operandTypes, declared: declared)
        } catch {
            let token = error.operand.map { operands[$0].0 } ?? opToken
            throw self.error(at: token, error.message)
        }
        if let (type, problem) = types.lazy.compactMap({ t in sizeProblem(t).map { (t, $0) } }).first {
            throw self.error(at: opToken, "\(mnemonic) produces \(type): \(problem)")
        }
        guard types.count == resultTokens.count else {
            throw self.error(at: resultTokens[0], "\(mnemonic) produces \(types.count) result\(types.count == 1 ? "" : "s"), but \(resultTokens.count) name\(resultTokens.count == 1 ? " is" : "s are") given")
        }
        if let declared, let declaredToken {
            guard declared.count == types.count else {
                throw error(at: declaredToken, "\(types.count) result type\(types.count == 1 ? "" : "s") expected, got \(declared.count)")
            }
            if declared != types {
                let shown = { (t: [TensorType]) in t.count == 1 ? t[0].description : "(\(t.map(\.description).joined(separator: ", ")))" }
                throw error(at: declaredToken, "declared type \(shown(declared)) does not match the type \(mnemonic) produces, \(shown(types))")
            }
        }

        var results: [(name: String?, type: TensorType)] = []
        for (token, type) in zip(resultTokens, types) {
            guard case .valueName(let name) = token.kind else { preconditionFailure("result tokens are value names") }
            results.append((name, type))
        }
        let ids = graph.addNode(op, operands: operandIDs, results: results, location: location(of: opToken),
                                resultLocations: resultTokens.map { location(of: $0) },
                                trivia: Trivia(leading: leading, trailing: trailing))
        for (id, result) in zip(ids, results) { valuesByName[result.name!] = id }
    }

    private enum OperandSyntax {
        case value(String)
        case weight(String)
        case literal(Double)
    }

    private mutating func parseOperand() throws(Diagnostic) -> OperandSyntax {
        let token = tokens[position]
        position += 1
        switch token.kind {
        case .valueName(let name): return .value(name)
        case .weightName(let name): return .weight(name)
        case .integer(let n): return .literal(Double(n))
        case .float(let x): return .literal(x)
        case .word("inf"): return .literal(.infinity)
        case .word("nan"): return .literal(.nan)
        default:
            throw error(at: token, "expected an operand ('%value', '@weight' or a number), got \(token.spelling)")
        }
    }

    /// Looks names up and turns literal operands into scalar constants typed like the op's other
    /// operands (the value operands of `select`).
    private mutating func resolveOperands(_ operands: [(Token, OperandSyntax)], isSelect: Bool) throws(Diagnostic) -> [ValueID] {
        var ids: [ValueID?] = []
        for (token, syntax) in operands {
            switch syntax {
            case .value(let name):
                guard let id = valuesByName[name] else { throw error(at: token, "use of undefined value '%\(name)'") }
                ids.append(id)
            case .weight(let name):
                guard let id = weightsByName[name] else {
                    throw error(at: token, "use of undeclared weight '@\(name)'; declare it with 'weight @\(name): TYPE'")
                }
                ids.append(id)
            case .literal:
                ids.append(nil)
            }
        }
        let literalType = literalElementType(isSelect: isSelect, operandTypes: ids.map { $0.map { self.graph.type(of: $0) } })
        for (i, (token, syntax)) in operands.enumerated() {
            guard case .literal(let value) = syntax else { continue }
            guard let elementType = literalType else {
                throw error(at: token, "cannot tell the type of the literal \(token.spelling): no other operand is a value")
            }
            ids[i] = graph.addNode(.constant(.splat(value)), operands: [], results: [(nil, TensorType(elementType, []))],
                                   location: location(of: token))[0]
        }
        return ids.map { $0! }
    }

    // MARK: Types and attributes

    private mutating func parseResultTypes() throws(Diagnostic) -> [TensorType] {
        guard consumePunctuation("(") else { return [try parseType()] }
        var types: [TensorType] = []
        repeat { types.append(try parseType()) } while consumePunctuation(",")
        try expectPunctuation(")", "to close the result types")
        return types
    }

    private mutating func parseType() throws(Diagnostic) -> TensorType {
        let token = tokens[position]
        guard case .word(let name) = token.kind, let elementType = ElementType(rawValue: name) else {
            throw error(at: token, "expected a type like f32[2,3], got \(token.spelling); element types are \(ElementType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        position += 1
        try expectPunctuation("[", "after the element type")
        var dims: [Dim] = []
        if !atPunctuation("]") {
            repeat {
                let dimToken = tokens[position]
                switch dimToken.kind {
                case .integer(let n) where n >= 0: dims.append(.known(n))
                case .word(let s): dims.append(.symbol(s))
                default: throw error(at: dimToken, "expected a dim (a size >= 0 or a symbol), got \(dimToken.spelling)")
                }
                position += 1
            } while consumePunctuation(",")
        }
        try expectPunctuation("]", "to close the shape")
        let type = TensorType(elementType, dims)
        // Checked here, before any typing rule multiplies the dims.
        if let problem = sizeProblem(type) { throw error(at: token, "type \(type): \(problem)") }
        return type
    }

    private mutating func parseAttributeValue() throws(Diagnostic) -> AttributeValue {
        let token = tokens[position]
        position += 1
        switch token.kind {
        case .integer(let n): return .integer(n)
        case .float(let x): return .float(x)
        case .word("true"): return .bool(true)
        case .word("false"): return .bool(false)
        case .word("inf"): return .float(.infinity)
        case .word("nan"): return .float(.nan)
        case .word(let w): return .word(w)
        case .string(let text): return .string(text)
        case .punctuation("["):
            var items: [AttributeValue] = []
            if !atPunctuation("]") {
                repeat { items.append(try parseAttributeValue()) } while consumePunctuation(",")
            }
            try expectPunctuation("]", "to close the list")
            return .list(items)
        default:
            throw error(at: token, "expected an attribute value (a number, true/false, a word or a [list]), got \(token.spelling)")
        }
    }

    // MARK: Lines and trivia

    /// Comment-only and blank lines before a statement.
    private mutating func parseTriviaLines() -> [String] {
        var lines: [String] = []
        var atLineStart = position == 0 || tokens[position - 1].kind == .newline
        while true {
            switch tokens[position].kind {
            case .comment(let text) where tokens[position + 1].kind == .newline || tokens[position + 1].kind == .end:
                lines.append(text)
                position += tokens[position + 1].kind == .newline ? 2 : 1
                atLineStart = true
            case .newline:
                if atLineStart { lines.append("") }
                position += 1
                atLineStart = true
            default:
                return lines
            }
        }
    }

    /// An optional trailing comment and the end of the line (or file).
    private mutating func parseLineEnd() throws(Diagnostic) -> String? {
        var comment: String?
        if case .comment(let text) = tokens[position].kind {
            comment = text
            position += 1
        }
        switch tokens[position].kind {
        case .newline: position += 1
        case .end: break
        default: throw error(at: tokens[position], "expected end of line, got \(tokens[position].spelling)")
        }
        return comment
    }

    // MARK: Helpers

    private func atPunctuation(_ p: String) -> Bool { tokens[position].kind == .punctuation(p) }

    private mutating func consumePunctuation(_ p: String) -> Bool {
        guard atPunctuation(p) else { return false }
        position += 1
        return true
    }

    private mutating func expectPunctuation(_ p: String, _ context: String = "") throws(Diagnostic) {
        guard consumePunctuation(p) else {
            throw error(at: tokens[position], "expected '\(p)'\(context.isEmpty ? "" : " " + context), got \(tokens[position].spelling)")
        }
    }

    private mutating func expectWord(_ word: String, _ message: String) throws(Diagnostic) {
        guard tokens[position].kind == .word(word) else { throw error(at: tokens[position], message) }
        position += 1
    }

    private func location(of token: Token) -> SourceLocation {
        SourceLocation(file: file, line: token.line, column: token.column)
    }

    private func error(at token: Token, _ message: String) -> Diagnostic {
        Diagnostic(.error, message, at: location(of: token))
    }
}
