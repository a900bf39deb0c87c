import GraphIR

/// Random values for a graph's inputs, by name: standard normal floats, 0 or 1 for `i1`, and
/// integers in 0...15. With `specialValues`, about one float in 64 is NaN, +inf or -inf, to
/// check that they propagate as the interpreter says.
public func randomInputs(for graph: Graph, seed: UInt64, specialValues: Bool = false) -> [String: TensorData] {
    var random = GraphRandom(seed: seed ^ 0x5EED_1A9E_0000_0001)
    var tensors: [String: TensorData] = [:]
    for id in graph.inputs {
        tensors[graph[id].name ?? ""] = randomTensor(graph.type(of: id), &random, special: specialValues ? 1.0 / 64 : 0)
    }
    return tensors
}

/// Random values for a graph's weights, by name: standard normal floats, except weights named
/// `*.running_var` (batch norm variances), which are in [0.5, 2.5).
public func randomWeights(for graph: Graph, seed: UInt64) -> [String: TensorData] {
    var random = GraphRandom(seed: seed ^ 0x3E16_B7A5_0000_0002)
    var tensors: [String: TensorData] = [:]
    for id in graph.weights {
        let name = graph[id].name ?? ""
        var tensor = randomTensor(graph.type(of: id), &random, special: 0)
        if name.hasSuffix("running_var") {
            tensor = TensorData(tensor.elementType, shape: tensor.shape, doubles: tensor.doubles.map { Swift.abs($0) + 0.5 })
        }
        tensors[name] = tensor
    }
    return tensors
}

private func randomTensor(_ type: TensorType, _ random: inout GraphRandom, special: Double) -> TensorData {
    guard let shape = type.staticShape else { preconditionFailure("random tensors need static shapes, not \(type)") }
    let count = shape.reduce(1, *)
    let values: [Double]
    if type.elementType.isFloat {
        values = (0..<count).map { _ in
            if special > 0 && random.chance(special) { return random.pick([Double.nan, .infinity, -.infinity]) }
            return random.normal()
        }
    } else if type.elementType == .i1 {
        values = (0..<count).map { _ in Double(random.next() & 1) }
    } else {
        values = (0..<count).map { _ in Double(random.next() % 16) }
    }
    return TensorData(type.elementType, shape: shape, doubles: values)
}
