import GraphIR

/// `MatMul` (numpy semantics, 1-D operands included), `Gemm`, and `Einsum` (in its own file).
let linearAlgebraConverters: [String: NodeConverter] = [
    "MatMul": convertMatMul,
    "Gemm": convertGemm,
    "Einsum": convertEinsum,
]

/// A 1-D left operand is a row and a 1-D right operand a column; the added dim is removed after.
private func convertMatMul(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    var a = try c.value(0), b = try c.value(1)
    let (rankA, rankB) = (c.type(of: a).rank, c.type(of: b).rank)
    guard rankA >= 1 && rankB >= 1 else { throw ImportProblem("needs operands of rank >= 1, got \(c.type(of: a)) and \(c.type(of: b))") }
    if rankA == 1 { a = try c.emit(.unsqueeze(axes: [0]), [a]) }
    if rankB == 1 { b = try c.emit(.unsqueeze(axes: [1]), [b]) }
    var y = try c.emit(.matmul(transposeA: false, transposeB: false), [a, b])
    let removed = (rankA == 1 ? [-2] : []) + (rankB == 1 ? [-1] : [])
    if !removed.isEmpty { y = try c.emit(.squeeze(axes: removed), [y]) }
    return single(y)
}

/// `alpha · op(A) · op(B) + beta · C`. The form `torch.nn.Linear` exports (B transposed, a 1-D
/// bias, unit scales) becomes `linear`; everything else a matmul with scales and an add.
private func convertGemm(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let alpha = try c.attributes.float("alpha", default: 1), beta = try c.attributes.float("beta", default: 1)
    let transA = try c.attributes.int("transA", default: 0) != 0, transB = try c.attributes.int("transB", default: 0) != 0
    let a = try c.value(0), b = try c.value(1)
    let bias = try c.optionalValue(2)
    let (typeA, typeB) = (c.type(of: a), c.type(of: b))
    guard typeA.rank == 2, typeB.rank == 2 else { throw ImportProblem("needs 2-D A and B, got \(typeA) and \(typeB)") }
    let n = typeB.shape[transB ? 0 : 1]
    if !transA && transB && alpha == 1 && (bias == nil || (beta == 1 && c.type(of: bias!).shape == [n])) {
        return single(try c.emit(.linear, [a, b] + (bias.map { [$0] } ?? [])))
    }
    let elementType = typeA.elementType
    var y = try c.emit(.matmul(transposeA: transA, transposeB: transB), [a, b])
    if alpha != 1 { y = try c.emit(.binary(.mul), [y, c.scalar(alpha, elementType)]) }
    if var bias, beta != 0 {
        if beta != 1 { bias = try c.emit(.binary(.mul), [bias, c.scalar(beta, elementType)]) }
        y = try c.emit(.binary(.add), [y, bias])
    }
    return single(y)
}
