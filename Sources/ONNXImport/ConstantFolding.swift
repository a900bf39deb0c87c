import Foundation
import GraphIR

/// The ONNX-level constant folder: a node whose inputs are all known at import time is evaluated
/// here instead of becoming graph ops. This is what removes the shape arithmetic exporters leave
/// behind (`Shape → Gather → Unsqueeze → Concat → Reshape`), so that with static shapes the
/// imported graph holds only the computation.
///
/// Float initializers with more than one element are never folded: they stay weights under
/// their own names, and what they feed stays in the graph for the passes to see.
func foldConstant(_ c: NodeContext) throws(ImportProblem) -> [ImportValue]? {
    guard let fold = foldTable[c.opType] else { return nil }
    var operands: [TensorData?] = []
    var anyKnown = false
    for input in c.inputs {
        switch input {
        case nil: operands.append(nil)
        case .runtime(let id)?:
            // A given integer input value (see ONNXImportOptions.inputValues) takes part in
            // shape arithmetic with known tensors, but never folds a computation on its own.
            guard let value = c.importer.providedValues[id], value.elementType.isInteger else { return nil }
            operands.append(value)
        case .known(let k)?:
            anyKnown = true
            if k.isInitializer && k.data.elementType.isFloat && k.data.count > 1 { return nil }
            if k.data.count > largestFoldedTensor { return nil }
            operands.append(k.data)
        }
    }
    guard anyKnown, let results = try fold(c, operands) else { return nil }
    return results.enumerated().map { i, data in .known(KnownTensor(data: data, name: c.outputName(i))) }
}

/// Inputs and results larger than this are left to the graph rather than evaluated at import
/// time: a small file can ask for a huge result (Expand, Range, a broadcast), and the folder must
/// not allocate it (the fuzzer found a Range of 805 million elements asking for 6 GiB).
private let largestFoldedTensor = 1 << 20

/// Whether a result of `shape` is small enough to fold; a negative or overflowing shape is an error.
private func foldable(_ shape: [Int]) throws(ImportProblem) -> Bool {
    try checkedElementCount(shape.map(Int64.init)) <= largestFoldedTensor
}

private typealias Fold = (NodeContext, [TensorData?]) throws(ImportProblem) -> [TensorData]?

/// Op types the folder evaluates; some (Floor, Ceil, ReduceProd) have no converter.
let foldedONNXOps: Set<String> = Set(foldTable.keys.map { $0 })

private let foldTable: [String: Fold] = [
    "Add": binary(.add), "Sub": binary(.sub), "Mul": binary(.mul), "Div": binary(.div), "Pow": binary(.pow),
    "Max": binary(.maximum), "Min": binary(.minimum),
    "Equal": binary(.eq), "Less": binary(.lt), "LessOrEqual": binary(.le), "Greater": binary(.gt), "GreaterOrEqual": binary(.ge),
    "And": binary(.and), "Or": binary(.or), "Xor": binary(.xor),
    "Mod": { c, x throws(ImportProblem) in try binary(try c.attributes.int("fmod", default: 0) == 1 ? .fmod : .mod)(c, x) },
    "Neg": unary(exact: { 0 &- $0 }) { -$0 }, "Abs": unary(exact: { $0 < 0 ? 0 &- $0 : $0 }) { Swift.abs($0) }, "Not": unary { $0 == 0 ? 1 : 0 },
    "Sqrt": unary { $0.squareRoot() }, "Exp": unary(Foundation.exp), "Log": unary(Foundation.log),
    "Reciprocal": unary { 1 / $0 }, "Ceil": unary { $0.rounded(.up) }, "Floor": unary { $0.rounded(.down) },
    "Relu": unary { Swift.max($0, 0) }, "Sigmoid": unary { 1 / (1 + Foundation.exp(-$0)) }, "Tanh": unary(Foundation.tanh),
    "Where": foldWhere, "Cast": foldCast, "CastLike": foldCastLike,
    "Reshape": foldReshape, "Flatten": foldFlatten, "Squeeze": foldSqueeze, "Unsqueeze": foldUnsqueeze,
    "Transpose": foldTranspose, "Concat": foldConcat, "Gather": foldGather, "Slice": foldSlice, "Expand": foldExpand,
    "Range": foldRange, "ReduceProd": reduction { $0.reduce(1, *) }, "ReduceSum": reduction { $0.reduce(0, +) },
    "ReduceMax": reduction { $0.max() ?? -.infinity }, "ReduceMin": reduction { $0.min() ?? .infinity },
]

// MARK: Elementwise

/// A unary function in double; `exact` keeps integer inputs exact (Neg, Abs).
private func unary(exact: ((Int64) -> Int64)? = nil, _ f: @escaping (Double) -> Double) -> Fold {
    { _, x throws(ImportProblem) in
        guard let a = x.first ?? nil else { return nil }
        if let exact, case .integers(let v) = a.storage {
            return [TensorData(a.elementType, shape: a.shape, storage: .integers(v.map(exact)))]
        }
        return [TensorData(a.elementType, shape: a.shape, doubles: a.doubles.map(f))]
    }
}

private func binary(_ function: BinaryFunction) -> Fold {
    { _, x throws(ImportProblem) in
        guard x.count == 2, let a = x[0], let b = x[1] else { return nil }
        guard a.elementType == b.elementType || function == .pow else {
            throw ImportProblem("operand types differ: \(a.type) and \(b.type)")
        }
        let resultType: ElementType = function.isComparison || function.isLogical ? .i1 : a.elementType
        guard let (shape, maps) = try broadcastMaps([a.shape, b.shape]) else { return nil }
        if case .integers(let u) = a.storage, case .integers(let v) = b.storage, let f = integerFunction(function) {
            let values = (0..<shape.reduce(1, *)).map { f(u[maps[0][$0]], v[maps[1][$0]]) }
            if resultType == .i1 { return [TensorData(.i1, shape: shape, storage: .booleans(values.map { $0 != 0 }))] }
            return [TensorData(resultType, shape: shape, storage: .integers(values))]
        }
        let (u, v) = (a.doubles, b.doubles)
        let integer = a.elementType.isInteger
        let values = (0..<shape.reduce(1, *)).map { applyFolded(function, u[maps[0][$0]], v[maps[1][$0]], integer: integer) }
        return [TensorData(resultType, shape: shape, doubles: values)]
    }
}

/// Exact integer arithmetic for the functions shape arithmetic uses.
private func integerFunction(_ f: BinaryFunction) -> ((Int64, Int64) -> Int64)? {
    switch f {
    case .add: return { $0 &+ $1 }
    case .sub: return { $0 &- $1 }
    case .mul: return { $0 &* $1 }
    case .div: return { $1 == 0 ? 0 : ($0 == .min && $1 == -1 ? .min : $0 / $1) }
    case .mod: return { a, b in
        guard b != 0 else { return 0 }
        let r = a % b
        return r != 0 && (r < 0) != (b < 0) ? r + b : r
    }
    case .fmod: return { $1 == 0 ? 0 : $0 % $1 }
    case .maximum: return { Swift.max($0, $1) }
    case .minimum: return { Swift.min($0, $1) }
    case .eq: return { $0 == $1 ? 1 : 0 }
    case .ne: return { $0 != $1 ? 1 : 0 }
    case .lt: return { $0 < $1 ? 1 : 0 }
    case .le: return { $0 <= $1 ? 1 : 0 }
    case .gt: return { $0 > $1 ? 1 : 0 }
    case .ge: return { $0 >= $1 ? 1 : 0 }
    case .pow, .and, .or, .xor: return nil
    }
}

private func applyFolded(_ f: BinaryFunction, _ a: Double, _ b: Double, integer: Bool) -> Double {
    switch f {
    case .add: return a + b
    case .sub: return a - b
    case .mul: return a * b
    case .div: return integer ? (b == 0 ? 0 : (a / b).rounded(.towardZero)) : a / b
    case .pow: return Foundation.pow(a, b)
    case .mod:
        let r = Foundation.fmod(a, b)
        return r != 0 && (r < 0) != (b < 0) ? r + b : r
    case .fmod: return Foundation.fmod(a, b)
    case .maximum: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
    case .minimum: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
    case .eq: return a == b ? 1 : 0
    case .ne: return a != b ? 1 : 0
    case .lt: return a < b ? 1 : 0
    case .le: return a <= b ? 1 : 0
    case .gt: return a > b ? 1 : 0
    case .ge: return a >= b ? 1 : 0
    case .and: return a != 0 && b != 0 ? 1 : 0
    case .or: return a != 0 || b != 0 ? 1 : 0
    case .xor: return (a != 0) != (b != 0) ? 1 : 0
    }
}

private func foldWhere(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard x.count == 3, let condition = x[0], let a = x[1], let b = x[2] else { return nil }
    guard a.elementType == b.elementType else { throw ImportProblem("operand types differ: \(a.type) and \(b.type)") }
    guard let (shape, maps) = try broadcastMaps([condition.shape, a.shape, b.shape]) else { return nil }
    let flags = condition.doubles
    // Index into a followed by b.
    let picks = (0..<shape.reduce(1, *)).map { flags[maps[0][$0]] != 0 ? maps[1][$0] : a.count + maps[2][$0] }
    return [concatenated([a, b]).picking(picks, shape: shape)]
}

func castTensor(_ x: TensorData, to type: ElementType) -> TensorData {
    if type.isInteger, case .integers(let v) = x.storage { return TensorData(type, shape: x.shape, storage: .integers(v)) }
    return TensorData(type, shape: x.shape, doubles: x.doubles)
}

private func foldCast(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard let a = x.first ?? nil else { return nil }
    let to = try elementType(toAttribute: c)
    c.attributes.ignore("saturate")
    return [castTensor(a, to: to)]
}

private func foldCastLike(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard x.count == 2, let a = x[0], let like = x[1] else { return nil }
    c.attributes.ignore("saturate")
    return [castTensor(a, to: like.elementType)]
}

// MARK: Layout

private func staticDims(_ dims: [Dim]) throws(ImportProblem) -> [Int] {
    guard let shape = TensorType(.f32, dims).staticShape else { throw ImportProblem("the result shape is not static") }
    return shape
}

private func foldReshape(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard x.count == 2, let a = x[0], let shape = x[1] else { return nil }
    let target = try reshapeTarget(c, input: a.type.shape, shape: shape.integers.map { Int(clamping: $0) })
    return [a.reshaped(try staticDims(target))]
}

private func foldFlatten(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard let a = x.first ?? nil else { return nil }
    return [a.reshaped(try staticDims(try flattenTarget(c, input: a.type.shape)))]
}

private func foldSqueeze(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard let a = x.first ?? nil else { return nil }
    let axes = try squeezeAxes(c, shape: a.type.shape)
    for axis in axes where a.shape[axis] != 1 { throw ImportProblem("cannot squeeze dim \(axis) of \(a.type): its size is not 1") }
    return [a.reshaped(a.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))]
}

private func foldUnsqueeze(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard let a = x.first ?? nil else { return nil }
    let count = c.opset >= 13 ? (x.count > 1 ? x[1]?.count : nil) : try c.attributes.ints("axes")?.count
    c.attributes.resetUse()
    guard let axes = try axesOperand(c, rank: a.shape.count + (count ?? 0)) else { throw ImportProblem("needs axes") }
    var rest = a.shape.makeIterator()
    return [a.reshaped((0..<(a.shape.count + axes.count)).map { axes.contains($0) ? 1 : rest.next()! })]
}

private func foldTranspose(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard let a = x.first ?? nil else { return nil }
    let permutation = try transposePermutation(c, rank: a.shape.count)
    guard permutation.sorted() == Array(0..<a.shape.count) else { throw ImportProblem("perm \(permutation) does not permute \(a.shape.count) dims") }
    let shape = permutation.map { a.shape[$0] }
    let strides = rowMajorStrides(a.shape)
    var picks: [Int] = []
    forEachIndex(shape) { index in picks.append(zip(index, permutation).reduce(0) { $0 + $1.0 * strides[$1.1] }) }
    return [a.picking(picks, shape: shape)]
}

private func foldConcat(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    let parts = x.compactMap { $0 }
    guard let first = parts.first, let axisAttribute = try c.attributes.int("axis") else { return nil }
    let axis = try c.normalizedAxis(axisAttribute, rank: first.shape.count)
    for part in parts where part.elementType != first.elementType || part.shape.count != first.shape.count
        || part.shape.enumerated().contains(where: { $0.offset != axis && $0.element != first.shape[$0.offset] }) {
        throw ImportProblem("cannot concatenate \(first.type) and \(part.type) along axis \(axis)")
    }
    var shape = first.shape
    shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
    guard try foldable(shape) else { return nil }
    let outer = first.shape[..<axis].reduce(1, *)
    var picks: [Int] = []
    var bases: [Int] = []
    var offset = 0
    for part in parts { bases.append(offset); offset += part.count }
    for o in 0..<outer {
        for (part, base) in zip(parts, bases) {
            let chunk = part.shape[axis...].reduce(1, *)
            picks.append(contentsOf: (base + o * chunk)..<(base + (o + 1) * chunk))
        }
    }
    return [concatenated(parts).picking(picks, shape: shape)]
}

private func foldGather(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard x.count == 2, let data = x[0], let indices = x[1] else { return nil }
    let axis = try c.normalizedAxis(try c.attributes.int("axis", default: 0), rank: data.shape.count)
    let size = data.shape[axis]
    let inner = data.shape[(axis + 1)...].reduce(1, *)
    let outer = data.shape[..<axis].reduce(1, *)
    let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
    guard try foldable(shape) else { return nil }
    var picks: [Int] = []
    for o in 0..<outer {
        for raw in indices.integers {
            let index = raw < 0 ? Int(raw) + size : Int(clamping: raw)
            guard index >= 0 && index < size else { throw ImportProblem("index \(raw) is out of range for dim \(axis) of \(data.type)") }
            picks.append(contentsOf: ((o * size + index) * inner)..<((o * size + index + 1) * inner))
        }
    }
    return [data.picking(picks, shape: shape)]
}

private func foldSlice(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard let a = x.first ?? nil else { return nil }
    let p = try sliceParameters(c, rank: a.shape.count)
    var first = Array(repeating: 0, count: a.shape.count), step = Array(repeating: 1, count: a.shape.count)
    var shape = a.shape
    for (i, axis) in p.axes.enumerated() {
        guard p.steps[i] != 0 else { throw ImportProblem("slice step must not be 0") }
        let range = SliceRange(start: p.starts[i], end: p.ends[i], step: p.steps[i], size: a.shape[axis])
        (first[axis], step[axis], shape[axis]) = (range.start, range.step, range.count)
    }
    let strides = rowMajorStrides(a.shape)
    var picks: [Int] = []
    forEachIndex(shape) { index in
        picks.append(index.indices.reduce(0) { $0 + (first[$1] + index[$1] * step[$1]) * strides[$1] })
    }
    return [a.picking(picks, shape: shape)]
}

private func foldExpand(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard x.count == 2, let a = x[0], let shape = x[1] else { return nil }
    guard let (result, maps) = try broadcastMaps([a.shape, shape.integers.map { Int(clamping: $0) }]) else { return nil }
    return [a.picking(maps[0], shape: result)]
}

func foldRange(_ c: NodeContext, _ x: [TensorData?]) throws(ImportProblem) -> [TensorData]? {
    guard x.count == 3, let start = x[0], let limit = x[1], let delta = x[2] else { return nil }
    guard start.count == 1, limit.count == 1, delta.count == 1 else { throw ImportProblem("start, limit and delta must be scalars") }
    let (s, l, d) = (start.doubles[0], limit.doubles[0], delta.doubles[0])
    guard d != 0 else { throw ImportProblem("delta must not be 0") }
    let steps = ((l - s) / d).rounded(.up)
    // Range has no graph form: it is evaluated here or not at all.
    guard steps.isFinite, steps <= Double(largestFoldedTensor) else {
        throw ImportProblem("the range from \(s) to \(l) by \(d) holds \(steps) elements; attnc evaluates Range at import time, up to \(largestFoldedTensor) elements")
    }
    let count = max(Int(steps), 0)
    if case .integers(let v) = start.storage {
        let (s, d) = (v[0], delta.integers[0])
        return [TensorData(start.elementType, shape: [count], storage: .integers((0..<count).map { s + Int64($0) * d }))]
    }
    return [TensorData(start.elementType, shape: [count], doubles: (0..<count).map { s + Double($0) * d })]
}

private func reduction(_ f: @escaping ([Double]) -> Double) -> Fold {
    { c, x throws(ImportProblem) in
        guard let a = x.first ?? nil else { return nil }
        let keepDims = try c.attributes.int("keepdims", default: 1) != 0
        let axesSince = c.opType == "ReduceSum" ? 13 : 18
        var axes = c.opset >= axesSince ? (x.count > 1 ? x[1]?.integers.map { Int(clamping: $0) } : nil) : try c.attributes.ints("axes")
        if c.opset >= axesSince, try c.attributes.int("noop_with_empty_axes", default: 0) != 0, axes?.isEmpty ?? true { return [a] }
        if axes?.isEmpty ?? true { axes = Array(a.shape.indices) }
        var reduced: [Int] = []
        for axis in axes! { reduced.append(try c.normalizedAxis(axis, rank: a.shape.count, "axes entry")) }
        let kept = a.shape.indices.filter { !reduced.contains($0) }
        let strides = rowMajorStrides(a.shape)
        let values = a.doubles
        var groups: [[Double]] = []
        forEachIndex(kept.map { a.shape[$0] }) { keptIndex in
            let base = zip(keptIndex, kept).reduce(0) { $0 + $1.0 * strides[$1.1] }
            var group: [Double] = []
            forEachIndex(reduced.map { a.shape[$0] }) { r in group.append(values[base + zip(r, reduced).reduce(0) { $0 + $1.0 * strides[$1.1] }]) }
            groups.append(group)
        }
        let shape = a.shape.indices.compactMap { reduced.contains($0) ? (keepDims ? 1 : nil) : a.shape[$0] }
        return [TensorData(a.elementType, shape: shape, doubles: groups.map(f))]
    }
}

// MARK: Index helpers

/// Numpy broadcasting of several shapes, with, for every result element, the flat index it reads
/// from each shape; nil when the result is too large to fold.
private func broadcastMaps(_ shapes: [[Int]]) throws(ImportProblem) -> (shape: [Int], maps: [[Int]])? {
    let rank = shapes.map(\.count).max() ?? 0
    var shape = Array(repeating: 1, count: rank)
    for s in shapes {
        for (i, n) in s.enumerated() {
            let d = i + rank - s.count
            if shape[d] == 1 { shape[d] = n } else if n != 1 && n != shape[d] {
                throw ImportProblem("shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast")
            }
        }
    }
    guard try foldable(shape) else { return nil }
    let maps: [[Int]] = shapes.map { s in
        let own = rowMajorStrides(s)
        let strides = (0..<rank).map { d -> Int in
            let j = d - (rank - s.count)
            return j < 0 || s[j] == 1 ? 0 : own[j]
        }
        var map: [Int] = []
        forEachIndex(shape) { index in map.append(zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }) }
        return map
    }
    return (shape, maps)
}

private func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var running = 1
    for i in shape.indices.reversed() {
        strides[i] = running
        running *= shape[i]
    }
    return strides
}

/// Calls `body` with every multi-index of `shape` in row-major order (once for a scalar).
private func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
    if shape.contains(0) { return }
    var index = Array(repeating: 0, count: shape.count)
    while true {
        body(index)
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { break }
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

/// Several tensors' values end to end, in one flat tensor of the first one's element type.
private func concatenated(_ parts: [TensorData]) -> TensorData {
    let type = parts[0].elementType
    let count = parts.map(\.count).reduce(0, +)
    switch parts[0].storage {
    case .floats: return TensorData(type, shape: [count], storage: .floats(parts.flatMap { $0.doubles.map(Float.init) }))
    case .integers: return TensorData(type, shape: [count], storage: .integers(parts.flatMap(\.integers)))
    case .booleans: return TensorData(type, shape: [count], storage: .booleans(parts.flatMap { $0.doubles.map { $0 != 0 } }))
    }
}

extension TensorData {
    /// A tensor of `shape` whose elements are this one's at the given flat indices.
    func picking(_ indices: [Int], shape: [Int]) -> TensorData {
        switch storage {
        case .floats(let v): return TensorData(elementType, shape: shape, storage: .floats(indices.map { v[$0] }))
        case .integers(let v): return TensorData(elementType, shape: shape, storage: .integers(indices.map { v[$0] }))
        case .booleans(let v): return TensorData(elementType, shape: shape, storage: .booleans(indices.map { v[$0] }))
        }
    }
}
