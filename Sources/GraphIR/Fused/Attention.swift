/// The score function of a fused attention.
public enum AttentionScore: String, Hashable, Sendable, CaseIterable {
    /// `q · k` over the feature dim (scaled dot product; Luong dot and general).
    case dot
    /// `w · tanh(q + k)` over the hidden dim (Bahdanau; Luong concat), with the projections of
    /// query and key computed beforehand.
    case additive
}

/// Attributes of `attention`: one online-softmax kernel for every spelling of attention.
///
/// Operands: `q [batch…, Sq, D]`, `k [batch…, Sk, D]`, `v [batch…, Sk, Dv]`, then for the additive
/// score `w [D]`, then an optional additive `mask` (f32), then with `select` a `predicate` (i1) and
/// a `fill` (f32); the last three broadcast to `[batch…, Sq, Sk]`. Batch dims broadcast. Result:
/// `[batch…, Sq, Dv]`, and with `weights` also the probabilities `[batch…, Sq, Sk]`.
///
/// ```
/// s(i, j) = scale · f(q_i, k_j) + mask[i, j]
/// s(i, j) = predicate[i, j] ? fill[i, j] : s(i, j)      with select
/// s(i, j) = -inf                                        where causal and j > i
/// ```
/// The select replaces a score, as `masked_fill` does: a NaN or +inf score it covers is gone,
/// where adding -inf would keep it (NaN). Probabilities are the softmax over j; the result is
/// `Σ_j p(i, j) · v_j`. A row whose every score is -inf gives NaN, as `torch.softmax` does; a row
/// filled with one finite value (-1e9) gives uniform weights.
public struct AttentionAttributes: Hashable, Sendable {
    public var score: AttentionScore
    public var scale: Double
    public var causal: Bool
    /// Whether the probabilities are a second result.
    public var weights: Bool
    /// Whether the last two operands are a predicate and a fill that replace the scores they cover.
    public var select: Bool

    public init(score: AttentionScore = .dot, scale: Double = 1, causal: Bool = false, weights: Bool = false, select: Bool = false) {
        self.score = score
        self.scale = scale
        self.causal = causal
        self.weights = weights
        self.select = select
    }

    /// Operands before the optional mask.
    public var fixedOperandCount: Int { score == .dot ? 3 : 4 }

    /// Where the operands of an attention with `operandCount` operands are: the additive mask's
    /// index, and the select predicate's and fill's. Nil for those it does not have.
    public func maskOperands(count operandCount: Int) -> (mask: Int?, predicate: Int?, fill: Int?) {
        let fixed = fixedOperandCount
        let selectCount = select ? 2 : 0
        let mask = operandCount - fixed - selectCount == 1 ? fixed : nil
        guard select else { return (mask, nil, nil) }
        return (mask, operandCount - 2, operandCount - 1)
    }
}
