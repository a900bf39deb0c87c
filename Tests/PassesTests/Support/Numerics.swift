import GraphIR
import Reference
import Runtime

/// The size every symbolic dim of an input is bound to.
let symbolSize = 5

/// Seeded random tensors for every input and weight of `graph`, in declaration order, so that the
/// same graph always gets the same numbers.
func randomBindings(for graph: Graph, seed: UInt64 = 0x5EED) -> (inputs: [String: TensorData], weights: [String: TensorData]) {
    var generator = SeededGenerator(seed: seed)
    func tensor(_ id: ValueID) -> TensorData {
        let type = graph.type(of: id)
        let bound = TensorType(type.elementType, type.shape.map { $0.value.map(Dim.known) ?? .known(symbolSize) })
        guard let data = randomTensor(bound, using: &generator) else { preconditionFailure("cannot make a tensor of \(bound)") }
        return data
    }
    var inputs: [String: TensorData] = [:], weights: [String: TensorData] = [:]
    for id in graph.inputs { inputs[graph[id].name ?? ""] = tensor(id) }
    for id in graph.weights { weights[graph[id].name ?? ""] = tensor(id) }
    return (inputs, weights)
}

/// How `rewritten` differs in meaning from `original`: both run in the reference interpreter on
/// the same seeded random inputs and weights. Each float output must have NaN and ±inf where the
/// original has them and a relative L2 error of at most `tolerance` over the finite elements;
/// other outputs must be equal. One line per problem; empty when they agree.
func numericalDifferences(_ original: Graph, _ rewritten: Graph, tolerance: Double = 1e-5) -> [String] {
    let (inputs, weights) = randomBindings(for: original)
    let expected: [(name: String, tensor: TensorData)], actual: [(name: String, tensor: TensorData)]
    do {
        expected = try ReferenceInterpreter.run(original, inputs: inputs, weights: weights)
    } catch {
        return ["the interpreter fails on the original graph: \(error)"]
    }
    do {
        actual = try ReferenceInterpreter.run(rewritten, inputs: inputs, weights: weights)
    } catch {
        return ["the interpreter fails on the rewritten graph: \(error)"]
    }
    guard expected.map(\.name) == actual.map(\.name) else {
        return ["the outputs are \(actual.map(\.name)), not \(expected.map(\.name))"]
    }
    var problems: [String] = []
    for (e, a) in zip(expected, actual) {
        if let problem = difference(a.tensor, from: e.tensor, tolerance: tolerance) { problems.append("output %\(e.name): \(problem)") }
    }
    return problems
}

/// Why `actual` is not `expected` within `tolerance`, or nil.
func difference(_ actual: TensorData, from expected: TensorData, tolerance: Double) -> String? {
    guard actual.shape == expected.shape, actual.elementType == expected.elementType else {
        return "\(actual.type) instead of \(expected.type)"
    }
    let (a, e) = (actual.doubles, expected.doubles)
    guard expected.elementType.isFloat else {
        return a == e ? nil : "integer values differ at \(zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }!.offset)"
    }
    var error = 0.0, norm = 0.0
    for (i, (x, y)) in zip(a, e).enumerated() {
        if y.isFinite && x.isFinite {
            error += (x - y) * (x - y)
            norm += y * y
        } else if !(x.isNaN && y.isNaN) && x != y {
            return "element \(i) is \(x), expected \(y)"
        }
    }
    let relative = norm > 0 ? (error / norm).squareRoot() : error.squareRoot()
    return relative <= tolerance ? nil : "relative L2 error \(relative) > \(tolerance)"
}
