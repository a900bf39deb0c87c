import GraphIR

/// Fused attention as three pack kernels (query scaled on the way, keys as `[D][keys]` panels,
/// values as `[keys][features]` panels) and one attention kernel.
extension KernelPlanner {
    mutating func lowerAttention(_ node: Node, _ a: AttentionAttributes) {
        let (q, k, v) = (node.operands[0], node.operands[1], node.operands[2])
        let qShape = graph.type(of: q).staticShape!, kShape = graph.type(of: k).staticShape!, vShape = graph.type(of: v).staticShape!
        let outputShape = graph.type(of: node.results[0]).staticShape!
        let batch = Array(outputShape.dropLast(2))
        let (queries, features) = (qShape[qShape.count - 2], qShape[qShape.count - 1])
        let keys = kShape[kShape.count - 2]
        let valueFeatures = vShape[vShape.count - 1]
        if queries == 1 {
            lowerAttentionRows(node, a, batch: batch, keys: keys, features: features, valueFeatures: valueFeatures)
            return
        }
        // A panel of as many query rows as there are, up to the micro-kernel's rows.
        let attentionTile = MatmulTile(rows: min(tile.rows, queries), columns: tile.columns)
        // The dot score's scale multiplies q once, while packed; the additive one scales w instead.
        let query = packOperand(.left, q, rows: queries, columns: features, transposed: false, scale: a.score == .dot ? a.scale : 1,
                                tile: attentionTile)
        // Keys as the right operand [features × keys]: the key tensor read transposed.
        let key = packOperand(.right, k, rows: features, columns: keys, transposed: true, tile: attentionTile)
        let value = packOperand(.right, v, rows: keys, columns: valueFeatures, transposed: false, tile: attentionTile)
        let scoreWeight = scaledScoreWeight(node, a, features: features)
        let (mask, select) = maskExpressions(node, a, in: batch + [queries, keys])
        func batchStrides(_ shape: [Int], _ perBatch: Int) -> [Int] {
            broadcastElementStrides(Array(shape.dropLast(2)), to: batch).map { $0 * perBatch }
        }
        plan.kernels.append(.attention(AttentionKernel(
            score: a.score, causal: a.causal, batchShape: batch, queries: queries, keys: keys, features: features,
            valueFeatures: valueFeatures, tile: attentionTile,
            packedQuery: query.buffer, packedKey: key.buffer, packedValue: value.buffer,
            queryBatchStrides: batchStrides(qShape, query.perBatch), keyBatchStrides: batchStrides(kShape, key.perBatch),
            valueBatchStrides: batchStrides(vShape, value.perBatch), scoreWeight: scoreWeight, mask: mask, select: select,
            output: access(of: node.results[0]),
            probabilities: a.weights
                ? Access(buffer: buffer(of: node.results[1]), offset: 0, strides: rowMajorStrides(batch + [queries, keys])) : nil)))
    }

    /// The additive mask and the select mask (predicate and fill) as expressions over `scores`.
    private mutating func maskExpressions(_ node: Node, _ a: AttentionAttributes, in scores: [Int])
        -> (mask: ScalarExpression?, select: AttentionSelect?) {
        let operands = a.maskOperands(count: node.operands.count)
        let mask = operands.mask.map { operandExpression(node.operands[$0], in: scores) }
        guard let predicate = operands.predicate, let fill = operands.fill else { return (mask, nil) }
        return (mask, AttentionSelect(predicate: operandExpression(node.operands[predicate], in: scores),
                                      fill: operandExpression(node.operands[fill], in: scores)))
    }

    /// The additive score's weight with the scale folded in (a tiny elementwise kernel when the
    /// scale is not 1), or nil for the dot score.
    private mutating func scaledScoreWeight(_ node: Node, _ a: AttentionAttributes, features: Int) -> BufferID? {
        guard a.score == .additive else { return nil }
        let w = node.operands[3]
        if a.scale == 1 { return buffer(of: w) }
        let scaled = scratch("\(graph[w].name ?? "w").scaled", floats: features)
        plan.kernels.append(.elementwise(ElementwiseKernel(
            shape: [features], output: Access(buffer: scaled, offset: 0, strides: [1]), outputType: .f32,
            expression: .binary(.mul, .load(Access(buffer: buffer(of: w), offset: 0, strides: [1]), .f32), .constant(a.scale, .f32)))))
        return scaled
    }

    /// Row mode (see `AttentionRowsKernel`): no packing, one task per query row.
    private mutating func lowerAttentionRows(_ node: Node, _ a: AttentionAttributes, batch: [Int], keys: Int, features: Int,
                                             valueFeatures: Int) {
        let rows = batch.reduce(1, *)
        func broadcast(_ id: ValueID) -> Access {
            var access = access(of: id)
            let shape = graph.type(of: id).staticShape!
            let own = Array(shape.dropLast(2))
            let batchStrides = broadcastElementStrides(own, to: batch)
            // Keep the strides of the operand's own batch dims where they are not broadcast.
            let offset = batch.count - own.count
            access.strides = batch.indices.map { i in batchStrides[i] == 0 ? 0 : access.strides[i - offset] } + access.strides.suffix(2)
            return access
        }
        let scoreWeight = a.score == .additive ? buffer(of: node.operands[3]) : nil
        let (mask, select) = maskExpressions(node, a, in: batch + [1, keys])
        plan.kernels.append(.attentionRows(AttentionRowsKernel(
            score: a.score, scale: a.scale, causal: a.causal, batchShape: batch, queries: 1, keys: keys, features: features,
            valueFeatures: valueFeatures, query: broadcast(node.operands[0]), key: broadcast(node.operands[1]), value: broadcast(node.operands[2]),
            scoreWeight: scoreWeight,
            mask: mask, select: select,
            output: access(of: node.results[0]),
            probabilities: a.weights ? Access(buffer: buffer(of: node.results[1]), offset: 0, strides: rowMajorStrides(batch + [1, keys])) : nil,
            scores: scratch("\(graph[node.results[0]].name ?? "attention").scores", floats: rows * keys))))
    }
}
