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
    // Values too large to describe: their nodes are not type-checked, since the typing rules
    // multiply dims and would overflow too.
    var oversized = Array(repeating: false, count: graph.values.count)
    for (i, value) in graph.values.enumerated() {
        let what = value.name.map { "'\($0)'" } ?? "a value"
        for dim in value.type.shape {
            if let n = dim.value, n < 0 { report("\(what) has a negative dim in \(value.type)", value.location) }
        }
        if let problem = sizeProblem(value.type) {
            report("\(what) has type \(value.type): \(problem)", value.location)
            oversized[i] = true
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
        guard operandsOK, !(node.operands + node.results).contains(where: { oversized[$0.index] }) else { continue }
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

/// The most bytes one tensor may hold: 2^48 (256 TiB). Far beyond any machine's memory, and far
/// enough below `Int.max` that sums and products of sizes in the planner and the code generator
/// cannot overflow.
public let maximumTensorBytes = 1 << 48

/// Why a tensor of `type` cannot exist, or nil when it can (symbolic dims are checked once bound).
public func sizeProblem(_ type: TensorType) -> String? {
    var elements = 1
    for dim in type.shape {
        guard let n = dim.value, n >= 0 else { return nil }
        guard !type.shape.contains(.known(0)) else { return nil }
        let (product, overflow) = elements.multipliedReportingOverflow(by: n)
        guard !overflow else { return "its element count overflows a 64-bit integer" }
        elements = product
    }
    let (bytes, overflow) = elements.multipliedReportingOverflow(by: type.elementType.byteWidth)
    guard overflow || bytes > maximumTensorBytes else { return nil }
    return "\(elements) elements need more than the \(maximumTensorBytes) bytes (256 TiB) a tensor may hold"
}

/// Throws the verifier's findings, if any.
public func verifyOrThrow(_ graph: Graph) throws(DiagnosticList) {
    let problems = verify(graph)
    if !problems.isEmpty { throw DiagnosticList(problems) }
}
