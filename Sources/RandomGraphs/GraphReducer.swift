import GraphIR

/// Shrinks a graph that fails a check to a smaller graph that still fails it: how a failing
/// random graph, or a fuzzer's, becomes a regression case of a few lines.
///
/// Greedy delta debugging over whole steps, each kept only when the result verifies and
/// `stillFails` says it fails: keep one output (or drop one); bypass a node whose result can be
/// replaced by one of its operands of the same type; cut a value loose from what computes it by
/// making it a new graph input (named `cut_NAME`). Dead nodes, inputs and weights go each time.
/// It stops when no step makes the graph smaller (fewer nodes, then inputs and weights, then outputs).
///
///     before: %a = exp(%x); %b = add(%a, %y); %c = softmax(%b); %d = mul(%c, 2.0); return %d, %a
///     after (fails when softmax is in the graph):
///             graph g(%x: f32[4,8]) { %c = softmax(%x) : f32[4,8]; return %c }   (add, exp bypassed)
///
/// `stillFails` may be called many times (each step is tried on the current graph), so it should
/// be deterministic: feed inputs from `randomInputs(for:seed:)`, which depend on the graph's
/// inputs alone.
public func reduceGraph(_ graph: Graph, stillFails: (Graph) -> Bool) -> Graph {
    var best = graph
    while let smaller = firstSmallerFailing(best, stillFails) { best = smaller }
    return best
}

/// Fewer nodes, then fewer inputs and weights, then fewer outputs.
private func smaller(_ a: Graph, than b: Graph) -> Bool {
    func size(_ g: Graph) -> [Int] { [g.nodes.count, g.inputs.count + g.weights.count, g.outputs.count] }
    return size(a).lexicographicallyPrecedes(size(b))
}

private func firstSmallerFailing(_ graph: Graph, _ stillFails: (Graph) -> Bool) -> Graph? {
    for candidate in candidates(graph) where smaller(candidate, than: graph) && verify(candidate).isEmpty && stillFails(candidate) {
        return candidate
    }
    return nil
}

/// Every one-step reduction of `graph`, lazily, the largest cuts first.
private func candidates(_ graph: Graph) -> AnySequence<Graph> {
    let outputs = graph.outputs
    var steps: [() -> Graph?] = []
    if outputs.count > 1 {
        steps += outputs.map { output in { rebuild(graph, outputs: [output], replacing: [:]) } }
        steps += outputs.indices.map { i in { rebuild(graph, outputs: outputs.enumerated().filter { $0.offset != i }.map(\.element), replacing: [:]) } }
    }
    // Later nodes first: bypassing or cutting near the outputs removes the most.
    for node in graph.nodes.reversed() {
        for result in node.results {
            // In operand order (not a Set's), so that reductions are the same on every run.
            for (i, operand) in node.operands.enumerated()
            where !node.operands[..<i].contains(operand) && graph.type(of: operand) == graph.type(of: result) {
                steps.append { rebuild(graph, outputs: outputs, replacing: [result: .value(operand)]) }
            }
        }
    }
    for node in graph.nodes {
        for result in node.results {
            steps.append { rebuild(graph, outputs: outputs, replacing: [result: .input]) }
        }
    }
    return AnySequence(steps.lazy.compactMap { $0() })
}

private enum Replacement {
    case value(ValueID)
    case input
}

/// `graph` keeping only what `outputs` need, with each value in `replacing` replaced by another
/// value or by a new input of its type; nil when that leaves two equal outputs.
private func rebuild(_ graph: Graph, outputs: [ValueID], replacing: [ValueID: Replacement]) -> Graph? {
    func resolve(_ id: ValueID) -> ValueID {
        if case .value(let other) = replacing[id] { return resolve(other) }
        return id
    }
    // What the outputs need, walking operands through the replacements.
    var needed = Set<ValueID>()
    var work = outputs.map(resolve)
    while let id = work.popLast() {
        guard needed.insert(id).inserted, replacing[id] == nil, let node = graph.producer(of: id) else { continue }
        work += node.operands.map(resolve)
    }
    let resolvedOutputs = outputs.map(resolve)
    guard Set(resolvedOutputs).count == resolvedOutputs.count else { return nil }

    var names = Set(graph.values.compactMap(\.name))
    func freshName(_ base: String) -> String {
        var name = base, n = 1
        while names.contains(name) {
            n += 1
            name = "\(base)_\(n)"
        }
        names.insert(name)
        return name
    }
    var copy = Graph(name: graph.name)
    var map: [ValueID: ValueID] = [:]
    for id in graph.inputs where needed.contains(id) { map[id] = copy.addInput(graph[id].name ?? freshName("input"), graph.type(of: id)) }
    for (id, replacement) in replacing.sorted(by: { $0.key < $1.key }) where needed.contains(id) {
        guard case .input = replacement else { continue }
        map[id] = copy.addInput(freshName("cut_\(graph[id].name ?? "v\(id.index)")"), graph.type(of: id))
    }
    for id in graph.weights where needed.contains(id) { map[id] = copy.addWeight(graph[id].name ?? freshName("weight"), graph.type(of: id)) }
    for node in graph.nodes where node.results.contains(where: { needed.contains($0) && replacing[$0] == nil }) {
        let operands = node.operands.map { map[resolve($0)]! }
        let results = copy.addNode(node.op, operands: operands, results: node.results.map { (name: graph[$0].name, type: graph.type(of: $0)) })
        for (old, new) in zip(node.results, results) where replacing[old] == nil { map[old] = new }
    }
    copy.outputs = resolvedOutputs.map { map[$0]! }
    // Outputs must be named; an inline constant that became one gets a name.
    for id in copy.outputs where copy[id].name == nil { copy.values[id.index].name = freshName("out") }
    return copy
}
