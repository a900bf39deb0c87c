import CLLVM
import GraphIR

/// Reductions, softmax and layer norm over `[outer, reduced, inner]` views of contiguous buffers.
///
/// When the reduced dim is innermost (`inner == 1`) a task handles one row: the row is read
/// `lanes` at a time into a vector accumulator, combined across lanes by a tree at the end.
/// Otherwise a task handles one `outer` index and walks the inner dim in vectors, accumulating
/// down the reduced dim (no horizontal step needed).
struct ReduceEmitter {
    let kernel: ReduceKernel
    let lanes: Int

    var taskCount: Int { kernel.outer }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let input = e.pointer(to: kernel.input.buffer), output = e.pointer(to: kernel.output)
        let (reduced, inner) = (kernel.reduced, kernel.inner)
        // Integer and i1 tensors reduce too (sum, amax, amin): read, combine and store them in
        // their own type, not as f32 (which reinterpreted their bits and overran i1 buffers).
        let type = e.plan[kernel.output].elementType
        try b.forLoop(begin, end) { o, _ in
            let rowBase = b.mul(o, e.i64(reduced * inner))
            try forEachInnerBlock(e, inner: inner) { i, width in
                let base = b.add(rowBase, i)
                let total: IRValue
                if inner == 1 {
                    total = try reduceContiguous(e, input, base, count: reduced, function: kernel.function, type: type)
                } else {
                    let identity = try reductionIdentity(e, kernel.function, type, lanes: width)
                    total = try b.forLoop(e.i64(0), e.i64(reduced), carrying: [identity]) { r, acc in
                        let x = try e.load(type, input, b.add(base, b.mul(r, e.i64(inner))), count: width)
                        return [combine(e, kernel.function, acc[0], x, type: type)]
                    }[0]
                }
                let result = kernel.function == .mean ? b.fmul(total, e.context.constant(1.0 / Double(reduced), total.type)) : total
                try e.store(result, type, output, b.add(b.mul(o, e.i64(inner)), i))
                return
            }
            return []
        }
    }
}

/// Calls `body(index, width)` for vector blocks of `inner` then a scalar tail.
func forEachInnerBlock(_ e: EmitContext, inner: Int, _ body: (IRValue, Int) throws -> Void) rethrows {
    let b = e.builder
    let vectorEnd = inner / e.lanes * e.lanes
    if vectorEnd > 0 {
        try b.forLoop(e.i64(0), e.i64(vectorEnd), step: e.lanes) { i, _ in
            try body(i, e.lanes)
            return []
        }
    }
    if vectorEnd < inner {
        try b.forLoop(e.i64(vectorEnd), e.i64(inner)) { i, _ in
            try body(i, 1)
            return []
        }
    }
}

/// Reduces `count` contiguous elements of `type` at `pointer[base...]` to a scalar.
func reduceContiguous(_ e: EmitContext, _ pointer: IRValue, _ base: IRValue, count: Int, function: ReduceFunction,
                      type: ElementType = .f32, map: ((IRValue) -> IRValue)? = nil) throws -> IRValue {
    try reduceContiguous(e, pointer, base, count: count, functions: [function], type: type, map: map)[0]
}

/// Reduces `count` contiguous elements with several functions in one read. The main loop keeps
/// four independent vector accumulators per function, so consecutive loads do not wait on one
/// another's combine; they are combined as a tree at the end, then across lanes, then the
/// scalar tail is added.
func reduceContiguous(_ e: EmitContext, _ pointer: IRValue, _ base: IRValue, count: Int, functions: [ReduceFunction],
                      type: ElementType = .f32, map: ((IRValue) -> IRValue)? = nil) throws -> [IRValue] {
    let b = e.builder
    let lanes = e.lanes
    let unroll = 4
    let unrolledEnd = count / (lanes * unroll) * (lanes * unroll)
    let vectorEnd = count / lanes * lanes
    var totals = try functions.map { try reductionIdentity(e, $0, type, lanes: 1) }
    if vectorEnd > 0 {
        let identities = try functions.map { try reductionIdentity(e, $0, type, lanes: lanes) }
        var accumulators = identities.flatMap { Array(repeating: $0, count: unroll) }
        if unrolledEnd > 0 {
            accumulators = try b.forLoop(e.i64(0), e.i64(unrolledEnd), step: lanes * unroll, carrying: accumulators) { r, acc in
                var next = acc
                for u in 0..<unroll {
                    let raw = try e.load(type, pointer, b.add(base, b.add(r, e.i64(u * lanes))), count: lanes)
                    let x = map?(raw) ?? raw
                    for (f, function) in functions.enumerated() { next[f * unroll + u] = combine(e, function, acc[f * unroll + u], x, type: type) }
                }
                return next
            }
        }
        if unrolledEnd < vectorEnd {
            accumulators = try b.forLoop(e.i64(unrolledEnd), e.i64(vectorEnd), step: lanes, carrying: accumulators) { r, acc in
                let raw = try e.load(type, pointer, b.add(base, r), count: lanes)
                let x = map?(raw) ?? raw
                var next = acc
                for (f, function) in functions.enumerated() { next[f * unroll] = combine(e, function, acc[f * unroll], x, type: type) }
                return next
            }
        }
        for (f, function) in functions.enumerated() {
            let group = Array(accumulators[(f * unroll)..<((f + 1) * unroll)])
            let vector = combine(e, function, combine(e, function, group[0], group[1], type: type),
                                 combine(e, function, group[2], group[3], type: type), type: type)
            totals[f] = e.reduceLanes(vector) { combine(e, function, $0, $1, type: type) }
        }
    }
    if vectorEnd < count && type == .f32 && map == nil {
        // The tail as one masked vector (lanes past the end read the identity), not a serial scalar chain.
        let tail = count - vectorEnd
        let at = b.elementPointer(e.context.f32, pointer, b.add(base, e.i64(vectorEnd)))
        for (f, function) in functions.enumerated() {
            let x = maskedLoad(b, at, leadingLanes(e.context, tail, of: lanes), e.context.f32.vector(lanes),
                               passthrough: try reductionIdentity(e, function, type, lanes: lanes))
            totals[f] = combine(e, function, totals[f], e.reduceLanes(x) { combine(e, function, $0, $1, type: type) }, type: type)
        }
    } else if vectorEnd < count {
        totals = try b.forLoop(e.i64(vectorEnd), e.i64(count), carrying: totals) { r, acc in
            let raw = try e.load(type, pointer, b.add(base, r), count: 1)
            let x = map?(raw) ?? raw
            return zip(functions, acc).map { combine(e, $0, $1, x, type: type) }
        }
    }
    return totals
}

/// The reduction's binary step on values of `type`; float max and min propagate NaN. On i1,
/// sum and amax are `or` and amin is `and`, as the interpreter's sums rounded to `!= 0` give.
func combine(_ e: EmitContext, _ function: ReduceFunction, _ a: IRValue, _ b: IRValue, type: ElementType = .f32) -> IRValue {
    let builder = e.builder
    if type == .i1 { return function == .amin ? builder.and(a, b) : builder.or(a, b) }
    if type.isInteger {
        switch function {
        case .sum, .mean: return builder.add(a, b)
        case .amax: return builder.select(builder.icmp(LLVMIntSGT, a, b), a, b)
        case .amin: return builder.select(builder.icmp(LLVMIntSLT, a, b), a, b)
        }
    }
    switch function {
    case .sum, .mean: return builder.fadd(a, b)
    case .amax: return builder.intrinsic("maximum", [a, b])
    case .amin: return builder.intrinsic("minimum", [a, b])
    }
}

/// The value a reduction of `type` starts from, `lanes` wide (a scalar for 1).
func reductionIdentity(_ e: EmitContext, _ function: ReduceFunction, _ type: ElementType, lanes: Int) throws -> IRValue {
    let register = try e.registerType(type).vector(lanes)
    if type.isFloat { return e.context.constant(function.identity, register) }
    if type == .i1 { return e.context.constant(function == .amin ? 1 : 0, register) }
    let bits = register.integerWidth
    switch function {
    case .sum, .mean: return e.context.constant(0, register)
    case .amax: return e.context.constant(bits == 64 ? Int.min : -(1 << (bits - 1)), register)
    case .amin: return e.context.constant(bits == 64 ? Int.max : (1 << (bits - 1)) - 1, register)
    }
}

extension ReduceFunction {
    var identity: Double {
        switch self {
        case .sum, .mean: return 0
        case .amax: return -.infinity
        case .amin: return .infinity
        }
    }
}

/// Softmax along the middle dim: max, then exp(x - max) summed (stored to the output), then a
/// scale by 1/sum. An all -inf row gives NaN, as the reference does.
struct SoftmaxEmitter {
    let kernel: SoftmaxKernel

    var taskCount: Int { kernel.outer }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let input = e.pointer(to: kernel.input), output = e.pointer(to: kernel.output)
        let (axis, inner) = (kernel.axis, kernel.inner)
        try b.forLoop(begin, end) { o, _ in
            let rowBase = b.mul(o, e.i64(axis * inner))
            if inner == 1 {
                let top = try reduceContiguous(e, input, rowBase, count: axis, function: .amax)
                let sum = try mapContiguous(e, from: input, to: output, rowBase, count: axis, summing: true) { x in
                    VectorMath.exp(b.fsub(x, b.splat(top, lanes: x.type.lanes)), b)
                }
                let scale = b.fdiv(e.context.constant(1.0, e.context.f32), sum)
                _ = try mapContiguous(e, from: output, to: output, rowBase, count: axis, summing: false) { x in
                    b.fmul(x, b.splat(scale, lanes: x.type.lanes))
                }
            } else {
                try forEachInnerBlock(e, inner: inner) { i, width in
                    let type = e.context.f32.vector(width)
                    let base = b.add(rowBase, i)
                    func at(_ r: IRValue) -> IRValue { b.add(base, b.mul(r, e.i64(inner))) }
                    let top = try b.forLoop(e.i64(0), e.i64(axis), carrying: [e.context.constant(-Double.infinity, type)]) { r, acc in
                        [b.intrinsic("maximum", [acc[0], try e.load(.f32, input, at(r), count: width)])]
                    }[0]
                    let sum = try b.forLoop(e.i64(0), e.i64(axis), carrying: [e.context.constant(0.0, type)]) { r, acc in
                        let x = VectorMath.exp(b.fsub(try e.load(.f32, input, at(r), count: width), top), b)
                        try e.store(x, .f32, output, at(r))
                        return [b.fadd(acc[0], x)]
                    }[0]
                    let scale = b.fdiv(e.context.constant(1.0, type), sum)
                    try b.forLoop(e.i64(0), e.i64(axis)) { r, _ in
                        try e.store(b.fmul(try e.load(.f32, output, at(r), count: width), scale), .f32, output, at(r))
                        return []
                    }
                }
            }
            return []
        }
    }
}

/// Writes `transform(x)` for `count` contiguous floats, vectors then a scalar tail; returns the
/// sum of the written values when `summing`.
func mapContiguous(_ e: EmitContext, from source: IRValue, to destination: IRValue, _ base: IRValue, count: Int, summing: Bool,
                   _ transform: (IRValue) throws -> IRValue) throws -> IRValue {
    let b = e.builder
    let vectorEnd = count / e.lanes * e.lanes
    var total = e.context.constant(0.0, e.context.f32)
    if vectorEnd > 0 {
        let acc = try b.forLoop(e.i64(0), e.i64(vectorEnd), step: e.lanes, carrying: [e.context.constant(0.0, e.context.f32.vector(e.lanes))]) { r, acc in
            let y = try transform(try e.load(.f32, source, b.add(base, r), count: e.lanes))
            try e.store(y, .f32, destination, b.add(base, r))
            return [summing ? b.fadd(acc[0], y) : acc[0]]
        }[0]
        if summing { total = e.reduceLanes(acc) { b.fadd($0, $1) } }
    }
    if vectorEnd < count {
        total = try b.forLoop(e.i64(vectorEnd), e.i64(count), carrying: [total]) { r, acc in
            let y = try transform(try e.load(.f32, source, b.add(base, r), count: 1))
            try e.store(y, .f32, destination, b.add(base, r))
            return [summing ? b.fadd(acc[0], y) : acc[0]]
        }[0]
    }
    return total
}

/// Layer norm over each row: mean, then the biased variance of (x - mean), then
/// `(x - mean) / sqrt(var + eps) · scale + bias`.
struct LayerNormEmitter {
    let kernel: LayerNormKernel

    var taskCount: Int { kernel.outer }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let n = kernel.normalized
        let input = e.pointer(to: kernel.input), output = e.pointer(to: kernel.output)
        let scale = kernel.scale.map { e.pointer(to: $0) }, bias = kernel.bias.map { e.pointer(to: $0) }
        try b.forLoop(begin, end) { o, _ in
            let base = b.mul(o, e.i64(n))
            let sum = try reduceContiguous(e, input, base, count: n, function: .sum)
            let mean = b.fmul(sum, e.context.constant(1.0 / Double(n), e.context.f32))
            let squares = try reduceContiguous(e, input, base, count: n, function: .sum) { x in
                let d = b.fsub(x, b.splat(mean, lanes: x.type.lanes))
                return b.fmul(d, d)
            }
            let variance = b.fmul(squares, e.context.constant(1.0 / Double(n), e.context.f32))
            let inverse = b.fdiv(e.context.constant(1.0, e.context.f32),
                                 b.intrinsic("sqrt", [b.fadd(variance, e.context.constant(kernel.epsilon, e.context.f32))]))
            try forEachInnerBlock(e, inner: n) { j, width in
                let x = try e.load(.f32, input, b.add(base, j), count: width)
                var y = b.fmul(b.fsub(x, b.splat(mean, lanes: width)), b.splat(inverse, lanes: width))
                if let scale { y = b.fmul(y, try e.load(.f32, scale, j, count: width)) }
                if let bias { y = b.fadd(y, try e.load(.f32, bias, j, count: width)) }
                try e.store(y, .f32, output, b.add(base, j))
            }
            return []
        }
    }
}
