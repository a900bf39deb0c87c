import GraphIR

/// Ops that move data without computing on it: `Reshape`, `Flatten`, `Transpose`, `Concat`,
/// `Split`, `Slice`, `Squeeze`, `Unsqueeze`, `Expand`, `Gather` and constant-mode `Pad`. Shape
/// operands (`shape`, `axes`, `starts`, `pads`) must be known at import time.
let layoutConverters: [String: NodeConverter] = [
    "Reshape": convertReshape, "Flatten": convertFlatten, "Transpose": convertTranspose, "Concat": convertConcat,
    "Split": convertSplit, "Slice": convertSlice, "Squeeze": convertSqueeze, "Unsqueeze": convertUnsqueeze,
    "Expand": convertExpand, "Gather": convertGather, "Pad": convertPad,
]

/// The target shape of `Reshape`: `0` copies the input dim (unless `allowzero`), `-1` is inferred.
func reshapeTarget(_ c: NodeContext, input: [Dim], shape: [Int]) throws(ImportProblem) -> [Dim] {
    let allowZero = c.opset >= 14 ? try c.attributes.int("allowzero", default: 0) != 0 : false
    var target: [Dim] = []
    for (i, n) in shape.enumerated() {
        if n == 0 && !allowZero {
            guard i < input.count else { throw ImportProblem("shape entry \(i) is 0 (copy the input dim) but the input has rank \(input.count)") }
            target.append(input[i])
        } else {
            guard n >= -1 else { throw ImportProblem("shape \(shape) has the entry \(n); entries must be >= -1") }
            target.append(.known(n))
        }
    }
    do {
        return try GraphIR.reshapeTarget(from: input, to: target)
    } catch {
        throw ImportProblem(error.message)
    }
}

private func convertReshape(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    guard let shape = try c.knownInts(1, "the shape") else { throw ImportProblem("needs the shape input") }
    let x = try c.value(0)
    let target = try reshapeTarget(c, input: c.type(of: x).shape, shape: shape)
    return single(target == c.type(of: x).shape ? x : try c.emit(.reshape(shape: target), [x]))
}

/// The 2-D shape `Flatten` produces: the dims before `axis` and those from it, each multiplied out.
func flattenTarget(_ c: NodeContext, input: [Dim]) throws(ImportProblem) -> [Dim] {
    let axis = try c.attributes.int("axis", default: 1)
    let a = axis == input.count ? axis : try c.normalizedAxis(axis, rank: input.count)
    let (left, right) = (Array(input[..<a]), Array(input[a...]))
    func product(_ dims: [Dim]) -> Dim? { dims.allSatisfy { $0.value != nil } ? .known(dims.compactMap(\.value).reduce(1, *)) : nil }
    let target: [Dim] = [product(left) ?? -1, product(right) ?? -1]
    do {
        return try GraphIR.reshapeTarget(from: input, to: target)
    } catch {
        throw ImportProblem(error.message)
    }
}

private func convertFlatten(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let target = try flattenTarget(c, input: c.type(of: x).shape)
    return single(target == c.type(of: x).shape ? x : try c.emit(.reshape(shape: target), [x]))
}

/// `perm`, defaulting to reversing the dims.
func transposePermutation(_ c: NodeContext, rank: Int) throws(ImportProblem) -> [Int] {
    try c.attributes.ints("perm") ?? Array((0..<rank).reversed())
}

private func convertTranspose(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    return single(try c.transpose(x, try transposePermutation(c, rank: c.type(of: x).rank)))
}

private func convertConcat(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    guard let axis = try c.attributes.int("axis") else { throw ImportProblem("needs the attribute 'axis'") }
    var operands: [ValueID] = []
    for i in c.inputs.indices where c.has(i) { operands.append(try c.value(i)) }
    guard operands.count > 1 else { return single(operands[0]) }
    return single(try c.emit(.concat(axis: axis), operands))
}

/// The sizes `Split` cuts the axis into: from the `split` attribute (before opset 13) or input,
/// from `num_outputs` (opset 18, the last piece smaller), or equal pieces, one per output.
func splitSizes(_ c: NodeContext, size: Int) throws(ImportProblem) -> [Int] {
    let explicit = c.opset >= 13 ? try c.knownInts(1, "split") : try c.attributes.ints("split")
    if let explicit, !explicit.isEmpty { return explicit }
    let pieces = c.proto.output.count
    guard pieces >= 1 else { throw ImportProblem("needs at least one output") }
    if c.opset >= 18, let count = try c.attributes.int("num_outputs") {
        guard count == pieces else {
            throw ImportProblem("num_outputs is \(count) but the node names \(pieces) output\(pieces == 1 ? "" : "s"); ONNX requires them to be equal")
        }
        let chunk = (size + pieces - 1) / pieces
        return (0..<pieces).map { max(0, min(chunk, size - $0 * chunk)) }
    }
    guard size % pieces == 0 else { throw ImportProblem("cannot split a dim of \(size) into \(pieces) equal pieces") }
    return Array(repeating: size / pieces, count: pieces)
}

private func convertSplit(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let type = c.type(of: x)
    let axis = try c.normalizedAxis(try c.attributes.int("axis", default: 0), rank: type.rank)
    guard let size = type.shape[axis].value else { throw ImportProblem("cannot split the symbolic dim \(type.shape[axis])") }
    let sizes = try splitSizes(c, size: size)
    return try c.emitAll(.split(axis: axis, sizes: sizes), [x]).map { .runtime($0) }
}

/// `Slice`'s axes, starts, ends and steps, from attributes (before opset 10) or known inputs.
func sliceParameters(_ c: NodeContext, rank: Int) throws(ImportProblem) -> (axes: [Int], starts: [Int], ends: [Int], steps: [Int]) {
    let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
    if c.opset < 10 {
        starts = try c.attributes.ints("starts") ?? []
        ends = try c.attributes.ints("ends") ?? []
        axes = try c.attributes.ints("axes")
        steps = nil
    } else {
        starts = try c.knownInts(1, "starts") ?? []
        ends = try c.knownInts(2, "ends") ?? []
        axes = try c.knownInts(3, "axes")
        steps = try c.knownInts(4, "steps")
    }
    let resolvedAxes = axes ?? Array(0..<starts.count)
    let resolvedSteps = steps ?? Array(repeating: 1, count: starts.count)
    guard starts.count == ends.count, resolvedAxes.count == starts.count, resolvedSteps.count == starts.count else {
        throw ImportProblem("starts, ends, axes and steps must have the same length")
    }
    var normalized: [Int] = []
    for axis in resolvedAxes { normalized.append(try c.normalizedAxis(axis, rank: rank, "axes entry")) }
    return (normalized, starts, ends, resolvedSteps)
}

private func convertSlice(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let p = try sliceParameters(c, rank: c.type(of: x).rank)
    guard !p.axes.isEmpty else { return single(x) }
    return single(try c.emit(.slice(axes: p.axes, starts: p.starts, ends: p.ends, steps: p.steps), [x]))
}

/// Axes from the `axes` attribute (before opset 13) or input, made non-negative for `rank`.
func axesOperand(_ c: NodeContext, rank: Int) throws(ImportProblem) -> [Int]? {
    let axes = c.opset >= 13 ? try c.knownInts(1, "axes") : try c.attributes.ints("axes")
    guard let axes else { return nil }
    var normalized: [Int] = []
    for axis in axes { normalized.append(try c.normalizedAxis(axis, rank: rank, "axes entry")) }
    return normalized
}

/// The axes `Squeeze` removes: those given, or every dim of size 1.
func squeezeAxes(_ c: NodeContext, shape: [Dim]) throws(ImportProblem) -> [Int] {
    if let axes = try axesOperand(c, rank: shape.count) { return axes }
    return shape.indices.filter { shape[$0] == 1 }
}

private func convertSqueeze(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let axes = try squeezeAxes(c, shape: c.type(of: x).shape)
    return single(axes.isEmpty ? x : try c.emit(.squeeze(axes: axes), [x]))
}

private func convertUnsqueeze(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let rank = c.type(of: x).rank
    let count = c.opset >= 13 ? try c.knownInts(1, "axes")?.count : try c.attributes.ints("axes")?.count
    guard let axes = try axesOperand(c, rank: rank + (count ?? 0)) else { throw ImportProblem("needs axes") }
    return single(try c.emit(.unsqueeze(axes: axes), [x]))
}

/// `Expand` broadcasts both ways: the result has the broadcast of the input shape and `shape`.
private func convertExpand(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    guard let shape = try c.knownInts(1, "the shape") else { throw ImportProblem("needs the shape input") }
    let x = try c.value(0)
    let target: [Dim]
    do {
        target = try broadcastShapes(c.type(of: x).shape, shape.map(Dim.known))
    } catch {
        throw ImportProblem(error.message)
    }
    return single(target == c.type(of: x).shape ? x : try c.emit(.broadcast(shape: target), [x]))
}

/// A known scalar index becomes a slice and a squeeze (what `x[:, 0]` exports to); anything else
/// a `gather`.
private func convertGather(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let data = try c.value(0)
    let type = c.type(of: data)
    let axis = try c.normalizedAxis(try c.attributes.int("axis", default: 0), rank: type.rank)
    if case .known(let k)? = c.input(1), k.data.shape.isEmpty, let size = type.shape[axis].value {
        let raw = Int(clamping: k.data.integers[0])
        let index = raw < 0 ? raw + size : raw
        guard index >= 0 && index < size else { throw ImportProblem("index \(raw) is out of range for dim \(axis) of \(type)") }
        let row = try c.emit(.slice(axes: [axis], starts: [index], ends: [index + 1], steps: [1]), [data])
        return single(try c.emit(.squeeze(axes: [axis]), [row]))
    }
    return single(try c.emit(.gather(axis: axis), [data, try c.value(1)]))
}

/// `Pad`: negative pads slice; positive pads concatenate blocks of the pad value (`constant`),
/// copies of the edge (`edge`), the mirrored interior (`reflect`) or the other end (`wrap`).
private func convertPad(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let mode = try c.attributes.word("mode", default: "constant", allowed: ["constant", "edge", "reflect", "wrap"])
    var x = try c.value(0)
    let type = c.type(of: x)
    let rank = type.rank
    let pads: [Int], value: Double
    var axes = Array(0..<rank)
    if c.opset < 11 {
        guard let p = try c.attributes.ints("pads") else { throw ImportProblem("needs the attribute 'pads'") }
        pads = p
        value = try c.attributes.float("value", default: 0)
    } else {
        guard let p = try c.knownInts(1, "pads") else { throw ImportProblem("needs the pads input") }
        pads = p
        value = try c.known(2, "constant_value")?.doubles.first ?? 0
        if let given = try c.knownInts(3, "axes") {
            axes = []
            for axis in given { axes.append(try c.normalizedAxis(axis, rank: rank, "axes entry")) }
        }
    }
    guard pads.count == 2 * axes.count else { throw ImportProblem("pads \(pads) must have two values per padded axis (\(axes.count))") }
    for (i, axis) in axes.enumerated() {
        let (before, after) = (pads[i], pads[i + axes.count])
        if before < 0 || after < 0 {
            let size = try c.staticShape(of: x)[axis]
            x = try c.emit(.slice(axes: [axis], starts: [max(0, -before)], ends: [size - max(0, -after)], steps: [1]), [x])
        }
        guard before > 0 || after > 0 else { continue }
        let size = try c.staticShape(of: x)[axis]
        func slice(_ start: Int, _ end: Int, _ step: Int) throws(ImportProblem) -> ValueID {
            try c.emit(.slice(axes: [axis], starts: [start], ends: [end], steps: [step]), [x])
        }
        func block(_ n: Int, before: Bool) throws(ImportProblem) -> ValueID {
            var shape = try c.staticShape(of: x)
            switch mode {
            case "edge":
                shape[axis] = n
                let edge = before ? try slice(0, 1, 1) : try slice(size - 1, size, 1)
                return try c.emit(.broadcast(shape: shape.map(Dim.known)), [edge])
            case "reflect":
                guard n < size else { throw ImportProblem("reflect padding \(n) needs a dim longer than \(n), got \(size)") }
                return before ? try slice(n, 0, -1) : try slice(size - 2, size - 2 - n, -1)
            case "wrap":
                guard n <= size else { throw ImportProblem("wrap padding \(n) is longer than the dim \(size)") }
                return before ? try slice(size - n, size, 1) : try slice(0, n, 1)
            default:
                shape[axis] = n
                return try c.filled(value, type.elementType, shape: shape)
            }
        }
        var parts: [ValueID] = []
        if before > 0 { parts.append(try block(before, before: true)) }
        parts.append(x)
        if after > 0 { parts.append(try block(after, before: false)) }
        x = try c.emit(.concat(axis: axis), parts)
    }
    return single(x)
}
