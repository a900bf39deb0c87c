import GraphIR

/// The opset-23 `Attention` op (with the opset-24 `nonpad_kv_seqlen` input and the opset-25
/// sliding window), spelled out in the ops a hand-written attention uses, so that attention
/// fusion sees the same pattern as in any other export:
///
///     scores = matmul(Q, K, transpose_b=true) · scale   (softcap: c · tanh(scores / c))
///     probs  = softmax(scores + bias)                    (bias: mask, causal, window, padding)
///     Y      = matmul(probs, V)
///
/// 3-D inputs `[B, S, heads·D]` are split into heads and merged back; fewer key/value heads than
/// query heads (grouped-query attention) repeat each key/value head. A query row whose bias is
/// -inf everywhere gets zero probabilities, as ONNX specifies. The optional outputs are the
/// present key and value (past concatenated with the new ones) and the scores as selected by
/// `qk_matmul_output_mode` (0 and 1: after softcap, 2: with the bias, 3: the probabilities).
let attentionConverters: [String: NodeConverter] = [
    "Attention": convertAttention,
]

private func convertAttention(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let isCausal = try c.attributes.int("is_causal", default: 0) != 0
    let scaleAttribute = try c.attributes.float("scale")
    let softcap = try c.attributes.float("softcap", default: 0)
    let outputMode = try c.attributes.int("qk_matmul_output_mode", default: 0)
    let qHeads = try c.attributes.int("q_num_heads"), kvHeads = try c.attributes.int("kv_num_heads")
    let leftWindow = try c.attributes.int("left_window_size", default: -1)
    let rightWindow = try c.attributes.int("right_window_size", default: -1)
    // The interpreter computes the softmax in double whatever precision is asked for.
    c.attributes.ignore("softmax_precision")
    guard (0...3).contains(outputMode) else { throw ImportProblem("qk_matmul_output_mode=\(outputMode) is not supported; attnc supports 0 to 3") }

    var q = try c.value(0), k = try c.value(1), v = try c.value(2)
    let rank = c.type(of: q).rank
    guard rank == 3 || rank == 4, c.type(of: k).rank == rank, c.type(of: v).rank == rank else {
        throw ImportProblem("needs Q, K and V all of rank 3 or all of rank 4, got \(c.type(of: q)), \(c.type(of: k)), \(c.type(of: v))")
    }
    let elementType = c.type(of: q).elementType
    if rank == 3 {
        guard let qHeads, let kvHeads else { throw ImportProblem("3-D inputs need the attributes q_num_heads and kv_num_heads") }
        q = try splitHeads(c, q, heads: qHeads)
        k = try splitHeads(c, k, heads: kvHeads)
        v = try splitHeads(c, v, heads: kvHeads)
    }
    let pastLength: Int
    if let pastKey = try c.optionalValue(4), let pastValue = try c.optionalValue(5) {
        guard c.type(of: pastKey).rank == 4, c.type(of: pastValue).rank == 4 else {
            throw ImportProblem("needs past_key and past_value of rank 4 ([batch, kv heads, past length, head size]), got \(c.type(of: pastKey)) and \(c.type(of: pastValue))")
        }
        pastLength = try c.staticShape(of: pastKey)[2]
        k = try c.emit(.concat(axis: 2), [pastKey, k])
        v = try c.emit(.concat(axis: 2), [pastValue, v])
    } else {
        guard !c.has(4) && !c.has(5) else { throw ImportProblem("past_key and past_value must be given together") }
        pastLength = 0
    }
    let (presentKey, presentValue) = (k, v)
    let qShape = try c.staticShape(of: q), kShape = try c.staticShape(of: k)
    let (batch, queryHeads, queryLength, headSize) = (qShape[0], qShape[1], qShape[2], qShape[3])
    let (keyHeads, totalLength) = (kShape[1], kShape[2])
    if queryHeads != keyHeads {
        guard keyHeads > 0, queryHeads % keyHeads == 0 else {
            throw ImportProblem("\(queryHeads) query heads cannot share \(keyHeads) key/value heads")
        }
        k = try repeatHeads(c, k, times: queryHeads / keyHeads)
        v = try repeatHeads(c, v, times: queryHeads / keyHeads)
    }

    let scale = scaleAttribute ?? 1 / Double(headSize).squareRoot()
    var scores = try c.emit(.binary(.mul), [try c.emit(.matmul(transposeA: false, transposeB: true), [q, k]), c.scalar(scale, elementType)])
    if softcap > 0 {
        let squashed = try c.emit(.unary(.tanh), [try c.emit(.binary(.div), [scores, c.scalar(softcap, elementType)])])
        scores = try c.emit(.binary(.mul), [squashed, c.scalar(softcap, elementType)])
    }
    let rawScores = scores

    let geometry = MaskGeometry(batch: batch, queryLength: queryLength, totalLength: totalLength, pastLength: pastLength,
                                isCausal: isCausal, leftWindow: leftWindow, rightWindow: rightWindow)
    let bias = try attentionBias(c, geometry, elementType: elementType)
    if let bias { scores = try c.emit(.binary(.add), [scores, bias]) }
    var probabilities = try c.emit(.softmax(axis: -1), [scores])
    if let bias {
        let rowMaximum = try c.emit(.reduce(.amax, axes: [-1], keepDims: true), [bias])
        let fullyMasked = try c.emit(.binary(.eq), [rowMaximum, c.scalar(-.infinity, elementType)])
        probabilities = try c.emit(.select, [fullyMasked, c.scalar(0, elementType), probabilities])
    }
    var y = try c.emit(.matmul(transposeA: false, transposeB: false), [probabilities, v])
    if rank == 3 {
        y = try c.transpose(y, [0, 2, 1, 3])
        y = try c.reshape(y, [batch, queryLength, queryHeads * (try c.staticShape(of: v)[3])])
    }
    var outputs: [ImportValue] = [.runtime(y), .runtime(presentKey), .runtime(presentValue)]
    if c.wantsOutput(3) {
        outputs.append(.runtime(outputMode == 3 ? probabilities : outputMode == 2 ? scores : rawScores))
    }
    return outputs
}

/// `[B, S, heads·D]` → `[B, heads, S, D]`.
private func splitHeads(_ c: NodeContext, _ x: ValueID, heads: Int) throws(ImportProblem) -> ValueID {
    let shape = try c.staticShape(of: x)
    guard heads > 0, shape[2] % heads == 0 else { throw ImportProblem("hidden size \(shape[2]) does not split into \(heads) heads") }
    return try c.transpose(try c.reshape(x, [shape[0], shape[1], heads, shape[2] / heads]), [0, 2, 1, 3])
}

/// Repeats each head `times` times in place: `[B, H, T, D]` → `[B, H·times, T, D]`.
private func repeatHeads(_ c: NodeContext, _ x: ValueID, times: Int) throws(ImportProblem) -> ValueID {
    let s = try c.staticShape(of: x)
    let expanded = try c.emit(.broadcast(shape: [s[0], s[1], times, s[2], s[3]].map(Dim.known)), [try c.emit(.unsqueeze(axes: [2]), [x])])
    return try c.reshape(expanded, [s[0], s[1] * times, s[2], s[3]])
}

private struct MaskGeometry {
    var batch, queryLength, totalLength, pastLength: Int
    var isCausal: Bool
    var leftWindow, rightWindow: Int
}

/// The additive bias (0 where a key is attended, -inf where not, or the float mask's values),
/// or nil when nothing is masked.
private func attentionBias(_ c: NodeContext, _ g: MaskGeometry, elementType: ElementType) throws(ImportProblem) -> ValueID? {
    var bias: ValueID?
    if var mask = try c.optionalValue(3) {
        let isBoolean = c.type(of: mask).elementType == .i1
        // A mask shorter than the keys is padded: the keys past its end are not attended.
        var shape = try c.staticShape(of: mask)
        if let last = shape.last, last < g.totalLength {
            shape[shape.count - 1] = g.totalLength - last
            let filler = try c.filled(isBoolean ? 0 : -.infinity, isBoolean ? .i1 : elementType, shape: shape)
            mask = try c.emit(.concat(axis: -1), [mask, filler])
        }
        bias = isBoolean ? try c.emit(.select, [mask, c.scalar(0, elementType), c.scalar(-.infinity, elementType)]) : mask
    }
    let grid = TensorType(.i64, dims: [g.queryLength, g.totalLength])
    var allowed: ValueID?
    func allow(_ condition: ValueID) throws(ImportProblem) {
        allowed = try allowed.map { a throws(ImportProblem) in try c.emit(.binary(.and), [a, condition]) } ?? condition
    }
    let nonpad = try c.optionalValue(6)
    if g.isCausal || g.leftWindow >= 0 || g.rightWindow >= 0 || nonpad != nil {
        let row = try c.emit(.iota(axis: 0), [], declared: grid)
        let column = try c.emit(.iota(axis: 1), [], declared: grid)
        // How far key j lies behind query i's position: i + offset - j, where the offset is the
        // number of keys before this block of queries (the past, or per batch nonpad - S).
        var lag = try c.emit(.binary(.sub), [row, column])
        if let nonpad {
            guard c.has(4) == false else { throw ImportProblem("nonpad_kv_seqlen cannot be combined with past_key and past_value") }
            let lengths = try c.reshape(try c.cast(nonpad, to: .i64), [g.batch, 1, 1, 1])
            let offset = try c.emit(.binary(.sub), [lengths, c.scalar(Double(g.queryLength), .i64)])
            lag = try c.emit(.binary(.add), [lag, offset])
            try allow(try c.emit(.binary(.lt), [column, lengths]))
        } else if g.pastLength > 0 {
            lag = try c.emit(.binary(.add), [lag, c.scalar(Double(g.pastLength), .i64)])
        }
        if g.isCausal { try allow(try c.emit(.binary(.ge), [lag, c.scalar(0, .i64)])) }
        if g.leftWindow >= 0 { try allow(try c.emit(.binary(.le), [lag, c.scalar(Double(g.leftWindow), .i64)])) }
        if g.rightWindow >= 0 { try allow(try c.emit(.binary(.ge), [lag, c.scalar(Double(-g.rightWindow), .i64)])) }
    }
    if let allowed {
        let structural = try c.emit(.select, [allowed, c.scalar(0, elementType), c.scalar(-.infinity, elementType)])
        bias = try bias.map { b throws(ImportProblem) in try c.emit(.binary(.add), [b, structural]) } ?? structural
    }
    return bias
}
