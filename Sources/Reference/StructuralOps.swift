import GraphIR

func transpose(_ x: ReferenceTensor, _ permutation: [Int]) -> ReferenceTensor {
    let shape = permutation.map { x.shape[$0] }
    let strides = x.strides
    var out: [Double] = []
    out.reserveCapacity(x.count)
    forEachIndex(shape) { index in
        var offset = 0
        for (d, p) in permutation.enumerated() { offset += index[d] * strides[p] }
        out.append(x.data[offset])
    }
    return ReferenceTensor(x.elementType, shape, out)
}

func concat(_ operands: [ReferenceTensor], axis: Int, _ type: TensorType) -> ReferenceTensor {
    let shape = type.staticShape!
    let outer = shape[..<axis].reduce(1, *)
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    for o in 0..<outer {
        for x in operands {
            let chunk = x.shape[axis...].reduce(1, *)
            out.append(contentsOf: x.data[(o * chunk)..<((o + 1) * chunk)])
        }
    }
    return ReferenceTensor(type.elementType, shape, out)
}

func slice(_ x: ReferenceTensor, axes: [Int], starts: [Int], ends: [Int], steps: [Int], _ type: TensorType) -> ReferenceTensor {
    var first = Array(repeating: 0, count: x.rank)
    var step = Array(repeating: 1, count: x.rank)
    for (i, axis) in axes.enumerated() {
        let a = axis < 0 ? axis + x.rank : axis
        let range = SliceRange(start: starts[i], end: ends[i], step: steps[i], size: x.shape[a])
        first[a] = range.start
        step[a] = range.step
    }
    let shape = type.staticShape!
    let strides = x.strides
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    forEachIndex(shape) { index in
        var offset = 0
        for d in index.indices { offset += (first[d] + index[d] * step[d]) * strides[d] }
        out.append(x.data[offset])
    }
    return ReferenceTensor(type.elementType, shape, out)
}

/// Entries of `data` along `axis` picked by `indices`; a negative index counts from the end. An
/// index outside the dim reads 0 (ONNX leaves it undefined; the interpreter must not trap).
func gather(_ data: ReferenceTensor, _ indices: ReferenceTensor, axis: Int, _ type: TensorType) -> ReferenceTensor {
    let size = data.shape[axis]
    let inner = data.shape[(axis + 1)...].reduce(1, *)
    let outer = data.shape[..<axis].reduce(1, *)
    var out: [Double] = []
    out.reserveCapacity(type.staticShape!.reduce(1, *))
    for o in 0..<outer {
        for raw in indices.data {
            let clamped = Int(raw.isFinite ? max(min(raw, 1e15), -1e15) : 1e15)
            let index = clamped < 0 ? clamped + size : clamped
            guard index >= 0 && index < size else {
                out.append(contentsOf: repeatElement(0, count: inner))
                continue
            }
            let base = (o * size + index) * inner
            out.append(contentsOf: data.data[base..<(base + inner)])
        }
    }
    return ReferenceTensor(type.elementType, type.staticShape!, out)
}
