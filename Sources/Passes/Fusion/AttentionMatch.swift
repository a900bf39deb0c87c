import GraphIR

/// What `matchAttention` finds around a softmax: everything needed to replace the chain by one
/// `attention` op. Values are the old graph's; roles say what each dim means.
struct AttentionMatch {
    /// One addend of a query or key operand: a value, or a slice of a projection of a concat part
    /// (Luong concat: `W [h; s] = W_h h + W_s s`).
    enum Term {
        case value(RoledValue)
        /// `part · weight[rows]` (matmul weight `[in, out]`) or `part · weight[:, columns]ᵀ` (linear).
        case projected(part: RoledValue, weight: ValueID, range: Range<Int>, linear: Bool, roles: [DimRole])
    }

    var softmax: NodeID
    var weightedSum: NodeID
    var score: AttentionScore
    /// Multiplies the score function (the dot product, or w·tanh).
    var scale: Double
    var query: [Term]
    var key: [Term]
    var value: RoledValue
    /// The additive score's weight (any shape holding `features` values).
    var scoreWeight: ValueID?
    /// One mask on the scores: an additive term times its multiplier, or a select that replaces
    /// the scores where its predicate holds (or, when `negated`, does not) by `fill`.
    enum Mask {
        case add(RoledValue, multiplier: Double)
        case select(RoledValue, negated: Bool, fill: Double)
    }

    /// The masks besides causality, outermost (nearest the softmax) first.
    var masks: [Mask]
    var causal: Bool
    /// The weighted sum's result, with roles `batch…, query or unit, feature`.
    var output: RoledValue
    /// The softmax result when something besides the weighted sum reads it (returned as weights).
    var probabilities: RoledValue?
    var batchSizes: [Dim]
    /// The ops taken in, for the remark.
    var absorbed: [String]
    /// Nodes the fused op replaces (the softmax, views of its result, the weighted sum): they
    /// are not copied, and the fused op goes where the last of them was.
    var skipped: [NodeID] = []
}

/// Why a softmax is not fused: the node that stopped the match and the reason.
struct AttentionMiss: Error {
    let node: Node?
    let reason: String
}
