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
/// score `w [D]`, then an optional additive `mask` broadcastable to `[batch…, Sq, Sk]`. Batch dims
/// broadcast. Result: `[batch…, Sq, Dv]`, and with `weights` also the probabilities `[batch…, Sq, Sk]`.
///
/// `score(i, j) = scale · f(q_i, k_j) + mask[i, j]`, minus infinity where `causal` and `j > i`;
/// probabilities are the softmax over j; the result is `Σ_j p(i, j) · v_j`. A row whose every
/// score is -inf gives NaN, as `torch.softmax` does.
public struct AttentionAttributes: Hashable, Sendable {
    public var score: AttentionScore
    public var scale: Double
    public var causal: Bool
    /// Whether the probabilities are a second result.
    public var weights: Bool

    public init(score: AttentionScore = .dot, scale: Double = 1, causal: Bool = false, weights: Bool = false) {
        self.score = score
        self.scale = scale
        self.causal = causal
        self.weights = weights
    }

    /// Operands before the optional mask.
    public var fixedOperandCount: Int { score == .dot ? 3 : 4 }
}
