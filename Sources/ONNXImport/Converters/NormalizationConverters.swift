import GraphIR

/// `Softmax` and `LogSoftmax` (with the opset < 13 meaning: the input is seen as 2-D, flattened
/// at `axis`), `LayerNormalization`, and inference `BatchNormalization`.
let normalizationConverters: [String: NodeConverter] = [
    "Softmax": { c throws(ImportProblem) in single(try softmax(c)) },
    "LogSoftmax": { c throws(ImportProblem) in single(try c.emit(.unary(.log), [try softmax(c)])) },
    "LayerNormalization": convertLayerNormalization,
    "BatchNormalization": convertBatchNormalization,
]

private func softmax(_ c: NodeContext) throws(ImportProblem) -> ValueID {
    let x = try c.value(0)
    let type = c.type(of: x)
    let rank = type.rank
    let axis = try c.normalizedAxis(try c.attributes.int("axis", default: c.opset < 13 ? 1 : -1), rank: max(rank, 1))
    guard rank > 0 else { throw ImportProblem("needs an input of rank >= 1, got \(type)") }
    if c.opset >= 13 || axis == rank - 1 {
        return try c.emit(.softmax(axis: axis == rank - 1 ? -1 : axis), [x])
    }
    // Before opset 13 the softmax runs over all dims from `axis` on, jointly.
    let shape = try c.staticShape(of: x)
    let flat = try c.reshape(x, [shape[..<axis].reduce(1, *), shape[axis...].reduce(1, *)])
    return try c.reshape(try c.emit(.softmax(axis: -1), [flat]), shape)
}

/// The normalized dims keep their own `layer_norm` op; the optional Mean and InvStdDev outputs
/// are computed beside it from reductions (keeping the reduced dims, as ONNX does).
private func convertLayerNormalization(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let type = c.type(of: x)
    let axis = try c.normalizedAxis(try c.attributes.int("axis", default: -1), rank: type.rank)
    let epsilon = try c.attributes.float("epsilon", default: 1e-5)
    // The statistics are computed in double by the interpreter whatever stash_type asks for.
    c.attributes.ignore("stash_type")
    let normalized = Array(type.shape[axis...])
    func fitted(_ i: Int) throws(ImportProblem) -> ValueID? {
        guard let v = try c.optionalValue(i) else { return nil }
        return c.type(of: v).shape == normalized ? v : try c.emit(.broadcast(shape: normalized), [v])
    }
    let scale = try fitted(1), bias = try fitted(2)
    let operands = [x] + [scale, bias].compactMap { $0 }
    guard scale != nil || bias == nil else { throw ImportProblem("has a bias but no scale") }
    let y = try c.emit(.layerNorm(axis: axis == type.rank - 1 ? -1 : axis, epsilon: epsilon), operands)
    guard c.wantsOutput(1) || c.wantsOutput(2) else { return single(y) }
    let axes = Array(axis..<type.rank)
    let mean = try c.emit(.reduce(.mean, axes: axes, keepDims: true), [x])
    let centered = try c.emit(.binary(.sub), [x, mean])
    let variance = try c.emit(.reduce(.mean, axes: axes, keepDims: true), [try c.emit(.binary(.mul), [centered, centered])])
    let shifted = try c.emit(.binary(.add), [variance, c.scalar(epsilon, type.elementType)])
    let inverse = try c.emit(.unary(.rsqrt), [shifted])
    return [.runtime(y), .runtime(mean), .runtime(inverse)]
}

private func convertBatchNormalization(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let epsilon = try c.attributes.float("epsilon", default: 1e-5)
    c.attributes.ignore("momentum")
    if try c.attributes.int("training_mode", default: 0) != 0 {
        throw ImportProblem("attribute training_mode=1 is not supported; attnc runs inference (training_mode=0)")
    }
    if try c.attributes.int("spatial", default: 1) != 1 {
        throw ImportProblem("attribute spatial=0 is not supported; attnc supports spatial=1")
    }
    if c.requestedOutputs > 1 { throw ImportProblem("the training outputs (running mean and variance) are not supported") }
    var operands: [ValueID] = []
    for i in 0..<5 { operands.append(try c.value(i)) }
    return single(try c.emit(.batchNorm(epsilon: epsilon), operands))
}
