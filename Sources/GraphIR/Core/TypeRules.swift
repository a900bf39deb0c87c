/// Why an op cannot be applied to its operands. `operand` says which one is at fault, if one is.
public struct TypeRuleError: Error, Equatable, Sendable {
    public var message: String
    public var operand: Int?

    public init(_ message: String, operand: Int? = nil) {
        self.message = message
        self.operand = operand
    }
}

/// The typing rule of every op: the result types for the given operand types.
///
/// `declared` carries the result types written in the source (or given to the builder); ops whose
/// result cannot be derived from operands (`constant`, `iota`) take their type from it.
public func inferResultTypes(_ op: Op, operands: [TensorType], declared: [TensorType]?) throws(TypeRuleError) -> [TensorType] {
    let rules = TypeRuleContext(operands: operands)
    switch op {
    case .elementwise(let expression):
        let elementType = try expression.elementType(operands: operands.map(\.elementType))
        var shape: [Dim] = []
        for (i, operand) in operands.enumerated() {
            do { shape = try broadcastShapes(shape, operand.shape) } catch { throw TypeRuleError(error.message, operand: i) }
        }
        if let declared, declared.count == 1 {
            guard let full = try? broadcastShapes(shape, declared[0].shape), full == declared[0].shape else {
                throw TypeRuleError("the operands do not broadcast to \(declared[0])")
            }
            shape = declared[0].shape
        } else if operands.isEmpty {
            throw TypeRuleError("elementwise without operands needs its result type written")
        }
        if let dim = expression.iotaDims.first(where: { $0 >= shape.count }) {
            throw TypeRuleError("iota(\(dim)) is out of range for a rank-\(shape.count) result")
        }
        return [TensorType(elementType, shape)]

    case .attention(let a):
        return try attentionResultTypes(a, operands)

    case .channelGate(let a):
        try rules.expectOperandCount(a.operandCount)
        return [try channelGateType(a, operands)]

    case .spatialGate(let a):
        try rules.expectOperandCount(a.operandCount)
        return [try spatialGateType(a, operands)]

    case .constant(let value):
        try rules.expectOperandCount(0)
        let type = try rules.declaredType(declared, for: "constant")
        if case .elements(let values) = value {
            guard let count = type.elementCount else {
                throw TypeRuleError("a constant with listed values needs a static shape, not \(type)")
            }
            guard count == values.count else {
                throw TypeRuleError("constant lists \(values.count) values but \(type) holds \(count)")
            }
        }
        return [type]

    case .iota(let axis):
        try rules.expectOperandCount(0)
        let type = try rules.declaredType(declared, for: "iota")
        guard type.elementType != .i1 else { throw TypeRuleError("iota needs a numeric element type, not i1") }
        _ = try normalizeAxis(axis, rank: type.rank)
        return [type]

    case .unary(let function):
        try rules.expectOperandCount(1)
        let x = operands[0]
        switch function {
        case .not:
            try rules.expectElementType(0, in: [.i1], "logical not")
        case .neg, .abs, .identity:
            break
        default:
            try rules.expectFloat(0, function.rawValue)
        }
        return [x]

    case .binary(let function):
        try rules.expectOperandCount(2)
        try rules.expectSameElementType([0, 1])
        if function.isLogical { try rules.expectElementType(0, in: [.i1], function.rawValue) }
        let shape = try broadcastShapes(operands[0].shape, operands[1].shape)
        return [TensorType(function.isComparison ? .i1 : operands[0].elementType, shape)]

    case .select:
        try rules.expectOperandCount(3)
        try rules.expectElementType(0, in: [.i1], "the condition of select")
        try rules.expectSameElementType([1, 2])
        let shape = try broadcastShapes(try broadcastShapes(operands[0].shape, operands[1].shape), operands[2].shape)
        return [TensorType(operands[1].elementType, shape)]

    case .cast(let to):
        try rules.expectOperandCount(1)
        return [operands[0].with(to)]

    case .reduce(let function, let axes, let keepDims):
        try rules.expectOperandCount(1)
        let x = operands[0]
        if function == .mean { try rules.expectFloat(0, "mean") }
        let reduced = try normalizeAxes(axes ?? Array(0..<x.rank), rank: x.rank)
        var shape: [Dim] = []
        for (i, d) in x.shape.enumerated() {
            if !reduced.contains(i) { shape.append(d) } else if keepDims { shape.append(1) }
        }
        return [TensorType(x.elementType, shape)]

    case .matmul(let transposeA, let transposeB):
        try rules.expectOperandCount(2)
        try rules.expectFloat(0, "matmul")
        try rules.expectSameElementType([0, 1])
        let (a, b) = (operands[0], operands[1])
        guard a.rank >= 2 else { throw TypeRuleError("matmul needs rank >= 2 operands, the left one is \(a)", operand: 0) }
        guard b.rank >= 2 else { throw TypeRuleError("matmul needs rank >= 2 operands, the right one is \(b)", operand: 1) }
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let kA = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kB = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        guard kA == kB else {
            throw TypeRuleError("matmul contracts \(kA) with \(kB) (\(a) by \(b)\(transposeA || transposeB ? " with transposes" : ""))", operand: 1)
        }
        let batch = try broadcastShapes(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
        return [TensorType(a.elementType, batch + [m, n])]

    case .linear:
        try rules.expectOperandCount(2...3)
        try rules.expectFloat(0, "linear")
        try rules.expectSameElementType(Array(operands.indices))
        let (x, w) = (operands[0], operands[1])
        guard x.rank >= 1 else { throw TypeRuleError("linear needs an input of rank >= 1", operand: 0) }
        guard w.rank == 2 else { throw TypeRuleError("linear weight must be [out, in], got \(w)", operand: 1) }
        guard x.shape[x.rank - 1] == w.shape[1] else {
            throw TypeRuleError("linear weight \(w) expects \(w.shape[1]) input features, the input \(x) has \(x.shape[x.rank - 1])", operand: 1)
        }
        if operands.count == 3 {
            try rules.expectShape(2, [w.shape[0]], "linear bias")
        }
        return [TensorType(x.elementType, Array(x.shape.dropLast()) + [w.shape[0]])]

    case .conv2d(let attributes):
        try rules.expectOperandCount(2...3)
        try rules.expectFloat(0, "conv2d")
        try rules.expectSameElementType(Array(operands.indices))
        let (x, w) = (operands[0], operands[1])
        guard x.rank == 4 else { throw TypeRuleError("conv2d needs an NCHW input, got \(x)", operand: 0) }
        guard w.rank == 4 else { throw TypeRuleError("conv2d weight must be [out, in/groups, kh, kw], got \(w)", operand: 1) }
        try checkWindowAttributes(stride: attributes.stride, dilation: attributes.dilation, padding: attributes.padding)
        guard attributes.groups >= 1 else { throw TypeRuleError("groups must be >= 1, got \(attributes.groups)") }
        guard let inPerGroup = w.shape[1].value, let outChannels = w.shape[0].value,
              let kh = w.shape[2].value, let kw = w.shape[3].value else {
            throw TypeRuleError("conv2d weight needs a static shape, got \(w)", operand: 1)
        }
        guard x.shape[1] == .known(inPerGroup * attributes.groups) else {
            throw TypeRuleError("conv2d weight \(w) with groups=\(attributes.groups) expects \(inPerGroup * attributes.groups) input channels, the input \(x) has \(x.shape[1])", operand: 1)
        }
        guard outChannels % attributes.groups == 0 else {
            throw TypeRuleError("conv2d output channels \(outChannels) are not divisible by groups=\(attributes.groups)", operand: 1)
        }
        if operands.count == 3 { try rules.expectShape(2, [w.shape[0]], "conv2d bias") }
        let h = try windowOutput(x.shape[2], kernel: kh, stride: attributes.stride[0], dilation: attributes.dilation[0],
                                 padBefore: attributes.padding.top, padAfter: attributes.padding.bottom, ceilMode: false)
        let wOut = try windowOutput(x.shape[3], kernel: kw, stride: attributes.stride[1], dilation: attributes.dilation[1],
                                    padBefore: attributes.padding.left, padAfter: attributes.padding.right, ceilMode: false)
        return [TensorType(x.elementType, [x.shape[0], w.shape[0], h, wOut])]

    case .convTranspose2d(let attributes):
        try rules.expectOperandCount(2...3)
        try rules.expectFloat(0, "conv_transpose2d")
        try rules.expectSameElementType(Array(operands.indices))
        let (x, w) = (operands[0], operands[1])
        guard x.rank == 4 else { throw TypeRuleError("conv_transpose2d needs an NCHW input, got \(x)", operand: 0) }
        guard w.rank == 4 else { throw TypeRuleError("conv_transpose2d weight must be [in, out/groups, kh, kw], got \(w)", operand: 1) }
        try checkWindowAttributes(stride: attributes.stride, dilation: attributes.dilation, padding: attributes.padding)
        guard attributes.groups >= 1 else { throw TypeRuleError("groups must be >= 1, got \(attributes.groups)") }
        guard attributes.outputPadding.count == 2, attributes.outputPadding.allSatisfy({ $0 >= 0 }) else {
            throw TypeRuleError("output_padding must be two values >= 0, got \(attributes.outputPadding)")
        }
        guard let inChannels = w.shape[0].value, let outPerGroup = w.shape[1].value,
              let kh = w.shape[2].value, let kw = w.shape[3].value else {
            throw TypeRuleError("conv_transpose2d weight needs a static shape, got \(w)", operand: 1)
        }
        guard x.shape[1] == .known(inChannels) else {
            throw TypeRuleError("conv_transpose2d weight \(w) expects \(inChannels) input channels, the input \(x) has \(x.shape[1])", operand: 1)
        }
        guard inChannels % attributes.groups == 0 else {
            throw TypeRuleError("conv_transpose2d input channels \(inChannels) are not divisible by groups=\(attributes.groups)", operand: 1)
        }
        let outChannels = Dim.known(outPerGroup * attributes.groups)
        if operands.count == 3 { try rules.expectShape(2, [outChannels], "conv_transpose2d bias") }
        var spatial: [Dim] = []
        for (i, (size, kernel)) in zip([x.shape[2], x.shape[3]], [kh, kw]).enumerated() {
            guard let n = size.value else { throw TypeRuleError("conv_transpose2d over the symbolic dim \(size) is not supported; bind it first", operand: 0) }
            // In 128 bits: no attribute is bounded above, and the sum must not trap on the way.
            let padding = Int128(i == 0 ? attributes.padding.top : attributes.padding.left) + Int128(i == 0 ? attributes.padding.bottom : attributes.padding.right)
            let wide = Int128(n - 1) * Int128(attributes.stride[i]) - padding + Int128(attributes.dilation[i]) * Int128(kernel - 1)
                + Int128(attributes.outputPadding[i]) + 1
            guard wide >= 0 else { throw TypeRuleError("conv_transpose2d padding \(padding) is larger than the output it trims") }
            spatial.append(.known(try exactSize(wide)))
        }
        return [TensorType(x.elementType, [x.shape[0], outChannels] + spatial)]

    case .pool2d(let kind, let attributes):
        try rules.expectOperandCount(1)
        try rules.expectFloat(0, "\(kind.rawValue) pooling")
        let x = operands[0]
        guard x.rank == 4 else { throw TypeRuleError("pooling needs an NCHW input, got \(x)", operand: 0) }
        guard attributes.kernel.count == 2, attributes.kernel.allSatisfy({ $0 >= 1 }) else {
            throw TypeRuleError("kernel must be two sizes >= 1, got \(attributes.kernel)")
        }
        try checkWindowAttributes(stride: attributes.stride, dilation: attributes.dilation, padding: attributes.padding)
        for (k, pads) in zip(attributes.kernel, [(attributes.padding.top, attributes.padding.bottom),
                                                 (attributes.padding.left, attributes.padding.right)]) where max(pads.0, pads.1) > k / 2 {
            throw TypeRuleError("padding \(max(pads.0, pads.1)) is more than half the kernel size \(k)")
        }
        let h = try windowOutput(x.shape[2], kernel: attributes.kernel[0], stride: attributes.stride[0], dilation: attributes.dilation[0],
                                 padBefore: attributes.padding.top, padAfter: attributes.padding.bottom, ceilMode: attributes.ceilMode)
        let w = try windowOutput(x.shape[3], kernel: attributes.kernel[1], stride: attributes.stride[1], dilation: attributes.dilation[1],
                                 padBefore: attributes.padding.left, padAfter: attributes.padding.right, ceilMode: attributes.ceilMode)
        return [TensorType(x.elementType, [x.shape[0], x.shape[1], h, w])]

    case .reshape(let shape):
        try rules.expectOperandCount(1)
        return [TensorType(operands[0].elementType, try reshapeTarget(from: operands[0].shape, to: shape))]

    case .transpose(let permutation):
        try rules.expectOperandCount(1)
        let x = operands[0]
        guard permutation.count == x.rank, Set(permutation) == Set(0..<x.rank) else {
            throw TypeRuleError("permutation \(permutation) does not permute the \(x.rank) dims of \(x)", operand: 0)
        }
        return [TensorType(x.elementType, permutation.map { x.shape[$0] })]

    case .concat(let axis):
        guard !operands.isEmpty else { throw TypeRuleError("concat needs at least one operand") }
        try rules.expectSameElementType(Array(operands.indices))
        let first = operands[0]
        let a = try normalizeAxis(axis, rank: first.rank)
        var total = 0
        for (i, t) in operands.enumerated() {
            guard t.rank == first.rank else {
                throw TypeRuleError("concat operands must have the same rank: \(first) and \(t)", operand: i)
            }
            for d in 0..<t.rank where d != a && t.shape[d] != first.shape[d] {
                throw TypeRuleError("concat operands differ in dim \(d) (not the axis \(a)): \(first) and \(t)", operand: i)
            }
            guard let n = t.shape[a].value else {
                throw TypeRuleError("concat along a symbolic dim is not supported (\(t))", operand: i)
            }
            total += n
        }
        var shape = first.shape
        shape[a] = .known(total)
        return [TensorType(first.elementType, shape)]

    case .slice(let axes, let starts, let ends, let steps):
        try rules.expectOperandCount(1)
        let x = operands[0]
        guard axes.count == starts.count, axes.count == ends.count, axes.count == steps.count else {
            throw TypeRuleError("slice needs as many starts, ends and steps as axes")
        }
        var shape = x.shape
        for (i, axis) in try normalizeAxes(axes, rank: x.rank).enumerated() {
            guard let n = x.shape[axis].value else {
                throw TypeRuleError("slicing the symbolic dim \(x.shape[axis]) is not supported", operand: 0)
            }
            guard steps[i] != 0 else { throw TypeRuleError("slice step must not be 0") }
            shape[axis] = .known(SliceRange(start: starts[i], end: ends[i], step: steps[i], size: n).count)
        }
        return [TensorType(x.elementType, shape)]

    case .gather(let axis):
        try rules.expectOperandCount(2)
        let (data, indices) = (operands[0], operands[1])
        guard indices.elementType.isInteger else {
            throw TypeRuleError("gather indices must be integers, got \(indices)", operand: 1)
        }
        let a = try normalizeAxis(axis, rank: data.rank)
        return [TensorType(data.elementType, Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...]))]

    case .split(let axis, let sizes):
        try rules.expectOperandCount(1)
        let x = operands[0]
        let a = try normalizeAxis(axis, rank: x.rank)
        guard let n = x.shape[a].value else { throw TypeRuleError("splitting the symbolic dim \(x.shape[a]) is not supported", operand: 0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == n else {
            throw TypeRuleError("split sizes \(sizes) must be >= 0 and add up to dim \(a) of \(x), which is \(n)", operand: 0)
        }
        return sizes.map { size in
            var shape = x.shape
            shape[a] = .known(size)
            return TensorType(x.elementType, shape)
        }

    case .broadcast(let shape):
        try rules.expectOperandCount(1)
        let x = operands[0]
        guard shape.allSatisfy({ ($0.value ?? 0) >= 0 }) else { throw TypeRuleError("broadcast shape \(shape) has a negative dim") }
        guard let result = try? broadcastShapes(x.shape, shape), result == shape else {
            throw TypeRuleError("\(x) does not broadcast to [\(shape.map(\.description).joined(separator: ","))]", operand: 0)
        }
        return [TensorType(x.elementType, shape)]

    case .squeeze(let axes):
        try rules.expectOperandCount(1)
        let x = operands[0]
        let removed = try normalizeAxes(axes, rank: x.rank)
        for a in removed where x.shape[a] != 1 {
            throw TypeRuleError("cannot squeeze dim \(a) of \(x): its size is \(x.shape[a]), not 1", operand: 0)
        }
        return [TensorType(x.elementType, x.shape.enumerated().filter { !removed.contains($0.offset) }.map(\.element))]

    case .unsqueeze(let axes):
        try rules.expectOperandCount(1)
        let x = operands[0]
        let rank = x.rank + axes.count
        let inserted = try normalizeAxes(axes, rank: rank)
        var rest = x.shape.makeIterator()
        return [TensorType(x.elementType, (0..<rank).map { inserted.contains($0) ? 1 : rest.next()! })]

    case .softmax(let axis):
        try rules.expectOperandCount(1)
        try rules.expectFloat(0, "softmax")
        _ = try normalizeAxis(axis, rank: operands[0].rank)
        return [operands[0]]

    case .layerNorm(let axis, let epsilon):
        try rules.expectOperandCount(1...3)
        try rules.expectFloat(0, "layer_norm")
        try rules.expectSameElementType(Array(operands.indices))
        guard epsilon >= 0 else { throw TypeRuleError("eps must be >= 0, got \(epsilon)") }
        let x = operands[0]
        let a = try normalizeAxis(axis, rank: x.rank)
        let normalized = Array(x.shape[a...])
        for i in operands.indices.dropFirst() {
            try rules.expectShape(i, normalized, i == 1 ? "layer_norm scale" : "layer_norm bias")
        }
        return [x]

    case .batchNorm(let epsilon):
        try rules.expectOperandCount(5)
        try rules.expectFloat(0, "batch_norm")
        try rules.expectSameElementType(Array(operands.indices))
        guard epsilon >= 0 else { throw TypeRuleError("eps must be >= 0, got \(epsilon)") }
        let x = operands[0]
        guard x.rank >= 2 else { throw TypeRuleError("batch_norm needs an input of rank >= 2 (N, C, ...), got \(x)", operand: 0) }
        let names = ["scale", "bias", "running mean", "running variance"]
        for i in 1...4 { try rules.expectShape(i, [x.shape[1]], "batch_norm \(names[i - 1])") }
        return [x]
    }
}

/// Checks shared by the typing rules, with messages that name the operand at fault.
private struct TypeRuleContext {
    let operands: [TensorType]

    func expectOperandCount(_ n: Int) throws(TypeRuleError) {
        try expectOperandCount(n...n)
    }

    func expectOperandCount(_ range: ClosedRange<Int>) throws(TypeRuleError) {
        guard range.contains(operands.count) else {
            let wanted = range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw TypeRuleError("expected \(wanted) operand\(range.upperBound == 1 ? "" : "s"), got \(operands.count)")
        }
    }

    func declaredType(_ declared: [TensorType]?, for name: String) throws(TypeRuleError) -> TensorType {
        guard let declared, declared.count == 1 else {
            throw TypeRuleError("\(name) needs its result type written, e.g. `: f32[4,4]`")
        }
        return declared[0]
    }

    func expectFloat(_ i: Int, _ what: String) throws(TypeRuleError) {
        guard operands[i].elementType.isFloat else {
            throw TypeRuleError("\(what) needs a floating-point operand, got \(operands[i])", operand: i)
        }
    }

    func expectElementType(_ i: Int, in types: [ElementType], _ what: String) throws(TypeRuleError) {
        guard types.contains(operands[i].elementType) else {
            throw TypeRuleError("\(what) needs \(types.map(\.rawValue).joined(separator: " or ")), got \(operands[i])", operand: i)
        }
    }

    func expectSameElementType(_ indices: [Int]) throws(TypeRuleError) {
        guard let first = indices.first else { return }
        for i in indices.dropFirst() where operands[i].elementType != operands[first].elementType {
            throw TypeRuleError("operand element types differ: \(operands[first]) and \(operands[i])", operand: i)
        }
    }

    func expectShape(_ i: Int, _ shape: [Dim], _ what: String) throws(TypeRuleError) {
        guard operands[i].shape == shape else {
            throw TypeRuleError("\(what) must have shape [\(shape.map(\.description).joined(separator: ","))], got \(operands[i])", operand: i)
        }
    }
}

/// `axis` in `-rank..<rank`, made non-negative.
public func normalizeAxis(_ axis: Int, rank: Int) throws(TypeRuleError) -> Int {
    guard axis >= -rank && axis < rank else {
        throw TypeRuleError("axis \(axis) is out of range for rank \(rank)")
    }
    return axis < 0 ? axis + rank : axis
}

/// Several axes, made non-negative; duplicates are an error.
public func normalizeAxes(_ axes: [Int], rank: Int) throws(TypeRuleError) -> [Int] {
    var result: [Int] = []
    for axis in axes {
        let a = try normalizeAxis(axis, rank: rank)
        guard !result.contains(a) else { throw TypeRuleError("axis \(axis) is listed twice") }
        result.append(a)
    }
    return result
}

/// Numpy broadcasting of two shapes. Symbols broadcast only with themselves and with 1.
public func broadcastShapes(_ a: [Dim], _ b: [Dim]) throws(TypeRuleError) -> [Dim] {
    let rank = max(a.count, b.count)
    var result: [Dim] = []
    for i in 0..<rank {
        let x: Dim = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let y: Dim = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if x == y || y == 1 {
            result.append(x)
        } else if x == 1 {
            result.append(y)
        } else {
            throw TypeRuleError("shapes [\(a.map(\.description).joined(separator: ","))] and [\(b.map(\.description).joined(separator: ","))] do not broadcast: \(x) against \(y)")
        }
    }
    return result
}

/// The shape a reshape produces, resolving one `-1`. Symbols must appear on both sides; the
/// known parts must then have equal products.
public func reshapeTarget(from source: [Dim], to target: [Dim]) throws(TypeRuleError) -> [Dim] {
    let inferred = target.indices.filter { target[$0] == .known(-1) }
    guard inferred.count <= 1 else { throw TypeRuleError("reshape target can infer only one dim (-1)") }
    guard target.allSatisfy({ ($0.value ?? 0) >= -1 }) else { throw TypeRuleError("reshape target has a negative dim") }
    var sourceSymbols = source.compactMap { d -> String? in if case .symbol(let s) = d { return s } else { return nil } }
    var sourceKnown = 1
    for n in source.compactMap(\.value) {
        let (product, overflow) = sourceKnown.multipliedReportingOverflow(by: n)
        guard !overflow else { throw TypeRuleError("reshape source [\(source.map(\.description).joined(separator: ","))] has too many elements: the element count overflows") }
        sourceKnown = product
    }
    var targetKnown = 1
    for d in target {
        switch d {
        case .known(-1): break
        case .known(let n):
            // A target from an untrusted file can be any size: an overflow is an error, not a trap.
            let (product, overflow) = targetKnown.multipliedReportingOverflow(by: n)
            guard !overflow else { throw TypeRuleError("reshape target [\(target.map(\.description).joined(separator: ","))] has too many elements: the element count overflows") }
            targetKnown = product
        case .symbol(let s):
            guard let i = sourceSymbols.firstIndex(of: s) else {
                throw TypeRuleError("reshape target uses \(s), which the source shape does not have")
            }
            sourceSymbols.remove(at: i)
        }
    }
    let describe = { (s: [Dim]) in "[\(s.map(\.description).joined(separator: ","))]" }
    // A -1 can stand for exactly one leftover symbol when the known sizes already agree.
    if let i = inferred.first, sourceSymbols.count == 1, sourceKnown == targetKnown {
        var result = target
        result[i] = .symbol(sourceSymbols[0])
        return result
    }
    guard sourceSymbols.isEmpty else {
        throw TypeRuleError("reshape from \(describe(source)) drops the symbolic dim \(sourceSymbols[0])")
    }
    guard let i = inferred.first else {
        guard sourceKnown == targetKnown else {
            throw TypeRuleError("cannot reshape \(describe(source)) to \(describe(target)): the element counts differ")
        }
        return target
    }
    guard targetKnown != 0, sourceKnown % targetKnown == 0 else {
        throw TypeRuleError("cannot reshape \(describe(source)) to \(describe(target)): \(sourceKnown) elements do not divide by \(targetKnown)")
    }
    var result = target
    result[i] = .known(sourceKnown / targetKnown)
    return result
}

/// The indices a slice visits along one dim, with ONNX clamping rules.
public struct SliceRange: Sendable {
    public let start: Int
    public let step: Int
    public let count: Int

    public init(start: Int, end: Int, step: Int, size: Int) {
        func clamp(_ i: Int, _ lo: Int, _ hi: Int) -> Int { min(max(i, lo), hi) }
        let s = start < 0 ? start + size : start
        let e = end < 0 ? (end == Int.min ? -1 : end + size) : end
        let first: Int, stop: Int
        if step > 0 {
            first = clamp(s, 0, size)
            stop = clamp(e, 0, size)
            count = stop > first ? (stop - first + step - 1) / step : 0
        } else {
            first = clamp(s, -1, size - 1)
            stop = clamp(e, -1, size - 1)
            count = first > stop ? (first - stop - step - 1) / -step : 0
        }
        self.start = first
        self.step = step
    }
}

private func checkWindowAttributes(stride: [Int], dilation: [Int], padding: Padding2D) throws(TypeRuleError) {
    guard stride.count == 2, stride.allSatisfy({ $0 >= 1 }) else { throw TypeRuleError("stride must be two values >= 1, got \(stride)") }
    guard dilation.count == 2, dilation.allSatisfy({ $0 >= 1 }) else { throw TypeRuleError("dilation must be two values >= 1, got \(dilation)") }
    guard [padding.top, padding.left, padding.bottom, padding.right].allSatisfy({ $0 >= 0 }) else {
        throw TypeRuleError("padding must not be negative")
    }
}

/// Output size of a sliding window along one dim. A symbolic size passes through only when the
/// window keeps it unchanged (stride 1 and padding that covers the kernel's reach).
private func windowOutput(_ size: Dim, kernel: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int,
                          ceilMode: Bool) throws(TypeRuleError) -> Dim {
    // In 128 bits: no attribute is bounded above, and the arithmetic must not trap on the way.
    let (stride, padBefore) = (Int128(stride), Int128(padBefore))
    let reach = Int128(dilation) * Int128(kernel - 1) + 1
    guard let n = size.value.map({ Int128($0) }) else {
        if stride == 1 && padBefore + Int128(padAfter) == reach - 1 { return size }
        throw TypeRuleError("a window over the symbolic dim \(size) changes its size; bind \(size) first")
    }
    let padded = n + padBefore + Int128(padAfter)
    let span = padded - reach
    guard span >= 0 else { throw TypeRuleError("the window (\(reach) wide with dilation) is larger than the padded input (\(padded))") }
    var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
    // As PyTorch and ONNX: with ceil mode the last window must start inside the input or left padding.
    if ceilMode && (out - 1) * stride >= n + padBefore { out -= 1 }
    return .known(try exactSize(out))
}

/// A size computed in 128 bits, or an error when it does not fit a dim.
private func exactSize(_ wide: Int128) throws(TypeRuleError) -> Int {
    guard let size = Int(exactly: wide) else { throw TypeRuleError("the output size \(wide) does not fit in a 64-bit integer") }
    return size
}

/// The typing rule of `attention` (see `AttentionAttributes`).
private func attentionResultTypes(_ a: AttentionAttributes, _ operands: [TensorType]) throws(TypeRuleError) -> [TensorType] {
    let fixed = a.fixedOperandCount
    let selectCount = a.select ? 2 : 0
    guard operands.count == fixed + selectCount || operands.count == fixed + selectCount + 1 else {
        let selected = a.select ? ", an optional mask, a predicate and a fill" : " and an optional mask"
        throw TypeRuleError("attention with the \(a.score.rawValue) score takes \(fixed) operands\(selected), got \(operands.count)")
    }
    let (q, k, v) = (operands[0], operands[1], operands[2])
    for (i, t) in [q, k, v].enumerated() {
        guard t.elementType == .f32 else { throw TypeRuleError("attention needs f32 operands, got \(t)", operand: i) }
        guard t.rank >= 2 else { throw TypeRuleError("attention operands need rank >= 2 ([batch…, positions, features]), got \(t)", operand: i) }
    }
    let (sq, d) = (q.shape[q.rank - 2], q.shape[q.rank - 1])
    let (sk, dk) = (k.shape[k.rank - 2], k.shape[k.rank - 1])
    guard d == dk else { throw TypeRuleError("query features \(d) and key features \(dk) differ", operand: 1) }
    guard v.shape[v.rank - 2] == sk else { throw TypeRuleError("values have \(v.shape[v.rank - 2]) positions, keys \(sk)", operand: 2) }
    let dv = v.shape[v.rank - 1]
    var batch: [Dim] = []
    for (i, t) in [q, k, v].enumerated() {
        do { batch = try broadcastShapes(batch, Array(t.shape.dropLast(2))) } catch { throw TypeRuleError("attention batch dims: \(error.message)", operand: i) }
    }
    if a.score == .additive {
        guard operands[3].shape == [d] else { throw TypeRuleError("the additive score weight must be [\(d)], got \(operands[3])", operand: 3) }
    }
    let scores = batch + [sq, sk]
    func expectMask(_ index: Int?, _ what: String, _ elementType: ElementType) throws(TypeRuleError) {
        guard let index else { return }
        let mask = operands[index]
        guard mask.elementType == elementType else { throw TypeRuleError("the attention \(what) must be \(elementType.rawValue), got \(mask)", operand: index) }
        guard let full = try? broadcastShapes(mask.shape, scores), full == scores else {
            throw TypeRuleError("\(what) \(mask) does not broadcast to the scores [\(scores.map(\.description).joined(separator: ","))]", operand: index)
        }
    }
    let (mask, predicate, fill) = a.maskOperands(count: operands.count)
    try expectMask(mask, "mask", .f32)
    try expectMask(predicate, "select predicate", .i1)
    try expectMask(fill, "select fill", .f32)
    let output = TensorType(.f32, batch + [sq, dv])
    return a.weights ? [output, TensorType(.f32, scores)] : [output]
}

/// The typing rule of `channel_gate` (see `ChannelGateAttributes`).
private func channelGateType(_ a: ChannelGateAttributes, _ operands: [TensorType]) throws(TypeRuleError) -> TensorType {
    let x = operands[0]
    guard x.elementType == .f32, x.rank >= 3 else { throw TypeRuleError("channel_gate needs an f32 input [N, C, spatial…], got \(x)", operand: 0) }
    guard !a.pools.isEmpty, a.pools.count == Set(a.pools).count, !a.pools.contains(.attention) || a.pools == [.attention] else {
        throw TypeRuleError("channel_gate pools must be distinct avg/max, or attention alone")
    }
    let c = x.shape[1]
    var next = 1
    func expect(_ shape: [Dim], _ what: String) throws(TypeRuleError) {
        let t = operands[next]
        guard t.elementType == .f32, t.shape == shape else {
            throw TypeRuleError("channel_gate \(what) must be f32[\(shape.map(\.description).joined(separator: ","))], got \(t)", operand: next)
        }
        next += 1
    }
    if a.pools == [.attention] {
        try expect([c], "attention weight")
        try expect([1], "attention bias")
    }
    let w1 = operands[next]
    guard w1.rank == 2, w1.shape[1] == c else { throw TypeRuleError("channel_gate first weight must be [hidden, \(c)], got \(w1)", operand: next) }
    let p = w1.shape[0]
    try expect([p, c], "first weight")
    if a.bias { try expect([p], "first bias") }
    if a.layerNorm {
        try expect([p], "norm scale")
        try expect([p], "norm shift")
    }
    try expect([c, p], "second weight")
    if a.bias { try expect([c], "second bias") }
    return a.mapOnly ? TensorType(x.elementType, Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.rank - 2)) : x
}

/// The typing rule of `spatial_gate` (see `SpatialGateAttributes`).
private func spatialGateType(_ a: SpatialGateAttributes, _ operands: [TensorType]) throws(TypeRuleError) -> TensorType {
    let x = operands[0]
    guard x.elementType == .f32, x.rank == 4 else { throw TypeRuleError("spatial_gate needs an f32 rank-4 input, got \(x)", operand: 0) }
    guard Set(a.dims) == [1, 2, 3], a.dims.count == 3 else { throw TypeRuleError("dims must order 1, 2 and 3, got \(a.dims)") }
    guard !a.pools.isEmpty, a.pools.count == Set(a.pools).count else { throw TypeRuleError("spatial_gate pools must be distinct mean/max") }
    let w = operands[1]
    guard w.elementType == .f32, w.rank == 4, w.shape[0] == 1, w.shape[1] == .known(a.pools.count),
          let kh = w.shape[2].value, let kw = w.shape[3].value else {
        throw TypeRuleError("spatial_gate weight must be [1, \(a.pools.count), kh, kw], got \(w)", operand: 1)
    }
    guard a.padding.count == 2, 2 * a.padding[0] == kh - 1, 2 * a.padding[1] == kw - 1 else {
        throw TypeRuleError("spatial_gate padding \(a.padding) must keep the map's size for a \(kh)x\(kw) kernel")
    }
    for i in 2..<operands.count where operands[i] != TensorType(.f32, [1]) {
        throw TypeRuleError("spatial_gate bias and batch-norm parameters must be f32[1], got \(operands[i])", operand: i)
    }
    guard a.mapOnly else { return x }
    var shape = x.shape
    shape[a.dims[0]] = 1
    return TensorType(x.elementType, shape)
}
