import Foundation

/// A value in the subset of Python literal syntax that `.npy` headers are written in.
///
/// numpy writes the header as the `repr` of a dict and reads it back with `ast.literal_eval`, so a
/// header is `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`: strings, booleans,
/// `None`, integers, tuples, lists and dicts with string keys. Parsing it properly (rather than
/// searching the text) is what lets a malformed header get a precise error.
indirect enum PythonLiteral: CustomStringConvertible {
    case string(String)
    case integer(Int)
    /// A float, or an integer too large for `Int`, kept as written so that errors can quote it.
    case otherNumber(String)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    /// Entries in the order written; a repeated key appears twice.
    case dict([(key: String, value: PythonLiteral)])

    /// The value as Python's `repr` would show it.
    var description: String {
        switch self {
        case .string(let text): return PythonLiteral.quote(text)
        case .integer(let value): return String(value)
        case .otherNumber(let text): return text
        case .bool(let value): return value ? "True" : "False"
        case .none: return "None"
        case .tuple(let items) where items.count == 1: return "(\(items[0]),)"
        case .tuple(let items): return "(" + items.map(\.description).joined(separator: ", ") + ")"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dict(let entries):
            return "{" + entries.map { "\(PythonLiteral.quote($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    /// A name for the kind of value, for "found a tuple" style messages.
    var kindName: String {
        switch self {
        case .string: return "a string"
        case .integer, .otherNumber: return "a number"
        case .bool: return "a boolean"
        case .none: return "None"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        }
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// A parse failure: what was expected, and the character offset where it went wrong.
    struct SyntaxError: Error, Equatable {
        let message: String
        let offset: Int
    }

    /// Parses `text`, which must hold exactly one literal (surrounding whitespace allowed).
    static func parse(_ text: String) throws -> PythonLiteral {
        var parser = PythonLiteralParser(text: Array(text.unicodeScalars))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.atEnd else { throw parser.failure("unexpected text after the value") }
        return value
    }
}

/// A recursive-descent parser over the header's characters.
private struct PythonLiteralParser {
    let text: [Unicode.Scalar]
    var index = 0
    var depth = 0

    /// Deeper nesting than this is refused rather than risking the stack on a hostile file.
    static let maximumDepth = 64

    var atEnd: Bool { index >= text.count }
    var next: Unicode.Scalar? { atEnd ? nil : text[index] }

    func failure(_ message: String) -> PythonLiteral.SyntaxError {
        PythonLiteral.SyntaxError(message: message, offset: index)
    }

    mutating func skipSpace() {
        while let c = next, c == " " || c == "\t" || c == "\n" || c == "\r" { index += 1 }
    }

    mutating func value() throws -> PythonLiteral {
        skipSpace()
        guard let c = next else { throw failure("expected a value, found the end of the header") }
        switch c {
        case "{": return try nested { try $0.dict() }
        case "(": return try nested { try $0.tuple() }
        case "[": return try nested { .list(try $0.items(closingWith: "]").items) }
        case "'", "\"": return .string(try string())
        case "-", "+", ".", "0"..."9": return try number()
        default: return try keyword()
        }
    }

    private mutating func nested(_ parse: (inout PythonLiteralParser) throws -> PythonLiteral) throws -> PythonLiteral {
        guard depth < Self.maximumDepth else { throw failure("values nested too deeply") }
        depth += 1
        defer { depth -= 1 }
        index += 1  // the opening bracket
        return try parse(&self)
    }

    /// Comma-separated values up to `close`; also reports whether any comma was seen.
    private mutating func items(closingWith close: Unicode.Scalar) throws -> (items: [PythonLiteral], sawComma: Bool) {
        var items: [PythonLiteral] = []
        var sawComma = false
        while true {
            skipSpace()
            if next == close { index += 1; return (items, sawComma) }
            items.append(try value())
            skipSpace()
            if next == "," {
                index += 1
                sawComma = true
            } else if next != close {
                throw failure("expected ',' or '\(close)'")
            }
        }
    }

    private mutating func tuple() throws -> PythonLiteral {
        let (items, sawComma) = try items(closingWith: ")")
        // `(3)` is a parenthesised 3, not a tuple; `(3,)` is the one-element tuple.
        if items.count == 1 && !sawComma { return items[0] }
        return .tuple(items)
    }

    private mutating func dict() throws -> PythonLiteral {
        var entries: [(key: String, value: PythonLiteral)] = []
        while true {
            skipSpace()
            if next == "}" { index += 1; return .dict(entries) }
            guard next == "'" || next == "\"" else { throw failure("expected a string key or '}'") }
            let key = try string()
            skipSpace()
            guard next == ":" else { throw failure("expected ':' after the key \(PythonLiteral.quote(key))") }
            index += 1
            entries.append((key, try value()))
            skipSpace()
            if next == "," {
                index += 1
            } else if next != "}" {
                throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func string() throws -> String {
        let quote = text[index]
        let start = index
        index += 1
        var scalars = String.UnicodeScalarView()
        while let c = next, c != quote {
            index += 1
            guard c == "\\" else { scalars.append(c); continue }
            guard let escaped = next else { break }
            index += 1
            switch escaped {
            case "n": scalars.append("\n")
            case "t": scalars.append("\t")
            case "r": scalars.append("\r")
            case "0": scalars.append("\0")
            case "\\", "'", "\"": scalars.append(escaped)
            // Python keeps the backslash of an escape it does not know.
            default: scalars.append("\\"); scalars.append(escaped)
            }
        }
        guard next == quote else {
            index = start
            throw failure("unterminated string")
        }
        index += 1
        return String(scalars)
    }

    private mutating func number() throws -> PythonLiteral {
        let start = index
        if next == "-" || next == "+" { index += 1 }
        while let c = next, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "." || c == "_" {
            let isExponent = c == "e" || c == "E"
            index += 1
            if isExponent, next == "-" || next == "+" { index += 1 }
        }
        let written = String(String.UnicodeScalarView(text[start..<index]))
        // Python 2 numpy wrote shapes as `(2L, 3L)`; the suffix changes nothing.
        var digits = written.replacingOccurrences(of: "_", with: "")
        if digits.hasSuffix("L") || digits.hasSuffix("l") { digits.removeLast() }
        let unsigned = digits.hasPrefix("-") || digits.hasPrefix("+") ? digits.dropFirst() : Substring(digits)
        if !unsigned.isEmpty && unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Int(digits).map(PythonLiteral.integer) ?? .otherNumber(written)
        }
        guard Double(digits) != nil else {
            index = start
            throw failure("malformed number '\(written)'")
        }
        return .otherNumber(written)
    }

    private mutating func keyword() throws -> PythonLiteral {
        let start = index
        while let c = next, c.properties.isAlphabetic || c == "_" { index += 1 }
        switch String(String.UnicodeScalarView(text[start..<index])) {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        default:
            index = start
            throw failure("unexpected character '\(text[start])'")
        }
    }
}
