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
        // A panel of as many query rows as there are, up to the micro-kernel's rows.
        let attentionTile = MatmulTile(rows: min(tile.rows, queries), columns: tile.columns)
        // The dot score's scale multiplies q once, while packed; the additive one scales w instead.
        let query = packOperand(.left, q, rows: queries, columns: features, transposed: false, scale: a.score == .dot ? a.scale : 1,
                                tile: attentionTile)
        // Keys as the right operand [features × keys]: the key tensor read transposed.
        let key = packOperand(.right, k, rows: features, columns: keys, transposed: true, tile: attentionTile)
        let value = packOperand(.right, v, rows: keys, columns: valueFeatures, transposed: false, tile: attentionTile)
        var scoreWeight: BufferID?
        if a.score == .additive {
            let w = node.operands[3]
            if a.scale == 1 {
                scoreWeight = buffer(of: w)
            } else {
                let scaled = scratch("\(graph[w].name ?? "w").scaled", floats: features)
                plan.kernels.append(.elementwise(ElementwiseKernel(
                    shape: [features], output: Access(buffer: scaled, offset: 0, strides: [1]), outputType: .f32,
                    expression: .binary(.mul, .load(Access(buffer: buffer(of: w), offset: 0, strides: [1]), .f32), .constant(a.scale, .f32)))))
                scoreWeight = scaled
            }
        }
        let mask = node.operands.count > a.fixedOperandCount
            ? operandExpression(node.operands[a.fixedOperandCount], in: batch + [queries, keys]) : nil
        func batchStrides(_ shape: [Int], _ perBatch: Int) -> [Int] {
            broadcastElementStrides(Array(shape.dropLast(2)), to: batch).map { $0 * perBatch }
        }
        plan.kernels.append(.attention(AttentionKernel(
            score: a.score, causal: a.causal, batchShape: batch, queries: queries, keys: keys, features: features,
            valueFeatures: valueFeatures, tile: attentionTile,
            packedQuery: query.buffer, packedKey: key.buffer, packedValue: value.buffer,
            queryBatchStrides: batchStrides(qShape, query.perBatch), keyBatchStrides: batchStrides(kShape, key.perBatch),
            valueBatchStrides: batchStrides(vShape, value.perBatch), scoreWeight: scoreWeight, mask: mask,
            output: access(of: node.results[0]),
            probabilities: a.weights
                ? Access(buffer: buffer(of: node.results[1]), offset: 0, strides: rowMajorStrides(batch + [queries, keys])) : nil)))
    }
}
