import GraphIR

/// Builds a new graph from an old one node by node: the way every pass rewrites. Nodes are
/// copied (operands renamed through the old→new map) or replaced by new nodes; `finish` keeps
/// the graph's interface (input, weight and output names) exactly as it was.
struct GraphRebuilder {
    let old: Graph
    private(set) var graph: Graph
    /// Old value → the value standing for it in the new graph.
    private(set) var map: [ValueID: ValueID] = [:]
    private var takenNames: Set<String>
    private var counter = 0

    init(_ old: Graph) {
        self.old = old
        var graph = Graph(name: old.name)
        graph.headerTrivia = old.headerTrivia
        graph.returnTrivia = old.returnTrivia
        graph.closingTrivia = old.closingTrivia
        graph.trailingLines = old.trailingLines
        self.graph = graph
        takenNames = Set(old.values.compactMap(\.name))
        for id in old.inputs {
            map[id] = self.graph.addInput(old[id].name ?? "", old.type(of: id), location: old[id].location)
        }
        for (id, trivia) in zip(old.weights, old.weightTrivia) {
            map[id] = self.graph.addWeight(old[id].name ?? "", old.type(of: id), location: old[id].location, trivia: trivia)
        }
    }

    /// The new value for an old one (which must already be defined).
    func value(_ old: ValueID) -> ValueID {
        guard let new = map[old] else { preconditionFailure("value \(old) used before it was rebuilt") }
        return new
    }

    /// Copies an old node unchanged.
    mutating func copy(_ node: Node) {
        let results = node.results.map { (name: old[$0].name, type: old.type(of: $0)) }
        let ids = graph.addNode(node.op, operands: node.operands.map(value), results: results, location: node.location,
                                resultLocations: node.results.map { old[$0].location }, trivia: node.trivia)
        for (oldID, newID) in zip(node.results, ids) { map[oldID] = newID }
    }

    /// Adds a new node; results without a name get a fresh one.
    mutating func add(_ op: Op, _ operands: [ValueID], types: [TensorType], names: [String?] = [], location: SourceLocation? = nil,
                      trivia: Trivia = .none) -> [ValueID] {
        let results = types.enumerated().map { i, type in (name: (i < names.count ? names[i] : nil) ?? freshName(), type: type) }
        return graph.addNode(op, operands: operands, results: results, location: location, trivia: trivia)
    }

    /// Adds a scalar constant printed inline.
    mutating func literal(_ x: Double, _ type: ElementType) -> ValueID {
        graph.addNode(.constant(.splat(x)), operands: [], results: [(nil, TensorType(type, []))])[0]
    }

    /// Gives a new value a name (replacing a fresh one).
    mutating func rename(_ id: ValueID, to name: String) {
        takenNames.insert(name)
        graph[id].name = name
    }

    /// From now on, old value `old` is `new`.
    mutating func replace(_ old: ValueID, with new: ValueID) { map[old] = new }

    mutating func freshName() -> String {
        while takenNames.contains("t\(counter)") { counter += 1 }
        takenNames.insert("t\(counter)")
        return "t\(counter)"
    }

    /// The rebuilt graph. Outputs keep their names: a replacement value takes the output's name,
    /// or is passed through `identity` when it already is an input, a weight or another output.
    mutating func finish() -> Graph {
        var outputs: [ValueID] = []
        for id in old.outputs {
            var new = value(id)
            let name = old[id].name
            if graph[new].name != name {
                if graph[new].isWeight || graph.inputs.contains(new) || outputs.contains(new) || old.outputs.contains(where: { graph[new].name == old[$0].name }) {
                    new = graph.addNode(.unary(.identity), operands: [new], results: [(name, graph.type(of: new))])[0]
                } else {
                    graph[new].name = name
                }
            }
            outputs.append(new)
        }
        graph.outputs = outputs
        return graph
    }
}

extension Graph {
    /// The node defining `id` with its index, when `id` is a node result.
    func definingNode(_ id: ValueID) -> (NodeID, Node)? {
        guard case .result(let n, _) = self[id].definition else { return nil }
        return (n, self[n])
    }

    /// The value of a scalar (or splat) constant.
    func constantValue(_ id: ValueID) -> Double? {
        guard let (_, node) = definingNode(id), case .constant(.splat(let x)) = node.op else { return nil }
        return x
    }
}
