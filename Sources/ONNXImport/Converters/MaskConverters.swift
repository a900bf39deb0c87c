import GraphIR

/// `Trilu`, spelled with `iota` and a comparison so that a causal mask stays recognisable:
///
///     Trilu(ones(20, 20), k=1, upper=1)   becomes   gt(iota(axis=1), iota(axis=0)) : i1[20,20]
let maskConverters: [String: NodeConverter] = [
    "Trilu": convertTrilu,
]

private func convertTrilu(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let upper = try c.attributes.int("upper", default: 1) != 0
    let k = try c.known(1, "k").map { Int(clamping: $0.integers.first ?? 0) } ?? 0
    let shape = try c.staticShape(0)
    guard shape.count >= 2 else { throw ImportProblem("needs an input of rank >= 2, got \(try c.type(0))") }
    let (rows, columns) = (shape[shape.count - 2], shape[shape.count - 1])
    let grid = TensorType(.i64, dims: [rows, columns])
    let row = try c.emit(.iota(axis: 0), [], declared: grid)
    let column = try c.emit(.iota(axis: 1), [], declared: grid)
    // Keep (i, j) when j - i >= k (upper) or j - i <= k (lower).
    let keep: ValueID
    switch (upper, k) {
    case (true, 0): keep = try c.emit(.binary(.ge), [column, row])
    case (true, 1): keep = try c.emit(.binary(.gt), [column, row])
    case (false, 0): keep = try c.emit(.binary(.le), [column, row])
    case (false, -1): keep = try c.emit(.binary(.lt), [column, row])
    default:
        let offset = try c.emit(.binary(.sub), [column, row])
        keep = try c.emit(.binary(upper ? .ge : .le), [offset, c.scalar(Double(k), .i64)])
    }
    let elementType = try c.type(0).elementType
    if case .known(let input)? = c.input(0), input.data.isSplat, input.data.doubles[0] == 1, elementType == .i1 {
        // Trilu of all-true is the mask itself.
        return single(shape.count == 2 ? keep : try c.emit(.broadcast(shape: shape.map(Dim.known)), [keep]))
    }
    return single(try c.emit(.select, [keep, try c.value(0), c.scalar(0, elementType)]))
}
