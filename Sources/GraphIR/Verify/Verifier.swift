/// Checks the invariants every graph must hold, whoever built it (parser, builder, a pass):
/// operands defined before use, definitions consistent, each node's result types equal to what
/// its typing rule gives, names unique in their scope, outputs present and distinct.
///
/// Returns every problem found; an empty list means the graph is well formed.
public func verify(_ graph: Graph) -> [Diagnostic] {
    var problems: [Diagnostic] = []
    func report(_ message: String, _ location: SourceLocation?) {
        problems.append(Diagnostic(.error, message, at: location))
    }
    func name(_ id: ValueID) -> String {
        guard id.index >= 0 && id.index < graph.values.count else { return "value #\(id.index)" }
        let value = graph[id]
        return value.name.map { (value.isWeight ? "@" : "%") + $0 } ?? "an unnamed value"
    }

    var defined = Array(repeating: false, count: graph.values.count)
    var valueNames: Set<String> = []
    var weightNames: Set<String> = []
    for (i, id) in graph.inputs.enumerated() {
        guard graph[id].definition == .input(i) else { report("\(name(id)) is listed as input \(i) but not defined as one", graph[id].location); continue }
        defined[id.index] = true
        if let n = graph[id].name, !valueNames.insert(n).inserted { report("'%\(n)' is defined twice", graph[id].location) }
    }
    for (i, id) in graph.weights.enumerated() {
        guard graph[id].definition == .weight(i) else { report("\(name(id)) is listed as weight \(i) but not defined as one", graph[id].location); continue }
        defined[id.index] = true
        if let n = graph[id].name, !weightNames.insert(n).inserted { report("weight '@\(n)' is declared twice", graph[id].location) }
    }
    if graph.weightTrivia.count != graph.weights.count {
        report("graph has \(graph.weights.count) weights but \(graph.weightTrivia.count) trivia entries", nil)
    }
    for value in graph.values {
        for dim in value.type.shape {
            if let n = dim.value, n < 0 { report("\(value.name.map { "'\($0)'" } ?? "a value") has a negative dim in \(value.type)", value.location) }
        }
    }

    for (n, node) in graph.nodes.enumerated() {
        var operandsOK = true
        for operand in node.operands {
            guard operand.index >= 0 && operand.index < graph.values.count, defined[operand.index] else {
                report("\(node.op.mnemonic) uses \(name(operand)) before it is defined", node.location)
                operandsOK = false
                continue
            }
        }
        for (r, result) in node.results.enumerated() {
            guard result.index >= 0 && result.index < graph.values.count, graph[result].definition == .result(NodeID(n), r) else {
                report("result \(r) of \(node.op.mnemonic) is not defined by it", node.location)
                operandsOK = false
                continue
            }
            guard !defined[result.index] else {
                report("\(name(result)) is defined twice", node.location)
                continue
            }
            defined[result.index] = true
            if let n = graph[result].name, !valueNames.insert(n).inserted { report("'%\(n)' is defined twice", graph[result].location) }
        }
        guard operandsOK else { continue }
        let resultTypes = node.results.map { graph.type(of: $0) }
        do {
            let inferred = try inferResultTypes(node.op, operands: node.operands.map { graph.type(of: $0) }, declared: resultTypes)
            if inferred != resultTypes {
                report("\(node.op.mnemonic) produces \(inferred.map(\.description).joined(separator: ", ")) but its results are typed \(resultTypes.map(\.description).joined(separator: ", "))", node.location)
            }
        } catch {
            report(error.message, node.location)
        }
    }

    if graph.outputs.isEmpty { report("graph '\(graph.name)' has no outputs", nil) }
    var seenOutputs: Set<ValueID> = []
    for output in graph.outputs {
        guard output.index >= 0 && output.index < graph.values.count, defined[output.index] else {
            report("output \(name(output)) is not defined", nil)
            continue
        }
        if graph[output].name == nil { report("output \(seenOutputs.count) has no name", nil) }
        if !seenOutputs.insert(output).inserted { report("\(name(output)) is returned twice", nil) }
    }
    return problems
}

/// Throws the verifier's findings, if any.
public func verifyOrThrow(_ graph: Graph) throws(DiagnosticList) {
    let problems = verify(graph)
    if !problems.isEmpty { throw DiagnosticList(problems) }
}
