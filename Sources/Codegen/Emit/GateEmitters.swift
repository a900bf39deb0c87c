import CLLVM
import GraphIR

/// Several reductions of `[outer, reduced, inner]` in one read: every function's accumulator is
/// updated from the same loaded vector. A task is one outer index.
struct MultiReduceEmitter {
    let kernel: MultiReduceKernel
    let lanes: Int

    var taskCount: Int { kernel.outer }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let input = e.pointer(to: kernel.input)
        let outputs = kernel.outputs.map { ($0.function, e.pointer(to: $0.buffer)) }
        let (reduced, inner) = (kernel.reduced, kernel.inner)
        try b.forLoop(begin, end) { o, _ in
            let rowBase = b.mul(o, e.i64(reduced * inner))
            if inner == 1 {
                let totals = try reduceRow(e, input, rowBase, count: reduced)
                for ((function, pointer), total) in zip(outputs, totals) {
                    let value = function == .mean ? b.fmul(total, e.context.constant(1.0 / Double(reduced), total.type)) : total
                    try e.store(value, .f32, pointer, o)
                }
            } else {
                try forEachInnerBlock(e, inner: inner) { i, width in
                    let base = b.add(rowBase, i)
                    let initial = try kernel.outputs.map { try reductionIdentity(e, $0.function, .f32, lanes: width) }
                    let totals = try b.forLoop(e.i64(0), e.i64(reduced), carrying: initial) { r, acc in
                        let x = try e.load(.f32, input, b.add(base, b.mul(r, e.i64(inner))), count: width)
                        return zip(kernel.outputs, acc).map { combine(e, $0.function, $1, x) }
                    }
                    for ((function, pointer), total) in zip(outputs, totals) {
                        let value = function == .mean ? b.fmul(total, e.context.constant(1.0 / Double(reduced), total.type)) : total
                        try e.store(value, .f32, pointer, b.add(b.mul(o, e.i64(inner)), i))
                    }
                }
            }
            return []
        }
    }

    /// Every function's reduction of `count` contiguous floats.
    private func reduceRow(_ e: EmitContext, _ pointer: IRValue, _ base: IRValue, count: Int) throws -> [IRValue] {
        let b = e.builder
        let vectorEnd = count / lanes * lanes
        var totals = try kernel.outputs.map { try reductionIdentity(e, $0.function, .f32, lanes: 1) }
        if vectorEnd > 0 {
            let initial = try kernel.outputs.map { try reductionIdentity(e, $0.function, .f32, lanes: lanes) }
            let acc = try b.forLoop(e.i64(0), e.i64(vectorEnd), step: lanes, carrying: initial) { r, acc in
                let x = try e.load(.f32, pointer, b.add(base, r), count: lanes)
                return zip(kernel.outputs, acc).map { combine(e, $0.function, $1, x) }
            }
            totals = zip(kernel.outputs, acc).map { output, vector in e.reduceLanes(vector) { combine(e, output.function, $0, $1) } }
        }
        if vectorEnd < count {
            totals = try b.forLoop(e.i64(vectorEnd), e.i64(count), carrying: totals) { r, acc in
                let x = try e.load(.f32, pointer, b.add(base, r), count: 1)
                return zip(kernel.outputs, acc).map { combine(e, $0.function, $1, x) }
            }
        }
        return totals
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

/// `Σ_{i<count} a[aBase + i] · v[vBase + i]`, vectorised with a scalar tail.
func dotProduct(_ e: EmitContext, _ a: IRValue, _ aBase: IRValue, _ v: IRValue, _ vBase: IRValue, count: Int) throws -> IRValue {
    let b = e.builder, c = e.context
    let lanes = e.lanes
    let vectorEnd = count / lanes * lanes
    var total = c.constant(0.0, c.f32)
    if vectorEnd > 0 {
        let acc = try b.forLoop(e.i64(0), e.i64(vectorEnd), step: lanes, carrying: [c.constant(0.0, c.f32.vector(lanes))]) { i, acc in
            [b.multiplyAdd(try e.load(.f32, a, b.add(aBase, i), count: lanes), try e.load(.f32, v, b.add(vBase, i), count: lanes), acc[0])]
        }[0]
        total = e.reduceLanes(acc) { b.fadd($0, $1) }
    }
    if vectorEnd < count {
        total = try b.forLoop(e.i64(vectorEnd), e.i64(count), carrying: [total]) { i, acc in
            [b.multiplyAdd(try e.load(.f32, a, b.add(aBase, i), count: 1), try e.load(.f32, v, b.add(vBase, i), count: 1), acc[0])]
        }[0]
    }
    return total
}

/// Attention-pooling logits: `out[n, s] = Σ_c w[c] · x[n, c, s] + bias`, vectorised over s (a
/// task per batch element, reading x once in memory order).
struct ChannelWeightedSumEmitter {
    let kernel: ChannelWeightedSumKernel
    let lanes: Int

    var taskCount: Int { kernel.batch }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let input = e.pointer(to: kernel.input), weight = e.pointer(to: kernel.weight), output = e.pointer(to: kernel.output)
        let bias = b.load(c.f32, e.pointer(to: kernel.bias), alignment: 4)
        let positions = kernel.positions
        try b.forLoop(begin, end) { n, _ in
            let plane = b.mul(n, e.i64(kernel.channels * positions))
            try forEachInnerBlock(e, inner: positions) { s, width in
                let total = try b.forLoop(e.i64(0), e.i64(kernel.channels), carrying: [b.splat(bias, lanes: width)]) { ch, acc in
                    let w = b.splat(b.load(c.f32, b.elementPointer(c.f32, weight, ch), alignment: 4), lanes: width)
                    let x = try e.load(.f32, input, b.add(plane, b.add(b.mul(ch, e.i64(positions)), s)), count: width)
                    return [b.multiplyAdd(w, x, acc[0])]
                }[0]
                try e.store(total, .f32, output, b.add(b.mul(n, e.i64(positions)), s))
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
/// with zero padding. A task is one row of one batch element; columns go `lanes` at a time,
/// the taps that fall outside the map masked off.
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
        // Bias and batch norm folded to one z · a + b.
        let load = { (buffer: BufferID) in b.load(f32, e.pointer(to: buffer), alignment: 4) }
        var affine = kernel.bias.map { (c.constant(1.0, f32), load($0)) }
        if let n = kernel.norm {
            let a = b.fdiv(load(n.scale), b.intrinsic("sqrt", [b.fadd(load(n.variance), c.constant(n.epsilon, f32))]))
            let shift = b.fsub(load(n.shift), b.fmul(load(n.mean), a))
            // norm(z + bias) = z·a + (bias·a + shift)
            affine = (a, affine.map { b.multiplyAdd($0.1, a, shift) } ?? shift)
        }
        try b.forLoop(begin, end) { task, _ in
            let n = b.sdiv(task, e.i64(rows)), r = b.srem(task, e.i64(rows))
            try forEachInnerBlock(e, inner: columns) { s, width in
                let columnIndices = width == 1 ? s : b.add(b.splat(s, lanes: width),
                                                          b.signExtend(c.constantVector((0..<width).map { Int32($0) }), c.i64.vector(width)))
                var z = c.constant(0.0, f32.vector(width))
                for (k, map) in maps.enumerated() {
                    let mapBase = b.mul(n, e.i64(kernel.batchStride))
                    for dy in 0..<kh {
                        let y = b.add(r, e.i64(dy - kernel.padding[0]))
                        let rowInside = b.and(b.icmp(LLVMIntSGE, y, e.i64(0)), b.icmp(LLVMIntSLT, y, e.i64(rows)))
                        let safeRow = b.select(rowInside, y, e.i64(0))
                        let rowBase = b.add(mapBase, b.mul(safeRow, e.i64(kernel.rowStride)))
                        for dx in 0..<kw {
                            let w = b.splat(b.load(f32, b.elementPointer(f32, weight, e.i64((k * kh + dy) * kw + dx)), alignment: 4), lanes: width)
                            let xs = b.add(columnIndices, width == 1 ? e.i64(dx - kernel.padding[1]) : c.constant(dx - kernel.padding[1], c.i64.vector(width)))
                            let inside = b.and(b.splat(rowInside, lanes: width),
                                               b.and(b.icmp(LLVMIntSGE, xs, c.constant(0, xs.type)), b.icmp(LLVMIntSLT, xs, c.constant(columns, xs.type))))
                            let value = try gather(e, map, rowBase, columns: xs, inside: inside, width: width)
                            z = b.multiplyAdd(w, value, z)
                        }
                    }
                }
                if let (scale, shift) = affine { z = b.multiplyAdd(z, b.splat(scale, lanes: width), b.splat(shift, lanes: width)) }
                try e.store(VectorMath.sigmoid(z, b), .f32, output, b.add(b.mul(task, e.i64(columns)), s))
            }
            return []
        }
    }

    /// Map values at `columns` of a row, 0 where `inside` is false (never read out of bounds).
    private func gather(_ e: EmitContext, _ map: IRValue, _ rowBase: IRValue, columns: IRValue, inside: IRValue, width: Int) throws -> IRValue {
        let b = e.builder, c = e.context
        let f32 = c.f32
        if width == 1 {
            let at = b.select(inside, b.add(rowBase, b.mul(columns, e.i64(kernel.columnStride))), rowBase)
            return b.select(inside, try e.load(.f32, map, at, count: 1), c.constant(0.0, f32))
        }
        if kernel.columnStride == 1 {
            // Lanes left of the map are masked off; the pointer may point before it (no inbounds GEP).
            let first = b.add(rowBase, b.extractElement(columns, 0))
            return maskedLoad(b, b.offsetPointer(f32, map, first), inside, f32.vector(width))
        }
        var vector = c.undefined(f32.vector(width))
        for lane in 0..<width {
            let laneInside = b.extractElement(inside, lane)
            let at = b.select(laneInside, b.add(rowBase, b.mul(b.extractElement(columns, lane), e.i64(kernel.columnStride))), rowBase)
            vector = b.insertElement(vector, b.select(laneInside, try e.load(.f32, map, at, count: 1), c.constant(0.0, f32)), lane)
        }
        return vector
    }
}
