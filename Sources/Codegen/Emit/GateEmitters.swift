import CLLVM
import GraphIR

/// Several reductions of `[outer, reduced, inner]` in one read: every function's accumulator is
/// updated from the same loaded vector.
///
/// With `inner == 1` a task is one row (see `reduceContiguous`). Otherwise a task is one slab of
/// columns of one outer index (see `ColumnSlabs`).
struct MultiReduceEmitter {
    let kernel: MultiReduceKernel
    let lanes: Int

    private var slabs: ColumnSlabs { ColumnSlabs(inner: kernel.inner, lanes: lanes) }
    private var chunks: Int { kernel.inner == 1 ? 1 : slabs.count }

    var taskCount: Int { kernel.outer * chunks }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let input = e.pointer(to: kernel.input)
        let outputs = kernel.outputs.map { ($0.function, e.pointer(to: $0.buffer)) }
        let (reduced, inner) = (kernel.reduced, kernel.inner)
        func finish(_ function: ReduceFunction, _ total: IRValue) -> IRValue {
            function == .mean ? b.fmul(total, e.context.constant(1.0 / Double(reduced), total.type)) : total
        }
        try b.forLoop(begin, end) { task, _ in
            if inner == 1 {
                let totals = try reduceContiguous(e, input, b.mul(task, e.i64(reduced)), count: reduced, functions: kernel.outputs.map(\.function))
                for ((function, pointer), total) in zip(outputs, totals) { try e.store(finish(function, total), .f32, pointer, task) }
                return []
            }
            let o = b.sdiv(task, e.i64(chunks))
            try slabs.forSlab(e, b.srem(task, e.i64(chunks))) { firstColumn, columns in
                let identities = try kernel.outputs.map { try reductionIdentity(e, $0.function, .f32, lanes: lanes) }
                let totals = try slabs.accumulate(e, input, rowBase: b.add(b.mul(o, e.i64(reduced * inner)), firstColumn), rowStride: inner,
                                                  reduced: reduced, columns: columns, initial: identities) { _, x, acc, f in
                    combine(e, kernel.outputs[f].function, acc, x)
                }
                for ((function, pointer), vectors) in zip(outputs, totals) {
                    slabs.store(e, vectors.map { finish(function, $0) }, pointer, base: b.add(b.mul(o, e.i64(inner)), firstColumn), columns: columns)
                }
            }
            return []
        }
    }
}

/// A gate's MLP, one batch element per task: for each pooling, `h = relu(norm(w1·d + b1))`,
/// then `g += w2·h + b2`; finally `g = sigmoid(g)` for a scaling gate. Dot products over the
/// channels are vectorised; the hidden layer is small and kept on the stack.
struct GateMLPEmitter {
    let kernel: GateMLPKernel
    let lanes: Int

    var taskCount: Int { kernel.batch }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let f32 = c.f32
        let (channels, hidden) = (kernel.channels, kernel.hidden)
        let w1 = e.pointer(to: kernel.w1), w2 = e.pointer(to: kernel.w2), output = e.pointer(to: kernel.output)
        let b1 = kernel.b1.map { e.pointer(to: $0) }, b2 = kernel.b2.map { e.pointer(to: $0) }
        let descriptors = kernel.descriptors.map { e.pointer(to: $0) }
        let hiddenValues = b.stackSlot(c.array(f32, count: hidden), alignment: 64)
        try b.forLoop(begin, end) { n, _ in
            let row = b.mul(n, e.i64(channels))
            b.forLoop(e.i64(0), e.i64(channels)) { ch, _ in
                b.store(c.constant(0.0, f32), b.elementPointer(f32, output, b.add(row, ch)), alignment: 4)
                return []
            }
            for descriptor in descriptors {
                // h[j] = Σ_c w1[j, c] · d[c] (+ b1[j]).
                try b.forLoop(e.i64(0), e.i64(hidden)) { j, _ in
                    let products = try dotProduct(e, w1, b.mul(j, e.i64(channels)), descriptor, row, count: channels)
                    let value = b1.map { b.fadd(products, b.load(f32, b.elementPointer(f32, $0, j), alignment: 4)) } ?? products
                    b.store(value, b.elementPointer(f32, hiddenValues, j), alignment: 4)
                    return []
                }
                if let norm = kernel.norm {
                    try normalize(e, hiddenValues, count: hidden, scale: e.pointer(to: norm.scale), shift: e.pointer(to: norm.shift),
                                  epsilon: norm.epsilon)
                }
                b.forLoop(e.i64(0), e.i64(hidden)) { j, _ in
                    let at = b.elementPointer(f32, hiddenValues, j)
                    let h = b.load(f32, at, alignment: 4)
                    b.store(b.select(b.fcmp(LLVMRealOLT, h, c.constant(0.0, f32)), c.constant(0.0, f32), h), at, alignment: 4)
                    return []
                }
                // g[c] += Σ_j w2[c, j] · h[j] (+ b2[c]).
                try b.forLoop(e.i64(0), e.i64(channels)) { ch, _ in
                    let products = try dotProduct(e, w2, b.mul(ch, e.i64(hidden)), hiddenValues, e.i64(0), count: hidden)
                    let at = b.elementPointer(f32, output, b.add(row, ch))
                    var value = b.fadd(b.load(f32, at, alignment: 4), products)
                    if let b2 { value = b.fadd(value, b.load(f32, b.elementPointer(f32, b2, ch), alignment: 4)) }
                    b.store(value, at, alignment: 4)
                    return []
                }
            }
            if kernel.sigmoid {
                b.forLoop(e.i64(0), e.i64(channels)) { ch, _ in
                    let at = b.elementPointer(f32, output, b.add(row, ch))
                    b.store(VectorMath.sigmoid(b.load(f32, at, alignment: 4), b), at, alignment: 4)
                    return []
                }
            }
            return []
        }
    }

    /// Layer norm of `count` floats in place: `(h - mean) / sqrt(var + eps) · scale + shift`.
    private func normalize(_ e: EmitContext, _ values: IRValue, count: Int, scale: IRValue, shift: IRValue, epsilon: Double) throws {
        let b = e.builder, c = e.context
        let f32 = c.f32
        let mean = b.fmul(try reduceContiguous(e, values, e.i64(0), count: count, function: .sum), c.constant(1.0 / Double(count), f32))
        let squares = try reduceContiguous(e, values, e.i64(0), count: count, function: .sum) { x in
            let d = b.fsub(x, b.splat(mean, lanes: x.type.lanes))
            return b.fmul(d, d)
        }
        let inverse = b.fdiv(c.constant(1.0, f32), b.intrinsic("sqrt", [b.fadd(b.fmul(squares, c.constant(1.0 / Double(count), f32)), c.constant(epsilon, f32))]))
        b.forLoop(e.i64(0), e.i64(count)) { j, _ in
            let at = b.elementPointer(f32, values, j)
            let normalized = b.fmul(b.fsub(b.load(f32, at, alignment: 4), mean), inverse)
            let scaled = b.multiplyAdd(normalized, b.load(f32, b.elementPointer(f32, scale, j), alignment: 4),
                                       b.load(f32, b.elementPointer(f32, shift, j), alignment: 4))
            b.store(scaled, at, alignment: 4)
            return []
        }
    }
}

/// `Σ_{i<count} f(a[aBase + i], v[vBase + i])` with `f = a·v` by default, vectorised with four
/// independent accumulators (a long dot product is otherwise bound by one FMA chain's latency)
/// and a masked tail. `term` may replace the product (the additive attention score's
/// `w·tanh(q + k)` is a "dot" of q and k with another term).
func dotProduct(_ e: EmitContext, _ a: IRValue, _ aBase: IRValue, _ v: IRValue, _ vBase: IRValue, count: Int,
                term: ((IRValue, IRValue, IRValue, IRValue) -> IRValue)? = nil) throws -> IRValue {
    let b = e.builder, c = e.context
    let lanes = e.lanes
    let vector = c.f32.vector(lanes)
    // term(x, y, accumulator, index) -> accumulator'
    let step = term ?? { x, y, acc, _ in b.multiplyAdd(x, y, acc) }
    let unrolledEnd = count / (4 * lanes) * (4 * lanes), vectorEnd = count / lanes * lanes
    var accumulators = Array(repeating: c.constant(0.0, vector), count: 4)
    if unrolledEnd > 0 {
        accumulators = try b.forLoop(e.i64(0), e.i64(unrolledEnd), step: 4 * lanes, carrying: accumulators) { i, acc in
            try (0..<4).map { u in
                let at = b.add(i, e.i64(u * lanes))
                return step(try e.load(.f32, a, b.add(aBase, at), count: lanes), try e.load(.f32, v, b.add(vBase, at), count: lanes), acc[u], at)
            }
        }
    }
    if unrolledEnd < vectorEnd {
        accumulators[0] = try b.forLoop(e.i64(unrolledEnd), e.i64(vectorEnd), step: lanes, carrying: [accumulators[0]]) { i, acc in
            [step(try e.load(.f32, a, b.add(aBase, i), count: lanes), try e.load(.f32, v, b.add(vBase, i), count: lanes), acc[0], i)]
        }[0]
    }
    if vectorEnd < count {
        // The tail as one masked vector: lanes past the end read 0 and add nothing (a product
        // with 0, or w = 0 for the additive term, which masks its weight the same way).
        let mask = leadingLanes(c, count - vectorEnd, of: lanes)
        let at = e.i64(vectorEnd)
        let x = maskedLoad(b, b.elementPointer(c.f32, a, b.add(aBase, at)), mask, vector)
        let y = maskedLoad(b, b.elementPointer(c.f32, v, b.add(vBase, at)), mask, vector)
        accumulators[1] = b.select(mask, step(x, y, accumulators[1], at), accumulators[1])
    }
    let sum = b.fadd(b.fadd(accumulators[0], accumulators[1]), b.fadd(accumulators[2], accumulators[3]))
    return e.reduceLanes(sum) { b.fadd($0, $1) }
}

/// Attention-pooling logits: `out[n, s] = Σ_c w[c] · x[n, c, s] + bias`, vectorised over s,
/// reading x once.
struct ChannelWeightedSumEmitter {
    let kernel: ChannelWeightedSumKernel
    let lanes: Int

    private var slabs: ColumnSlabs { ColumnSlabs(inner: kernel.positions, lanes: lanes) }

    /// A task is one slab of positions of one batch element (see `ColumnSlabs`).
    var taskCount: Int { kernel.batch * slabs.count }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let input = e.pointer(to: kernel.input), weight = e.pointer(to: kernel.weight), output = e.pointer(to: kernel.output)
        let bias = b.splat(b.load(c.f32, e.pointer(to: kernel.bias), alignment: 4), lanes: lanes)
        let positions = kernel.positions
        try b.forLoop(begin, end) { task, _ in
            let n = b.sdiv(task, e.i64(slabs.count))
            try slabs.forSlab(e, b.srem(task, e.i64(slabs.count))) { firstColumn, columns in
                let totals = try slabs.accumulate(e, input, rowBase: b.add(b.mul(n, e.i64(kernel.channels * positions)), firstColumn),
                                                  rowStride: positions, reduced: kernel.channels, columns: columns, initial: [bias]) { ch, x, acc, _ in
                    b.multiplyAdd(b.splat(b.load(c.f32, b.elementPointer(c.f32, weight, ch), alignment: 4), lanes: lanes), x, acc)
                }
                slabs.store(e, totals[0], output, base: b.add(b.mul(n, e.i64(positions)), firstColumn), columns: columns)
            }
            return []
        }
    }
}

/// `out[n, r] = Σ_i matrix[n, r, i] · vector[n, i]`, a task per row.
struct RowDotEmitter {
    let kernel: RowDotKernel

    var taskCount: Int { kernel.batch * kernel.rows }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let matrix = e.pointer(to: kernel.matrix), vector = e.pointer(to: kernel.vector), output = e.pointer(to: kernel.output)
        try b.forLoop(begin, end) { row, _ in
            let n = b.sdiv(row, e.i64(kernel.rows))
            let value = try dotProduct(e, matrix, b.mul(row, e.i64(kernel.length)), vector, b.mul(n, e.i64(kernel.length)), count: kernel.length)
            try e.store(value, .f32, output, row)
            return []
        }
    }
}

/// The spatial gate's map: `g[n, r, s] = sigmoid(norm(Σ_k Σ_taps w · map_k[n, r + dy - p, s + dx - p]))`
/// with zero padding. A task is one row of one batch element. Only taps whose row is inside the
/// map are visited; column blocks clear of both edges read plain vectors, the edge blocks read
/// masked vectors (columns are contiguous: the planner lays the maps out that way).
struct SpatialConvEmitter {
    let kernel: SpatialConvKernel
    let lanes: Int

    var taskCount: Int { kernel.batch * kernel.rows }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let f32 = c.f32
        let maps = kernel.maps.map { e.pointer(to: $0) }
        let weight = e.pointer(to: kernel.weight), output = e.pointer(to: kernel.output)
        let (rows, columns) = (kernel.rows, kernel.columns)
        let (kh, kw) = (kernel.kernelHeight, kernel.kernelWidth)
        let (padRows, padColumns) = (kernel.padding[0], kernel.padding[1])
        // Bias and batch norm folded to one z · a + b.
        let load = { (buffer: BufferID) in b.load(f32, e.pointer(to: buffer), alignment: 4) }
        var affine = kernel.bias.map { (c.constant(1.0, f32), load($0)) }
        if let n = kernel.norm {
            let a = b.fdiv(load(n.scale), b.intrinsic("sqrt", [b.fadd(load(n.variance), c.constant(n.epsilon, f32))]))
            let shift = b.fsub(load(n.shift), b.fmul(load(n.mean), a))
            // norm(z + bias) = z·a + (bias·a + shift)
            affine = (a, affine.map { b.multiplyAdd($0.1, a, shift) } ?? shift)
        }
        /// Weight (k, dy, dx); a transposed kernel swaps the tap's row and column.
        func weightIndex(_ k: Int, _ dy: IRValue, _ dx: Int) -> IRValue {
            kernel.transposedWeight
                ? b.add(b.mul(b.add(e.i64(k * kw + dx), e.i64(0)), e.i64(kh)), dy)
                : b.add(b.mul(b.add(e.i64(k * kh), dy), e.i64(kw)), e.i64(dx))
        }
        try b.forLoop(begin, end) { task, _ in
            let n = b.sdiv(task, e.i64(rows)), r = b.srem(task, e.i64(rows))
            let mapBase = b.mul(n, e.i64(kernel.batchStride))
            // Taps whose row falls inside the map.
            let firstTap = b.select(b.icmp(LLVMIntSLT, r, e.i64(padRows)), b.sub(e.i64(padRows), r), e.i64(0))
            let lastTap = e.minimum(e.i64(kh), b.sub(e.i64(rows + padRows), r))
            // Whole vectors only: the last, partial block takes the masked path and a masked store.
            let blocks = (columns + lanes - 1) / lanes
            try b.forLoop(e.i64(0), e.i64(blocks * lanes), step: lanes) { s, _ in
                let width = lanes
                let laneOffsets = b.signExtend(c.constantVector((0..<width).map { Int32($0) }), c.i64.vector(width))
                func convolve(masked: Bool) throws -> IRValue {
                    var z = c.constant(0.0, f32.vector(width))
                    for (k, map) in maps.enumerated() {
                        z = try b.forLoop(firstTap, lastTap, carrying: [z]) { dy, acc in
                            let rowBase = b.add(mapBase, b.mul(b.add(r, b.sub(dy, e.i64(padRows))), e.i64(kernel.rowStride)))
                            var sum = acc[0]
                            for dx in 0..<kw {
                                let w = b.splat(b.load(f32, b.elementPointer(f32, weight, weightIndex(k, dy, dx)), alignment: 4), lanes: width)
                                let first = b.add(s, e.i64(dx - padColumns))
                                let value: IRValue
                                if !masked {
                                    value = try e.load(.f32, map, b.add(rowBase, first), count: width)
                                } else if width == 1 {
                                    let inside = b.and(b.icmp(LLVMIntSGE, first, e.i64(0)), b.icmp(LLVMIntSLT, first, e.i64(columns)))
                                    let at = b.select(inside, b.add(rowBase, first), rowBase)
                                    value = b.select(inside, try e.load(.f32, map, at, count: 1), c.constant(0.0, f32))
                                } else {
                                    let xs = b.add(b.splat(first, lanes: width), laneOffsets)
                                    let inside = b.and(b.icmp(LLVMIntSGE, xs, c.constant(0, xs.type)), b.icmp(LLVMIntSLT, xs, c.constant(columns, xs.type)))
                                    // Lanes off the map are masked; the pointer may point before it (no inbounds GEP).
                                    value = maskedLoad(b, b.offsetPointer(f32, map, b.add(rowBase, first)), inside, f32.vector(width))
                                }
                                sum = b.multiplyAdd(w, value, sum)
                            }
                            return [sum]
                        }[0]
                    }
                    return z
                }
                // A block clear of both edges reads plain vectors.
                let interior = b.and(b.icmp(LLVMIntSGE, s, e.i64(padColumns)), b.icmp(LLVMIntSLE, b.add(s, e.i64(width + padColumns)), e.i64(columns)))
                let fast = b.block("conv.interior"), edge = b.block("conv.edge"), join = b.block("conv.join")
                b.branch(if: interior, then: fast, else: edge)
                b.position(at: fast)
                let zFast = try convolve(masked: false)
                let fastEnd = b.currentBlock
                b.branch(to: join)
                b.position(at: edge)
                let zEdge = try convolve(masked: true)
                let edgeEnd = b.currentBlock
                b.branch(to: join)
                b.position(at: join)
                var z = b.phi(f32.vector(width), [(zFast, fastEnd), (zEdge, edgeEnd)])
                if let (scale, shift) = affine { z = b.multiplyAdd(z, b.splat(scale, lanes: width), b.splat(shift, lanes: width)) }
                let valid = b.icmp(LLVMIntSLT, b.add(b.splat(s, lanes: width), laneOffsets), c.constant(columns, c.i64.vector(width)))
                maskedStore(b, VectorMath.sigmoid(z, b), b.elementPointer(f32, output, b.add(b.mul(task, e.i64(columns)), s)), valid)
                return []
            }
            return []
        }
    }
}
