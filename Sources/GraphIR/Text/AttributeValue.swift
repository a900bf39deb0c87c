/// An attribute as written in the text form: `axis=1`, `eps=1e-05`, `perm=[0,2,1,3]`,
/// `shape=[B,S,4,-1]`, `approximate=tanh`, `keepdims=true`.
public indirect enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    case integer(Int)
    case float(Double)
    case bool(Bool)
    /// A bare word: an enum case (`tanh`, `f32`) or a symbolic dim inside a list.
    case word(String)
    /// Quoted text, for attributes with a syntax of their own (an elementwise expression).
    case string(String)
    case list([AttributeValue])

    public var description: String {
        switch self {
        case .integer(let n): return String(n)
        case .float(let x): return formatFloat(x)
        case .bool(let b): return b ? "true" : "false"
        case .word(let w): return w
        case .string(let text): return "\"" + text + "\""
        case .list(let items): return "[" + items.map(\.description).joined(separator: ",") + "]"
        }
    }

    /// The kind, for "expected ..., got ..." messages.
    var kindName: String {
        switch self {
        case .integer: return "an integer"
        case .float: return "a number"
        case .bool: return "true or false"
        case .word(let w): return "'\(w)'"
        case .string: return "a quoted string"
        case .list: return "a list"
        }
    }
}

/// Shortest text that reads back as the same Double: `0.25`, `1e-05`, `-inf`, `nan`.
public func formatFloat(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return x.description
}
