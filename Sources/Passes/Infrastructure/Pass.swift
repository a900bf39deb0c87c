import GraphIR

/// A graph-to-graph transformation. `run` rewrites the graph in place and returns whether it
/// changed anything; it must leave a graph the verifier accepts.
public protocol Pass {
    /// The name `--print-after`, `--stop-after` and the statistics use.
    var name: String { get }
    func run(_ graph: inout Graph, context: PassContext) throws -> Bool
}

/// What passes report besides the graph: remarks about what was fused and what was not.
public final class PassContext {
    public private(set) var remarks: [Remark] = []

    public init() {}

    public func remark(_ kind: Remark.Kind, _ pass: String, _ message: String, at location: SourceLocation? = nil) {
        remarks.append(Remark(kind: kind, pass: pass, message: message, location: location))
    }
}

/// A note from a pass: a fusion it made, or a chain that nearly matched and what stopped it.
public struct Remark: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A fusion happened; the message says what it absorbed.
        case fused
        /// A chain looked fusible but was not; the message names the node that stopped it and why.
        case missed
    }

    public let kind: Kind
    public let pass: String
    public let message: String
    public let location: SourceLocation?

    public var description: String {
        (location.map { "\($0): " } ?? "") + "remark: [\(pass)] \(kind.rawValue): \(message)"
    }
}
