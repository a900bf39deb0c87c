import CLLVM
import GraphIR

/// Emits attention's row mode (see `AttentionRowsKernel`): a task is one query row; its scores
/// are dot products (or `w·tanh(q + k)` sums) along the features of each key row, then a
/// max-subtracted softmax over the row, then the value rows summed `4 · lanes` features at a
/// time. A row whose scores are all -inf gives NaN, as the reference does.
struct AttentionRowsEmitter {
    let kernel: AttentionRowsKernel
    let lanes: Int

    var taskCount: Int { kernel.batchShape.reduce(1, *) }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let f32 = c.f32
        let batchRank = kernel.batchShape.count
        let (keys, features, valueFeatures) = (kernel.keys, kernel.features, kernel.valueFeatures)
        let (query, key, value) = (e.pointer(to: kernel.query.buffer), e.pointer(to: kernel.key.buffer), e.pointer(to: kernel.value.buffer))
        let scores = e.pointer(to: kernel.scores), output = e.pointer(to: kernel.output.buffer)
        let weight = kernel.scoreWeight.map { e.pointer(to: $0) }
        try b.forLoop(begin, end) { task, _ in
            let batchIndex = decompose(e, task, kernel.batchShape)
            func base(_ access: Access) -> IRValue {
                var at = e.i64(access.offset)
                for d in 0..<batchRank where access.strides[d] != 0 { at = b.add(at, b.mul(batchIndex[d], e.i64(access.strides[d]))) }
                return at
            }
            let (queryBase, keyBase, valueBase) = (base(kernel.query), base(kernel.key), base(kernel.value))
            let rowScores = b.mul(task, e.i64(keys))
            // Scores.
            try b.forLoop(e.i64(0), e.i64(keys)) { j, _ in
                let keyRow = b.add(keyBase, b.mul(j, e.i64(kernel.key.strides[batchRank])))
                var s = try score(e, query, queryBase, key, keyRow, weight: weight)
                s = b.fmul(s, c.constant(kernel.scale, f32))
                if let mask = kernel.mask { s = b.fadd(s, try maskValue(e, mask, batchIndex: batchIndex, key: j)) }
                if let select = kernel.select {
                    s = b.select(try maskValue(e, select.predicate, batchIndex: batchIndex, key: j),
                                 try maskValue(e, select.fill, batchIndex: batchIndex, key: j), s)
                }
                if kernel.causal { s = b.select(b.icmp(LLVMIntSGT, j, e.i64(0)), c.constant(-Double.infinity, f32), s) }
                try e.store(s, .f32, scores, b.add(rowScores, j))
                return []
            }
            // Softmax over the row (an all -inf row subtracts 0 and ends with a zero sum: NaN).
            let top = try reduceContiguous(e, scores, rowScores, count: keys, function: .amax)
            let safeTop = b.select(b.fcmp(LLVMRealOEQ, top, c.constant(-Double.infinity, f32)), c.constant(0.0, f32), top)
            let sum = try mapContiguous(e, from: scores, to: scores, rowScores, count: keys, summing: true) { x in
                VectorMath.exp(b.fsub(x, b.splat(safeTop, lanes: x.type.lanes)), b)
            }
            let inverse = b.fdiv(c.constant(1.0, f32), sum)
            try weightedSum(e, scores, rowScores, value, valueBase, output, base(kernel.output), inverse)
            if let probabilities = kernel.probabilities {
                let probabilitiesBase = base(probabilities)
                try b.forLoop(e.i64(0), e.i64(keys)) { j, _ in
                    let p = b.fmul(try e.load(.f32, scores, b.add(rowScores, j), count: 1), inverse)
                    try e.store(p, .f32, e.pointer(to: probabilities.buffer), b.add(probabilitiesBase, b.mul(j, e.i64(probabilities.strides[batchRank + 1]))))
                    return []
                }
            }
            return []
        }
    }

    /// One score: `q · k` or `Σ w · tanh(q + k)`, along the features.
    private func score(_ e: EmitContext, _ query: IRValue, _ queryBase: IRValue, _ key: IRValue, _ keyRow: IRValue,
                       weight: IRValue?) throws -> IRValue {
        let b = e.builder, c = e.context
        let batchRank = kernel.batchShape.count
        let (queryStride, keyStride) = (kernel.query.strides[batchRank + 1], kernel.key.strides[batchRank + 1])
        if queryStride == 1 && keyStride == 1 {
            guard let weight else { return try dotProduct(e, query, queryBase, key, keyRow, count: kernel.features) }
            let lanes = self.lanes
            return try dotProduct(e, query, queryBase, key, keyRow, count: kernel.features) { q, k, acc, at in
                // Weights past the last feature are masked off (the tail vector), so never read.
                let indices = b.add(b.splat(at, lanes: lanes), b.signExtend(c.constantVector((0..<lanes).map { Int32($0) }), c.i64.vector(lanes)))
                let inside = b.icmp(LLVMIntSLT, indices, c.constant(kernel.features, c.i64.vector(lanes)))
                let w = maskedLoad(b, b.elementPointer(c.f32, weight, at), inside, c.f32.vector(lanes))
                return b.multiplyAdd(w, VectorMath.tanh(b.fadd(q, k), b), acc)
            }
        }
        // Strided features: a scalar loop.
        return try b.forLoop(e.i64(0), e.i64(kernel.features), carrying: [c.constant(0.0, c.f32)]) { f, acc in
            let q = try e.load(.f32, query, b.add(queryBase, b.mul(f, e.i64(queryStride))), count: 1)
            let k = try e.load(.f32, key, b.add(keyRow, b.mul(f, e.i64(keyStride))), count: 1)
            guard let weight else { return [b.multiplyAdd(q, k, acc[0])] }
            return [b.multiplyAdd(try e.load(.f32, weight, f, count: 1), VectorMath.tanh(b.fadd(q, k), b), acc[0])]
        }[0]
    }

    /// `out[c] = inverse · Σ_j p_j · v[j, c]`, `4 · lanes` value features per pass over the keys.
    private func weightedSum(_ e: EmitContext, _ scores: IRValue, _ rowScores: IRValue, _ value: IRValue, _ valueBase: IRValue,
                             _ output: IRValue, _ outputBase: IRValue, _ inverse: IRValue) throws {
        let b = e.builder, c = e.context
        let batchRank = kernel.batchShape.count
        let (valueRowStride, valueFeatureStride) = (kernel.value.strides[batchRank], kernel.value.strides[batchRank + 1])
        let outputFeatureStride = kernel.output.strides[batchRank + 1]
        let block = 4 * lanes
        let vector = c.f32.vector(lanes)
        try b.forLoop(e.i64(0), e.i64(kernel.valueFeatures), step: block) { first, _ in
            // Vectors of this block past the last feature are masked off.
            let masks = (0..<4).map { v -> IRValue in
                let indices = b.add(b.splat(b.add(first, e.i64(v * lanes)), lanes: lanes),
                                    b.signExtend(c.constantVector((0..<lanes).map { Int32($0) }), c.i64.vector(lanes)))
                return b.icmp(LLVMIntSLT, indices, c.constant(kernel.valueFeatures, c.i64.vector(lanes)))
            }
            let zero = Array(repeating: c.constant(0.0, vector), count: 4)
            let sums = try b.forLoop(e.i64(0), e.i64(kernel.keys), carrying: zero) { j, acc in
                let p = b.splat(try e.load(.f32, scores, b.add(rowScores, j), count: 1), lanes: lanes)
                let row = b.add(valueBase, b.mul(j, e.i64(valueRowStride)))
                return try (0..<4).map { v in
                    let at = b.add(row, b.mul(b.add(first, e.i64(v * lanes)), e.i64(valueFeatureStride)))
                    let x: IRValue
                    if valueFeatureStride == 1 {
                        x = maskedLoad(b, b.elementPointer(c.f32, value, at), masks[v], vector)
                    } else {
                        var gathered = c.constant(0.0, vector)
                        for lane in 0..<lanes {
                            let feature = b.add(first, e.i64(v * lanes + lane))
                            let inside = b.icmp(LLVMIntSLT, feature, e.i64(kernel.valueFeatures))
                            let index = b.select(inside, b.add(row, b.mul(feature, e.i64(valueFeatureStride))), row)
                            gathered = b.insertElement(gathered, b.select(inside, try e.load(.f32, value, index, count: 1), c.constant(0.0, c.f32)), lane)
                        }
                        x = gathered
                    }
                    return b.multiplyAdd(p, x, acc[v])
                }
            }
            for v in 0..<4 {
                let result = b.fmul(sums[v], b.splat(inverse, lanes: lanes))
                let at = b.add(outputBase, b.mul(b.add(first, e.i64(v * lanes)), e.i64(outputFeatureStride)))
                if outputFeatureStride == 1 {
                    maskedStore(b, result, b.elementPointer(c.f32, output, at), masks[v])
                } else {
                    for lane in 0..<lanes {
                        b.ifThen(b.extractElement(masks[v], lane)) {
                            b.store(b.extractElement(result, lane), b.elementPointer(c.f32, output, b.add(at, e.i64(lane * outputFeatureStride))), alignment: 4)
                        }
                    }
                }
            }
            return []
        }
    }

    /// A mask expression (the additive mask, a select's predicate or fill) at the row's one query
    /// and key `j`.
    private func maskValue(_ e: EmitContext, _ mask: ScalarExpression, batchIndex: [IRValue], key j: IRValue) throws -> IRValue {
        let b = e.builder
        let batchRank = kernel.batchShape.count
        let expression = ExpressionEmitter(
            emit: e, lanes: 1,
            load: { access, type in
                var at = e.i64(access.offset)
                for d in 0..<batchRank where access.strides[d] != 0 { at = b.add(at, b.mul(batchIndex[d], e.i64(access.strides[d]))) }
                at = b.add(at, b.mul(j, e.i64(access.strides[batchRank + 1])))
                return try e.load(type, e.pointer(to: access.buffer), at, count: 1)
            },
            index: { dim in dim < batchRank ? batchIndex[dim] : (dim == batchRank ? e.i64(0) : j) })
        return try expression.evaluate(mask)
    }
}
