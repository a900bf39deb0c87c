/// Index of a value in `Graph.values`.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
    public var description: String { "v\(index)" }
}

/// Index of a node in `Graph.nodes`.
public struct NodeID: Hashable, Comparable, Sendable {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.index < b.index }
}

/// Comment and blank lines written before a statement, and a comment after it on the same line.
/// Kept so that printing a parsed file gives back the same text.
public struct Trivia: Hashable, Sendable {
    /// Each line is a comment (`// ...`) or empty (a blank line).
    public var leading: [String]
    /// A `// ...` comment after the statement, or nil.
    public var trailing: String?

    public init(leading: [String] = [], trailing: String? = nil) {
        self.leading = leading
        self.trailing = trailing
    }

    public static let none = Trivia()
}

/// An SSA value: a graph input, a weight, or a node's result.
public struct Value: Hashable, Sendable {
    public enum Definition: Hashable, Sendable {
        case input(Int)
        case weight(Int)
        case result(NodeID, Int)
    }

    /// The name without its sigil (`%` for inputs and results, `@` for weights). Nil only for a
    /// scalar constant written inline as an operand, which prints as its literal.
    public var name: String?
    public var type: TensorType
    public var definition: Definition
    /// Where the value is defined (its name in the source), when it came from text.
    public var location: SourceLocation?

    public var isWeight: Bool {
        if case .weight = definition { return true }
        return false
    }
}

/// An operation applied to operand values, producing result values.
public struct Node: Hashable, Sendable {
    public var op: Op
    public var operands: [ValueID]
    public var results: [ValueID]
    /// Where the op's name is in the source, when it came from text.
    public var location: SourceLocation?
    public var trivia: Trivia

    public init(op: Op, operands: [ValueID], results: [ValueID], location: SourceLocation? = nil, trivia: Trivia = .none) {
        self.op = op
        self.operands = operands
        self.results = results
        self.location = location
        self.trivia = trivia
    }
}

/// A module as a typed SSA graph: inputs, named weights, nodes in definition order, outputs.
public struct Graph: Hashable, Sendable {
    public var name: String
    public var values: [Value] = []
    public var nodes: [Node] = []
    public var inputs: [ValueID] = []
    public var weights: [ValueID] = []
    public var outputs: [ValueID] = []

    /// Lines before `graph` and the comment after `{`.
    public var headerTrivia = Trivia.none
    /// Lines before each weight declaration, and its trailing comment (parallel to `weights`).
    public var weightTrivia: [Trivia] = []
    /// Lines before `return`, and its trailing comment.
    public var returnTrivia = Trivia.none
    /// Lines between `return` and `}`, and the comment after `}`.
    public var closingTrivia = Trivia.none
    /// Comment and blank lines after the closing `}`.
    public var trailingLines: [String] = []

    public init(name: String) { self.name = name }

    public subscript(_ id: ValueID) -> Value {
        get { values[id.index] }
        set { values[id.index] = newValue }
    }

    public subscript(_ id: NodeID) -> Node {
        get { nodes[id.index] }
        set { nodes[id.index] = newValue }
    }

    public func type(of id: ValueID) -> TensorType { values[id.index].type }

    /// The node that defines `id`, if it is a node result.
    public func producer(of id: ValueID) -> Node? {
        if case .result(let node, _) = values[id.index].definition { return nodes[node.index] }
        return nil
    }

    /// Adds a graph input.
    @discardableResult
    public mutating func addInput(_ name: String, _ type: TensorType, location: SourceLocation? = nil) -> ValueID {
        let id = ValueID(values.count)
        values.append(Value(name: name, type: type, definition: .input(inputs.count), location: location))
        inputs.append(id)
        return id
    }

    /// Declares a named weight.
    @discardableResult
    public mutating func addWeight(_ name: String, _ type: TensorType, location: SourceLocation? = nil,
                                   trivia: Trivia = .none) -> ValueID {
        let id = ValueID(values.count)
        values.append(Value(name: name, type: type, definition: .weight(weights.count), location: location))
        weights.append(id)
        weightTrivia.append(trivia)
        return id
    }

    /// Appends a node whose results have the given names (nil: printed inline) and types.
    @discardableResult
    public mutating func addNode(_ op: Op, operands: [ValueID], results: [(name: String?, type: TensorType)],
                                 location: SourceLocation? = nil, resultLocations: [SourceLocation?] = [],
                                 trivia: Trivia = .none) -> [ValueID] {
        let nodeID = NodeID(nodes.count)
        var ids: [ValueID] = []
        for (i, result) in results.enumerated() {
            let id = ValueID(values.count)
            let resultLocation = i < resultLocations.count ? resultLocations[i] : location
            values.append(Value(name: result.name, type: result.type, definition: .result(nodeID, i), location: resultLocation))
            ids.append(id)
        }
        nodes.append(Node(op: op, operands: operands, results: ids, location: location, trivia: trivia))
        return ids
    }

    /// The weight declared under `name`, if any.
    public func weight(named name: String) -> ValueID? {
        weights.first { values[$0.index].name == name }
    }

    /// The input declared under `name`, if any.
    public func input(named name: String) -> ValueID? {
        inputs.first { values[$0.index].name == name }
    }

    /// The names of the outputs, in order.
    public var outputNames: [String] { outputs.map { values[$0.index].name ?? "" } }

    /// For every value, the nodes that use it (in node order, once per node).
    public func users() -> [[NodeID]] {
        var users = Array(repeating: [NodeID](), count: values.count)
        for (n, node) in nodes.enumerated() {
            for operand in Set(node.operands) { users[operand.index].append(NodeID(n)) }
        }
        return users
    }
}
