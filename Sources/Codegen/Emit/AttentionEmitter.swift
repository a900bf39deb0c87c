import CLLVM
import GraphIR

/// Emits the online-softmax attention kernel (see `AttentionKernel`). A task is one panel of
/// query rows of one batch element; it walks the key panels keeping, per row, the running max
/// `m`, the running sum `l` and the unnormalised output `O` (in a stack buffer):
///
/// ```
/// for each key panel:            S = q·kᵀ (or w·tanh(q + k)) in registers, + mask, select, causal -inf
///     m' = max(m, rowmax S);  α = exp(m - m');  P = exp(S - m')
///     l = α·l + rowsum P;     O = α·O + P·v
/// out = O / l
/// ```
/// With `causal`, key panels entirely after the panel's last query are never visited, and tasks
/// are ordered first, last, second, second to last… so contiguous halves of the task range do
/// equal work. A row whose scores are all -inf ends with l = 0 and gives NaN, as the reference.
struct AttentionEmitter {
    let kernel: AttentionKernel
    let lanes: Int

    private var rows: Int { kernel.tile.rows }
    private var columns: Int { kernel.tile.columns }
    private var vectorsPerRow: Int { columns / lanes }
    private var queryPanels: Int { (kernel.queries + rows - 1) / rows }
    private var keyPanels: Int { (kernel.keys + columns - 1) / columns }
    private var valuePanels: Int { (kernel.valueFeatures + columns - 1) / columns }

    var taskCount: Int { kernel.batchShape.reduce(1, *) * queryPanels }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let f32 = c.f32, vector = c.f32.vector(lanes)
        let query = e.pointer(to: kernel.packedQuery), key = e.pointer(to: kernel.packedKey), value = e.pointer(to: kernel.packedValue)
        let output = e.pointer(to: kernel.output.buffer)
        let weight = kernel.scoreWeight.map { e.pointer(to: $0) }
        let probabilities = kernel.probabilities.map { (access: $0, pointer: e.pointer(to: $0.buffer)) }
        let batchRank = kernel.batchShape.count
        let paddedValueFeatures = valuePanels * columns
        let accumulator = b.stackSlot(c.array(f32, count: rows * paddedValueFeatures), alignment: 64)
        let probabilityTile = b.stackSlot(c.array(f32, count: rows * columns), alignment: 64)
        let negativeInfinity = c.constant(-Double.infinity, f32)
        let laneIndex = b.signExtend(c.constantVector((0..<lanes).map { Int32($0) }), c.i64.vector(lanes))

        try b.forLoop(begin, end) { task, _ in
            let batch = b.sdiv(task, e.i64(queryPanels))
            var panel = b.srem(task, e.i64(queryPanels))
            if kernel.causal {
                // Zigzag: 0, P-1, 1, P-2, … so early (cheap) and late (costly) panels alternate.
                let half = b.sdiv(panel, e.i64(2))
                let odd = b.icmp(LLVMIntEQ, b.srem(panel, e.i64(2)), e.i64(1))
                panel = b.select(odd, b.sub(e.i64(queryPanels - 1), half), half)
            }
            let batchIndex = decompose(e, batch, kernel.batchShape)
            func batchOffset(_ strides: [Int]) -> IRValue {
                var offset = e.i64(0)
                for (index, stride) in zip(batchIndex, strides) where stride != 0 { offset = b.add(offset, b.mul(index, e.i64(stride))) }
                return offset
            }
            let firstRow = b.mul(panel, e.i64(rows))
            let validRows = e.minimum(e.i64(rows), b.sub(e.i64(kernel.queries), firstRow))
            let queryPanel = b.add(batchOffset(kernel.queryBatchStrides), b.mul(panel, e.i64(rows * kernel.features)))
            let keyBase = batchOffset(kernel.keyBatchStrides), valueBase = batchOffset(kernel.valueBatchStrides)

            b.forLoop(e.i64(0), e.i64(rows * paddedValueFeatures), step: lanes) { i, _ in
                b.store(c.constant(0.0, vector), b.elementPointer(f32, accumulator, i), alignment: 4)
                return []
            }
            let panelCount: IRValue
            if kernel.causal {
                // Keys past the panel's last query row are masked for every row: skip their panels.
                let reach = b.add(firstRow, validRows)
                panelCount = e.minimum(e.i64(keyPanels), b.sdiv(b.add(reach, e.i64(columns - 1)), e.i64(columns)))
            } else {
                panelCount = e.i64(keyPanels)
            }
            let initial = Array(repeating: negativeInfinity, count: rows) + Array(repeating: c.constant(0.0, vector), count: rows)
            let state = try b.forLoop(e.i64(0), panelCount, carrying: initial) { keyPanel, carried in
                let (maxima, sums) = (Array(carried[..<rows]), Array(carried[rows...]))
                let firstKey = b.mul(keyPanel, e.i64(columns))
                let keyPanelBase = b.add(keyBase, b.mul(keyPanel, e.i64(columns * kernel.features)))
                var scores = try scoreTile(e, query: query, queryPanel: queryPanel, key: key, keyPanel: keyPanelBase, weight: weight)
                // Mask, causality and keys past the end, lane by lane.
                let keyIndices = (0..<vectorsPerRow).map { v in b.add(b.splat(b.add(firstKey, e.i64(v * lanes)), lanes: lanes), laneIndex) }
                let keyValid = keyIndices.map { b.icmp(LLVMIntSLT, $0, b.splat(e.i64(kernel.keys), lanes: lanes)) }
                for r in 0..<rows {
                    let row = b.add(firstRow, e.i64(r))
                    // The rows of the last panel past the last query are computed and dropped;
                    // their masks are read at the last query, since past it lies memory the mask
                    // does not own.
                    let maskRow = r == 0 ? row : e.minimum(row, e.i64(kernel.queries - 1))
                    for v in 0..<vectorsPerRow {
                        var s = scores[r][v]
                        if let mask = kernel.mask {
                            s = b.fadd(s, try maskValues(e, mask, batchIndex: batchIndex, row: maskRow, keys: keyIndices[v], valid: keyValid[v]))
                        }
                        if let select = kernel.select {
                            // Replaced, not added to: a NaN or +inf score under the predicate is gone.
                            let predicate = try maskValues(e, select.predicate, batchIndex: batchIndex, row: maskRow, keys: keyIndices[v], valid: keyValid[v])
                            let fill = try maskValues(e, select.fill, batchIndex: batchIndex, row: maskRow, keys: keyIndices[v], valid: keyValid[v])
                            s = b.select(predicate, fill, s)
                        }
                        // Keys past the end (only when the last panel is partial) and, with causal,
                        // keys after the query are -inf.
                        var masked: IRValue? = kernel.keys % columns == 0 ? nil : b.xor(keyValid[v], c.constant(1, c.i1.vector(lanes)))
                        if kernel.causal {
                            let future = b.icmp(LLVMIntSGT, keyIndices[v], b.splat(row, lanes: lanes))
                            masked = masked.map { b.or($0, future) } ?? future
                        }
                        if let masked { s = b.select(masked, c.constant(-Double.infinity, vector), s) }
                        scores[r][v] = s
                        if let probabilities {
                            // Raw scores now; normalised once the row's final max and sum are known.
                            b.ifThen(b.icmp(LLVMIntSLT, e.i64(r), validRows)) {
                                let at = probabilityOffset(e, probabilities.access, batchIndex: batchIndex, row: row, firstKey: b.add(firstKey, e.i64(v * lanes)))
                                maskedStore(b, s, b.elementPointer(f32, probabilities.pointer, at), keyValid[v])
                            }
                        }
                    }
                }
                // Per row: the new running max, the rescale factor α of what came before, and
                // P = exp(S - max) into the probability tile; the running sums stay vectors
                // (reduced once, at the end).
                var newMaxima: [IRValue] = [], safeMaxima: [IRValue] = [], newSums: [IRValue] = []
                for r in 0..<rows {
                    let tileMax = e.reduceLanes(scores[r].dropFirst().reduce(scores[r][0]) { runningMax(b, $0, $1) }) { runningMax(b, $0, $1) }
                    let newMax = runningMax(b, maxima[r], tileMax)
                    // While every score so far is -inf, subtract 0 instead (exp(-inf - -inf) would be NaN).
                    newMaxima.append(newMax)
                    safeMaxima.append(b.select(b.fcmp(LLVMRealOEQ, newMax, negativeInfinity), c.constant(0.0, f32), newMax))
                }
                let scales = rowScales(e, from: maxima, to: safeMaxima)
                for r in 0..<rows {
                    var rowSum = c.constant(0.0, vector)
                    for v in 0..<vectorsPerRow {
                        let p = VectorMath.exp(b.fsub(scores[r][v], b.splat(safeMaxima[r], lanes: lanes)), b)
                        rowSum = b.fadd(rowSum, p)
                        b.store(p, b.elementPointer(f32, probabilityTile, e.i64(r * columns + v * lanes)), alignment: 4)
                    }
                    newSums.append(b.multiplyAdd(sums[r], b.splat(scales[r], lanes: lanes), rowSum))
                }
                // O = α·O + P·v, one panel of value features at a time.
                let keysHere = e.minimum(e.i64(columns), b.sub(e.i64(kernel.keys), firstKey))
                for valuePanel in 0..<valuePanels {
                    let panelBase = b.add(valueBase, b.add(e.i64(valuePanel * columns * kernel.keys), b.mul(firstKey, e.i64(columns))))
                    let zero = Array(repeating: c.constant(0.0, vector), count: rows * vectorsPerRow)
                    let products = b.forLoop(e.i64(0), keysHere, carrying: zero) { j, acc in
                        let valueRow = b.add(panelBase, b.mul(j, e.i64(columns)))
                        let values = (0..<vectorsPerRow).map { v in
                            b.load(vector, b.elementPointer(f32, value, b.add(valueRow, e.i64(v * lanes))), alignment: 4)
                        }
                        var next = acc
                        for r in 0..<rows {
                            let p = b.splat(b.load(f32, b.elementPointer(f32, probabilityTile, b.add(e.i64(r * columns), j)), alignment: 4), lanes: lanes)
                            for v in 0..<vectorsPerRow { next[r * vectorsPerRow + v] = b.multiplyAdd(p, values[v], acc[r * vectorsPerRow + v]) }
                        }
                        return next
                    }
                    for r in 0..<rows {
                        for v in 0..<vectorsPerRow {
                            let at = b.elementPointer(f32, accumulator, e.i64(r * paddedValueFeatures + valuePanel * columns + v * lanes))
                            let old = b.load(vector, at, alignment: 4)
                            b.store(b.multiplyAdd(old, b.splat(scales[r], lanes: lanes), products[r * vectorsPerRow + v]), at, alignment: 4)
                        }
                    }
                }
                return newMaxima + newSums
            }
            try writeRows(e, output: output, accumulator: accumulator, paddedValueFeatures: paddedValueFeatures,
                          batchIndex: batchIndex, firstRow: firstRow, validRows: validRows,
                          maxima: Array(state[..<rows]), sums: state[rows...].map { e.reduceLanes($0) { b.fadd($0, $1) } },
                          probabilities: probabilities)
            return []
        }
    }

    /// `a` if it is greater, else `b`: one `vmaxps`, where `llvm.maximum` costs several
    /// instructions to order NaN. A NaN score needs no ordering here: whichever max it leaves,
    /// its own probability exp(NaN - max) is NaN, and so is its row's result.
    private func runningMax(_ b: IRBuilder, _ x: IRValue, _ y: IRValue) -> IRValue {
        b.select(b.fcmp(LLVMRealOGT, x, y), x, y)
    }

    /// α_r = exp(old_r - new_r) for every row, `lanes` rows per vector exp instead of one scalar
    /// exp each.
    private func rowScales(_ e: EmitContext, from old: [IRValue], to new: [IRValue]) -> [IRValue] {
        let b = e.builder, c = e.context
        var scales: [IRValue] = []
        for first in stride(from: 0, to: rows, by: lanes) {
            var differences = c.constant(0.0, c.f32.vector(lanes))
            for r in first..<min(rows, first + lanes) { differences = b.insertElement(differences, b.fsub(old[r], new[r]), r - first) }
            let exponentials = VectorMath.exp(differences, b)
            for r in first..<min(rows, first + lanes) { scales.append(b.extractElement(exponentials, r - first)) }
        }
        return scales
    }

    /// The scores of one query panel against one key panel, `rows × vectorsPerRow` vectors.
    private func scoreTile(_ e: EmitContext, query: IRValue, queryPanel: IRValue, key: IRValue, keyPanel: IRValue,
                           weight: IRValue?) throws -> [[IRValue]] {
        let b = e.builder, c = e.context
        let f32 = c.f32, vector = c.f32.vector(lanes)
        let zero = Array(repeating: c.constant(0.0, vector), count: rows * vectorsPerRow)
        let flat = b.forLoop(e.i64(0), e.i64(kernel.features), carrying: zero) { f, acc in
            let keyRow = b.add(keyPanel, b.mul(f, e.i64(columns)))
            let keys = (0..<vectorsPerRow).map { v in b.load(vector, b.elementPointer(f32, key, b.add(keyRow, e.i64(v * lanes))), alignment: 4) }
            let queryRow = b.add(queryPanel, b.mul(f, e.i64(rows)))
            let w = weight.map { b.splat(b.load(f32, b.elementPointer(f32, $0, f), alignment: 4), lanes: lanes) }
            var next = acc
            for r in 0..<rows {
                let q = b.splat(b.load(f32, b.elementPointer(f32, query, b.add(queryRow, e.i64(r))), alignment: 4), lanes: lanes)
                for v in 0..<vectorsPerRow {
                    let i = r * vectorsPerRow + v
                    switch kernel.score {
                    case .dot: next[i] = b.multiplyAdd(q, keys[v], acc[i])
                    case .additive: next[i] = b.multiplyAdd(w!, VectorMath.tanh(b.fadd(q, keys[v]), b), acc[i])
                    }
                }
            }
            return next
        }
        return (0..<rows).map { r in Array(flat[(r * vectorsPerRow)..<((r + 1) * vectorsPerRow)]) }
    }

    /// A mask expression (the additive mask, a select's predicate or fill) at one query row and a
    /// vector of keys (masked lanes read nothing).
    private func maskValues(_ e: EmitContext, _ mask: ScalarExpression, batchIndex: [IRValue], row: IRValue, keys: IRValue,
                            valid: IRValue) throws -> IRValue {
        let b = e.builder
        let batchRank = kernel.batchShape.count
        let expression = ExpressionEmitter(
            emit: e, lanes: lanes,
            load: { access, type in
                var base = e.i64(access.offset)
                for d in 0..<batchRank where access.strides[d] != 0 { base = b.add(base, b.mul(batchIndex[d], e.i64(access.strides[d]))) }
                base = b.add(base, b.mul(row, e.i64(access.strides[batchRank])))
                let keyStride = access.strides[batchRank + 1]
                let pointer = e.pointer(to: access.buffer)
                if keyStride == 0 { return b.splat(try e.load(type, pointer, base, count: 1), lanes: lanes) }
                if keyStride == 1 && type == .f32 {
                    // Contiguous keys: one masked vector load (lanes past the last key read nothing).
                    let first = b.add(base, b.extractElement(keys, 0))
                    return maskedLoad(b, b.offsetPointer(e.context.f32, pointer, first), valid, e.context.f32.vector(lanes))
                }
                // Lanes past the last key read key 0 of the row instead (always in bounds).
                let clampedKeys = b.select(valid, keys, e.context.constant(0, e.context.i64.vector(lanes)))
                var vector = e.context.undefined(try e.registerType(type).vector(lanes))
                for lane in 0..<lanes {
                    let at = b.add(base, b.mul(b.extractElement(clampedKeys, lane), e.i64(keyStride)))
                    vector = b.insertElement(vector, try e.load(type, pointer, at, count: 1), lane)
                }
                return vector
            },
            index: { dim in
                if dim < batchRank { return b.splat(batchIndex[dim], lanes: lanes) }
                return dim == batchRank ? b.splat(row, lanes: lanes) : keys
            })
        return try expression.evaluate(mask)
    }

    private func probabilityOffset(_ e: EmitContext, _ access: Access, batchIndex: [IRValue], row: IRValue, firstKey: IRValue) -> IRValue {
        let b = e.builder
        var at = e.i64(access.offset)
        for (index, stride) in zip(batchIndex, access.strides) where stride != 0 { at = b.add(at, b.mul(index, e.i64(stride))) }
        at = b.add(at, b.mul(row, e.i64(access.strides[kernel.batchShape.count])))
        return b.add(at, firstKey)
    }

    /// `out = O / l` for the panel's valid rows, and the probabilities normalised in place.
    private func writeRows(_ e: EmitContext, output: IRValue, accumulator: IRValue, paddedValueFeatures: Int, batchIndex: [IRValue],
                           firstRow: IRValue, validRows: IRValue, maxima: [IRValue], sums: [IRValue],
                           probabilities: (access: Access, pointer: IRValue)?) throws {
        let b = e.builder, c = e.context
        let f32 = c.f32
        let batchRank = kernel.batchShape.count
        let strides = kernel.output.strides
        for r in 0..<rows {
            b.ifThen(b.icmp(LLVMIntSLT, e.i64(r), validRows)) {
                let row = b.add(firstRow, e.i64(r))
                let inverse = b.fdiv(c.constant(1.0, f32), sums[r])
                var base = e.i64(kernel.output.offset)
                for d in 0..<batchRank where strides[d] != 0 { base = b.add(base, b.mul(batchIndex[d], e.i64(strides[d]))) }
                base = b.add(base, b.mul(row, e.i64(strides[batchRank])))
                let featureStride = strides[batchRank + 1]
                b.forLoop(e.i64(0), e.i64(kernel.valueFeatures)) { f, _ in
                    let o = b.load(f32, b.elementPointer(f32, accumulator, b.add(e.i64(r * paddedValueFeatures), f)), alignment: 4)
                    b.store(b.fmul(o, inverse), b.elementPointer(f32, output, b.add(base, b.mul(f, e.i64(featureStride)))), alignment: 4)
                    return []
                }
                if let probabilities {
                    let safeMax = b.select(b.fcmp(LLVMRealOEQ, maxima[r], c.constant(-Double.infinity, f32)), c.constant(0.0, f32), maxima[r])
                    let start = probabilityOffset(e, probabilities.access, batchIndex: batchIndex, row: row, firstKey: e.i64(0))
                    b.forLoop(e.i64(0), e.i64(kernel.keys)) { j, _ in
                        let at = b.elementPointer(f32, probabilities.pointer, b.add(start, j))
                        let p = VectorMath.exp(b.fsub(b.load(f32, at, alignment: 4), safeMax), b)
                        var normalized = b.fmul(p, inverse)
                        if kernel.causal {
                            // Causal tasks skip the key panels past their last query, so no raw score
                            // was stored there: a key after the query gets exp(-inf)/l = 0·(1/l)
                            // whatever the memory holds (NaN when the whole row is masked, as in
                            // the reference).
                            let future = b.icmp(LLVMIntSGT, j, row)
                            normalized = b.select(future, b.fmul(c.constant(0.0, f32), inverse), normalized)
                        }
                        b.store(normalized, at, alignment: 4)
                        return []
                    }
                }
            }
        }
    }
}
