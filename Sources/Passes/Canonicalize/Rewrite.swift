import GraphIR

/// One local rewrite of the canonicalisation table: it looks at a node (operands already
/// rebuilt) and either builds its replacement or says why it does not apply.
struct Rewrite {
    enum Outcome {
        case replaced([ValueID])
        case notApplicable(String)
    }

    let name: String
    let apply: (_ node: Node, _ operands: [ValueID], _ rebuilder: inout GraphRebuilder) -> Outcome
}

extension GraphRebuilder {
    /// The op producing a value of the new graph, if a node does.
    func producer(_ id: ValueID) -> Node? { graph.producer(of: id) }

    /// The scalar constant a value of the new graph holds, if it is one (a splat of any shape
    /// only when it is a scalar).
    func scalarConstant(_ id: ValueID) -> Double? {
        guard graph.type(of: id).rank == 0 || graph.type(of: id).elementCount == 1 else { return nil }
        return graph.constantValue(id)
    }

    func type(_ id: ValueID) -> TensorType { graph.type(of: id) }
}
