import GraphIR

/// Ops whose results are always known at import time: `Constant`, `ConstantOfShape`, `Shape`,
/// `Size`, and `Range` (whose bounds must be known, as its shape depends on them). What an
/// exporter computes from them is folded by `ConstantFolding.swift`.
let shapeArithmeticConverters: [String: NodeConverter] = [
    "Constant": convertConstant,
    "ConstantOfShape": convertConstantOfShape,
    "Shape": convertShape,
    "Size": convertSize,
    "Range": convertRange,
]

private func known(_ c: NodeContext, _ data: TensorData, output: Int = 0) -> [ImportValue] {
    [.known(KnownTensor(data: data, name: c.outputName(output)))]
}

private func convertConstant(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    if let tensor = try c.attributes.tensor("value") { return known(c, try decodeTensor(tensor)) }
    if let x = try c.attributes.float("value_float") { return known(c, TensorData(shape: [], floats: [Float(x)])) }
    if let xs = try c.attributes.floats("value_floats") { return known(c, TensorData(shape: [xs.count], floats: xs.map(Float.init))) }
    if let n = try c.attributes.int("value_int") { return known(c, TensorData(.i64, shape: [], storage: .integers([Int64(n)]))) }
    if let ns = try c.attributes.ints("value_ints") { return known(c, TensorData(.i64, shape: [ns.count], storage: .integers(ns.map(Int64.init)))) }
    for unsupported in ["sparse_value", "value_string", "value_strings"] where c.attributes.has(unsupported) {
        throw ImportProblem("attribute '\(unsupported)' is not supported; attnc reads value, value_float(s) and value_int(s)")
    }
    throw ImportProblem("has no value attribute")
}

private func convertConstantOfShape(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    guard let shape = try c.knownInts(0, "the shape") else { throw ImportProblem("needs the shape input") }
    let value = try c.attributes.tensor("value").map { t throws(ImportProblem) in try decodeTensor(t) }
    let elementType = value?.elementType ?? .f32
    let fill = value?.doubles.first ?? 0
    return [try c.filledOutput(0, fill, elementType, shape: shape)]
}

private func convertShape(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let shape = try c.staticShape(0)
    let rank = shape.count
    func clampedIndex(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
    let start = clampedIndex(try c.attributes.int("start", default: 0))
    let end = clampedIndex(try c.attributes.int("end", default: rank))
    let dims = start < end ? Array(shape[start..<end]) : []
    return known(c, TensorData(.i64, shape: [dims.count], storage: .integers(dims.map(Int64.init))))
}

private func convertSize(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    known(c, TensorData(.i64, shape: [], storage: .integers([Int64(try c.staticShape(0).reduce(1, *))])))
}

/// Reached when the folder could not fold: the bounds must still be known (given input values).
private func convertRange(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    var bounds: [TensorData?] = []
    for i in 0..<3 { bounds.append(try c.known(i, ["start", "limit", "delta"][i])) }
    guard let result = try foldRange(c, bounds) else { throw ImportProblem("needs start, limit and delta") }
    return known(c, result[0])
}
