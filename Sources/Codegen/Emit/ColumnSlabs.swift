import CLLVM

/// Column reductions over `[reduced, inner]` blocks, a slab of columns at a time.
///
/// A slab is `slabVectors` vectors of contiguous columns. Walking down the reduced dim, each
/// step reads whole cache lines of one row (not one line of many rows, which the prefetchers
/// follow badly) and updates one independent accumulator per vector, so the adds do not wait
/// on one another. Slabs also give threads work when there are few outer indices.
struct ColumnSlabs {
    let inner: Int
    let lanes: Int
    let slabVectors = 4

    var width: Int { slabVectors * lanes }
    var count: Int { (inner + width - 1) / width }

    /// Emits `body(firstColumn, columns)` for slab `slab` (a run-time index below `count`):
    /// `columns` is known at compile time, `width` for every slab but a partial last one.
    func forSlab(_ e: EmitContext, _ slab: IRValue, _ body: (IRValue, Int) throws -> Void) throws {
        let b = e.builder
        let firstColumn = b.mul(slab, e.i64(width))
        let fullSlabs = inner / width, remaining = inner - fullSlabs * width
        guard remaining > 0 else { return try body(firstColumn, width) }
        guard fullSlabs > 0 else { return try body(firstColumn, remaining) }
        let fullPath = b.block("slab.full"), partialPath = b.block("slab.partial"), done = b.block("slab.done")
        b.branch(if: b.icmp(LLVMIntSLT, slab, e.i64(fullSlabs)), then: fullPath, else: partialPath)
        b.position(at: fullPath)
        try body(firstColumn, width)
        b.branch(to: done)
        b.position(at: partialPath)
        try body(firstColumn, remaining)
        b.branch(to: done)
        b.position(at: done)
    }

    /// Accumulates `columns` contiguous floats per row, from `rowBase`, down `reduced` rows of
    /// `rowStride` floats: one accumulator per vector and per group, each starting at
    /// `initial[group]`. `step(row, x, accumulator, group)` folds the vector `x` in; lanes past
    /// `columns` read nothing and hold `initial[group]`. Returns the accumulators `[group][vector]`.
    func accumulate(_ e: EmitContext, _ input: IRValue, rowBase: IRValue, rowStride: Int, reduced: Int, columns: Int,
                    initial: [IRValue], step: (IRValue, IRValue, IRValue, Int) throws -> IRValue) throws -> [[IRValue]] {
        let b = e.builder, c = e.context
        let vectors = (columns + lanes - 1) / lanes
        let tailLanes = columns - (vectors - 1) * lanes
        let tailMask = tailLanes < lanes ? leadingLanes(c, tailLanes, of: lanes) : nil
        let groups = initial.count
        let start = initial.flatMap { Array(repeating: $0, count: vectors) }
        let totals = try b.forLoop(e.i64(0), e.i64(reduced), carrying: start) { r, acc in
            var next = acc
            let row = b.add(rowBase, b.mul(r, e.i64(rowStride)))
            for v in 0..<vectors {
                let at = b.elementPointer(c.f32, input, b.add(row, e.i64(v * lanes)))
                let mask = v == vectors - 1 ? tailMask : nil
                let x = mask.map { maskedLoad(b, at, $0, c.f32.vector(lanes)) } ?? b.load(c.f32.vector(lanes), at, alignment: 4)
                for g in 0..<groups {
                    let value = mask.map { b.select($0, x, initial[g]) } ?? x
                    next[g * vectors + v] = try step(r, value, acc[g * vectors + v], g)
                }
            }
            return next
        }
        return (0..<groups).map { g in Array(totals[(g * vectors)..<((g + 1) * vectors)]) }
    }

    /// Stores accumulators (one group's) to `columns` contiguous floats at `output[base...]`.
    func store(_ e: EmitContext, _ vectors: [IRValue], _ output: IRValue, base: IRValue, columns: Int) {
        let b = e.builder, c = e.context
        for (v, value) in vectors.enumerated() {
            let at = b.elementPointer(c.f32, output, b.add(base, e.i64(v * lanes)))
            let valid = min(lanes, columns - v * lanes)
            if valid == lanes {
                b.store(value, at, alignment: 4)
            } else {
                maskedStore(b, value, at, leadingLanes(c, valid, of: lanes))
            }
        }
    }
}
