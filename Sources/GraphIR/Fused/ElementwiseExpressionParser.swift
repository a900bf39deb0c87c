/// Reads the text form of an `ElementwiseExpression` (see its doc comment). Literals get their
/// type from the value they meet: the other side of a binary function or `select`, else f32 for
/// numbers and i64 for `iota`.
public func parseElementwiseExpression(_ text: String, operandTypes: [ElementType]) throws(TypeRuleError) -> ElementwiseExpression {
    var parser = ExpressionTextParser(characters: Array(text))
    let tree = try parser.parseTerm()
    parser.skipSpaces()
    guard parser.atEnd else { throw TypeRuleError("unexpected '\(parser.rest)' after the expression") }
    return try tree.resolve(operandTypes: operandTypes, literal: nil)
}

/// The expression before literal types are known.
private indirect enum UntypedExpression {
    case operand(Int)
    case number(Double)
    case iota(Int, ElementType?)
    case call(String, ElementType?, [UntypedExpression])

    var isLiteral: Bool {
        switch self {
        case .number: return true
        case .iota(_, let t): return t == nil
        default: return false
        }
    }

    func resolve(operandTypes: [ElementType], literal: ElementType?) throws(TypeRuleError) -> ElementwiseExpression {
        switch self {
        case .operand(let i):
            guard i < operandTypes.count else { throw TypeRuleError("expression reads $\(i) but the op has \(operandTypes.count) operand\(operandTypes.count == 1 ? "" : "s")") }
            return .operand(i)
        case .number(let x):
            return .constant(x, literal ?? .f32)
        case .iota(let d, let t):
            return .iota(dim: d, t ?? literal ?? .i64)
        case .call(let name, let typeArgument, let arguments):
            func expect(_ n: Int) throws(TypeRuleError) {
                guard arguments.count == n else { throw TypeRuleError("\(name) takes \(n) argument\(n == 1 ? "" : "s"), got \(arguments.count)") }
            }
            if name == "cast" {
                try expect(1)
                guard let to = typeArgument else { throw TypeRuleError("cast needs its target type, as cast<f32>(...)") }
                return .cast(try arguments[0].resolve(operandTypes: operandTypes, literal: nil), to: to)
            }
            if name == "select" {
                try expect(3)
                let condition = try arguments[0].resolve(operandTypes: operandTypes, literal: nil)
                let (a, b) = try UntypedExpression.pair(arguments[1], arguments[2], operandTypes: operandTypes, literal: literal)
                return .select(condition, a, b)
            }
            if name == "gelu_tanh" {
                try expect(1)
                return .unary(.geluTanh, try arguments[0].resolve(operandTypes: operandTypes, literal: literal))
            }
            if let f = UnaryFunction(rawValue: name) {
                try expect(1)
                return .unary(f, try arguments[0].resolve(operandTypes: operandTypes, literal: literal))
            }
            if let f = BinaryFunction(rawValue: name) {
                try expect(2)
                // Comparisons give i1; their literals take their sibling's type, not the result's.
                let (a, b) = try UntypedExpression.pair(arguments[0], arguments[1], operandTypes: operandTypes,
                                                        literal: f.isComparison ? nil : literal)
                return .binary(f, a, b)
            }
            throw TypeRuleError("unknown function '\(name)' in the expression")
        }
    }

    /// Two siblings whose literals take the other one's type.
    static func pair(_ a: UntypedExpression, _ b: UntypedExpression, operandTypes: [ElementType],
                     literal: ElementType?) throws(TypeRuleError) -> (ElementwiseExpression, ElementwiseExpression) {
        if a.isLiteral && !b.isLiteral {
            let typedB = try b.resolve(operandTypes: operandTypes, literal: literal)
            let t = try typedB.elementType(operands: operandTypes)
            return (try a.resolve(operandTypes: operandTypes, literal: t), typedB)
        }
        let typedA = try a.resolve(operandTypes: operandTypes, literal: literal)
        let t = try typedA.elementType(operands: operandTypes)
        return (typedA, try b.resolve(operandTypes: operandTypes, literal: b.isLiteral ? t : literal))
    }
}

private struct ExpressionTextParser {
    let characters: [Character]
    var position = 0

    var atEnd: Bool { position >= characters.count }
    var rest: String { String(characters[position...]) }

    mutating func skipSpaces() {
        while !atEnd && characters[position] == " " { position += 1 }
    }

    mutating func parseTerm() throws(TypeRuleError) -> UntypedExpression {
        skipSpaces()
        guard !atEnd else { throw TypeRuleError("the expression ends early") }
        let c = characters[position]
        if c == "$" {
            position += 1
            let digits = readWhile { $0.isNumber }
            guard let i = Int(digits) else { throw TypeRuleError("expected an operand number after '$'") }
            return .operand(i)
        }
        if c.isNumber || c == "-" || c == "." {
            let text = readWhile { $0.isNumber || $0.isLetter || "-+.".contains($0) }
            guard let x = text == "-inf" ? -Double.infinity : Double(text) else { throw TypeRuleError("malformed number '\(text)' in the expression") }
            return .number(x)
        }
        let name = readWhile { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty else { throw TypeRuleError("unexpected '\(c)' in the expression") }
        if name == "inf" { return .number(.infinity) }
        if name == "nan" { return .number(.nan) }
        var typeArgument: ElementType?
        if !atEnd && characters[position] == "<" {
            position += 1
            let typeName = readWhile { $0 != ">" }
            guard !atEnd, let t = ElementType(rawValue: typeName) else { throw TypeRuleError("unknown type '\(typeName)' in the expression") }
            position += 1
            typeArgument = t
        }
        skipSpaces()
        guard !atEnd && characters[position] == "(" else { throw TypeRuleError("expected '(' after '\(name)' in the expression") }
        position += 1
        if name == "iota" {
            skipSpaces()
            guard let d = Int(readWhile { $0.isNumber }) else { throw TypeRuleError("iota takes a dim number") }
            try expect(")")
            return .iota(d, typeArgument)
        }
        var arguments: [UntypedExpression] = []
        skipSpaces()
        if !atEnd && characters[position] == ")" {
            position += 1
            return .call(name, typeArgument, arguments)
        }
        while true {
            arguments.append(try parseTerm())
            skipSpaces()
            guard !atEnd else { throw TypeRuleError("the expression ends early") }
            if characters[position] == "," { position += 1; continue }
            try expect(")")
            return .call(name, typeArgument, arguments)
        }
    }

    private mutating func expect(_ c: Character) throws(TypeRuleError) {
        skipSpaces()
        guard !atEnd && characters[position] == c else { throw TypeRuleError("expected '\(c)' in the expression") }
        position += 1
    }

    private mutating func readWhile(_ predicate: (Character) -> Bool) -> String {
        var text = ""
        while !atEnd && predicate(characters[position]) {
            text.append(characters[position])
            position += 1
        }
        return text
    }
}
