/// A JSON value as the safetensors header needs it: object members in file order, and integers
/// kept exact.
///
/// Foundation's `JSONSerialization` loses member order (the header's tensor order), turns integers
/// into `NSNumber`s that also pass for booleans, and differs between platforms; this small parser
/// does none of that.
indirect enum JSONValue: CustomStringConvertible {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number, kept as written.
    case number(String)
    case bool(Bool)
    case null

    /// Compact JSON text for error messages.
    var description: String {
        switch self {
        case .object(let members):
            return "{" + members.map { "\(JSONValue.string($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .string(let text):
            return "\"" + text.unicodeScalars.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : "\($0)" }.joined() + "\""
        case .integer(let value): return String(value)
        case .number(let text): return text
        case .bool(let value): return String(value)
        case .null: return "null"
        }
    }

    /// A parse failure: what was expected, and the byte offset where it went wrong.
    struct SyntaxError: Error, Equatable {
        let message: String
        let offset: Int
    }

    /// Parses UTF-8 `bytes` holding exactly one JSON value (surrounding whitespace allowed).
    static func parse(_ bytes: ArraySlice<UInt8>) throws -> JSONValue {
        var parser = JSONParser(bytes: Array(bytes))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.atEnd else { throw parser.failure("unexpected text after the value") }
        return value
    }
}

/// A recursive-descent parser over UTF-8 bytes (RFC 8259).
private struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    /// Deeper nesting than this is refused rather than risking the stack on a hostile file.
    static let maximumDepth = 64

    var atEnd: Bool { index >= bytes.count }
    var next: UInt8? { atEnd ? nil : bytes[index] }

    func failure(_ message: String) -> JSONValue.SyntaxError {
        JSONValue.SyntaxError(message: message, offset: index)
    }

    mutating func skipSpace() {
        while let c = next, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
    }

    mutating func value() throws -> JSONValue {
        skipSpace()
        guard let c = next else { throw failure("expected a value, found the end of the header") }
        switch c {
        case UInt8(ascii: "{"): return try nested { try $0.object() }
        case UInt8(ascii: "["): return try nested { try $0.array() }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default:
            for (word, value) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)]
            where bytes[index...].starts(with: word.utf8) {
                index += word.utf8.count
                return value
            }
            throw failure("unexpected character '\(Unicode.Scalar(c))'")
        }
    }

    private mutating func nested(_ parse: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("values nested too deeply") }
        depth += 1
        defer { depth -= 1 }
        index += 1  // the opening bracket
        return try parse(&self)
    }

    private mutating func object() throws -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if next == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipSpace()
            guard next == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try string()
            skipSpace()
            guard next == UInt8(ascii: ":") else { throw failure("expected ':' after the key \"\(key)\"") }
            index += 1
            members.append((key, try value()))
            skipSpace()
            guard let c = next, c == UInt8(ascii: ",") || c == UInt8(ascii: "}") else {
                throw failure("expected ',' or '}'")
            }
            index += 1
            if c == UInt8(ascii: "}") { return .object(members) }
        }
    }

    private mutating func array() throws -> JSONValue {
        var items: [JSONValue] = []
        skipSpace()
        if next == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            guard let c = next, c == UInt8(ascii: ",") || c == UInt8(ascii: "]") else {
                throw failure("expected ',' or ']'")
            }
            index += 1
            if c == UInt8(ascii: "]") { return .array(items) }
        }
    }

    /// The byte each one-letter escape (`\n`, `\"`, ...) stands for.
    static let simpleEscapes: [UInt8: UInt8] = [
        UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
        UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
    ]

    private mutating func string() throws -> String {
        let start = index
        index += 1  // the opening quote
        var utf8: [UInt8] = []
        while let c = next, c != UInt8(ascii: "\"") {
            guard c >= 0x20 else { throw failure("control character in a string") }
            index += 1
            guard c == UInt8(ascii: "\\") else { utf8.append(c); continue }
            guard let escaped = next else { break }
            index += 1
            if let byte = Self.simpleEscapes[escaped] {
                utf8.append(byte)
            } else if escaped == UInt8(ascii: "u") {
                utf8 += Array(String(Character(try unicodeEscape())).utf8)
            } else {
                index -= 2
                throw failure("invalid escape '\\\(Unicode.Scalar(escaped))'")
            }
        }
        guard next == UInt8(ascii: "\"") else {
            index = start
            throw failure("unterminated string")
        }
        index += 1
        guard let text = String(validating: utf8, as: UTF8.self) else {
            index = start
            throw failure("string is not valid UTF-8")
        }
        return text
    }

    /// The character of a `\uXXXX` escape (after the `u`), joining a UTF-16 surrogate pair.
    private mutating func unicodeEscape() throws -> Unicode.Scalar {
        let high = try hexQuad()
        if (0xD800..<0xDC00).contains(high), bytes[index...].starts(with: Array("\\u".utf8)) {
            index += 2
            let low = try hexQuad()
            if (0xDC00..<0xE000).contains(low),
               let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                return scalar
            }
            throw failure("invalid UTF-16 surrogate pair")
        }
        guard let scalar = Unicode.Scalar(high) else { throw failure("unpaired UTF-16 surrogate") }
        return scalar
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard index + 4 <= bytes.count,
              bytes[index..<index + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
              let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw failure("expected four hex digits after '\\u'")
        }
        index += 4
        return value
    }

    private mutating func number() throws -> JSONValue {
        let start = index
        func digits() -> Bool {
            let first = index
            while let c = next, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) { index += 1 }
            return index > first
        }
        if next == UInt8(ascii: "-") { index += 1 }
        var valid = digits()
        var isInteger = true
        if next == UInt8(ascii: ".") {
            index += 1
            isInteger = false
            valid = valid && digits()
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            index += 1
            isInteger = false
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { index += 1 }
            valid = valid && digits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard valid else {
            index = start
            throw failure("malformed number")
        }
        if isInteger, let value = Int(text) { return .integer(value) }
        return .number(text)
    }
}
