import Foundation
import GraphIR

/// Splits `shape` around `axes`: calls `body` once per kept index with the offsets of every
/// element that reduces into it.
private func forEachGroup(_ shape: [Int], axes: [Int], _ body: ([Int]) -> Void) {
    let strides = rowMajorStrides(shape)
    let kept = shape.indices.filter { !axes.contains($0) }
    let keptShape = kept.map { shape[$0] }
    let reducedShape = axes.map { shape[$0] }
    var reducedOffsets: [Int] = []
    forEachIndex(reducedShape) { index in
        reducedOffsets.append(zip(index, axes).reduce(0) { $0 + $1.0 * strides[$1.1] })
    }
    forEachIndex(keptShape) { index in
        let base = zip(index, kept).reduce(0) { $0 + $1.0 * strides[$1.1] }
        body(reducedOffsets.map { base + $0 })
    }
}

func reduce(_ x: ReferenceTensor, _ f: ReduceFunction, axes: [Int], _ type: TensorType) -> ReferenceTensor {
    var out: [Double] = []
    forEachGroup(x.shape, axes: axes) { offsets in
        let values = offsets.map { x.data[$0] }
        switch f {
        case .sum: out.append(values.reduce(0, +))
        case .mean: out.append(values.reduce(0, +) / Double(values.count))
        // NaN propagates, as torch.amax and torch.amin do; an empty reduction gives -inf / +inf.
        // An empty i1 reduction gives false / true, the identities of `or` and `and`.
        case .amax: out.append(values.contains { $0.isNaN } ? .nan : values.max() ?? (type.elementType == .i1 ? 0 : -.infinity))
        case .amin: out.append(values.contains { $0.isNaN } ? .nan : values.min() ?? (type.elementType == .i1 ? 1 : .infinity))
        }
    }
    return ReferenceTensor(type.elementType, type.staticShape!, out)
}

/// Max-subtracted softmax. A row that is entirely -inf gives NaN, as torch.softmax does.
func softmax(_ x: ReferenceTensor, axis: Int) -> ReferenceTensor {
    var out = x.data
    forEachGroup(x.shape, axes: [axis]) { offsets in
        let top = offsets.map { x.data[$0] }.max() ?? 0
        let exps = offsets.map { Foundation.exp(x.data[$0] - top) }
        let total = exps.reduce(0, +)
        for (offset, e) in zip(offsets, exps) { out[offset] = e / total }
    }
    return ReferenceTensor(x.elementType, x.shape, out)
}

/// `(x - mean) / sqrt(var + eps) * scale + bias` over dims `axis...`, with the biased variance.
func layerNorm(_ x: ReferenceTensor, scale: ReferenceTensor?, bias: ReferenceTensor?, axis: Int, epsilon: Double) -> ReferenceTensor {
    var out = x.data
    forEachGroup(x.shape, axes: Array(axis..<x.rank)) { offsets in
        let values = offsets.map { x.data[$0] }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        let inverse = 1 / (variance + epsilon).squareRoot()
        // Offsets within a group run in row-major order, so the k-th one pairs with scale[k].
        for (k, offset) in offsets.enumerated() {
            out[offset] = (x.data[offset] - mean) * inverse * (scale?.data[k] ?? 1) + (bias?.data[k] ?? 0)
        }
    }
    return ReferenceTensor(x.elementType, x.shape, out)
}

/// Inference batch norm over dim 1.
func batchNorm(_ x: ReferenceTensor, scale: ReferenceTensor, bias: ReferenceTensor, mean: ReferenceTensor,
               variance: ReferenceTensor, epsilon: Double) -> ReferenceTensor {
    let channels = x.shape[1]
    let inner = x.shape[2...].reduce(1, *)
    var out = x.data
    for i in out.indices {
        let c = (i / inner) % channels
        out[i] = (x.data[i] - mean.data[c]) / (variance.data[c] + epsilon).squareRoot() * scale.data[c] + bias.data[c]
    }
    return ReferenceTensor(x.elementType, x.shape, out)
}
