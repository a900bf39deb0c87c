/// How a channel gate summarises each channel.
public enum ChannelPooling: String, Hashable, Sendable, CaseIterable {
    case avg, max
    /// Global-context attention pooling: a softmax over positions of `wa · x + ba`, then the
    /// weighted sum of each channel (GCNet).
    case attention
}

/// Attributes of `channel_gate`: one kernel for SE, CBAM's channel attention and the Global
/// Context block.
///
/// Operands: `x [N, C, spatial…]`; with attention pooling `wa [C]`, `ba [1]`; then the MLP:
/// `w1 [P, C]`, `b1 [P]`, with `norm=layer_norm` its `scale [P]` and `shift [P]`, then `w2 [C, P]`,
/// `b2 [C]` (biases only when `bias`). For every pooling p: `d_p = pool_p(x)`, then
/// `y_p = w2 · relu(norm(w1 · d_p + b1)) + b2`; `g = Σ_p y_p`. The result is `x · sigmoid(g)`
/// (`combine=scale`) or `x + g` (`combine=add`), g broadcast over the spatial dims. With
/// `output=map` the result is the gate itself, `sigmoid(g)` or `g`, shaped `[N, C, 1, …]`, for
/// a consumer that applies it (fusion moves the application into an elementwise consumer).
public struct ChannelGateAttributes: Hashable, Sendable {
    public enum Combine: String, Hashable, Sendable, CaseIterable { case scale, add }

    public var pools: [ChannelPooling]
    public var bias: Bool
    /// Layer norm over the hidden units before the ReLU (GCNet's transform).
    public var layerNorm: Bool
    public var epsilon: Double
    public var combine: Combine
    /// The result is the gate map, not the gated input.
    public var mapOnly: Bool

    public init(pools: [ChannelPooling] = [.avg], bias: Bool = true, layerNorm: Bool = false, epsilon: Double = 1e-5,
                combine: Combine = .scale, mapOnly: Bool = false) {
        self.pools = pools
        self.bias = bias
        self.layerNorm = layerNorm
        self.epsilon = epsilon
        self.combine = combine
        self.mapOnly = mapOnly
    }

    /// Operand count: x, the attention pooling's two, w1, b1, the norm's two, w2, b2.
    public var operandCount: Int {
        1 + (pools == [.attention] ? 2 : 0) + (bias ? 4 : 2) + (layerNorm ? 2 : 0)
    }
}

/// How a spatial gate summarises the channels at each position.
public enum SpatialPooling: String, Hashable, Sendable, CaseIterable {
    case mean, max
}

/// Attributes of `spatial_gate`: one kernel for CBAM's spatial attention, SAM and each branch of
/// triplet attention.
///
/// Operands: `x` (rank 4), the convolution weight `[1, pools, kh, kw]`, with `bias` its bias
/// `[1]`, then with `norm=batch_norm` its `scale [1]`, `shift [1]`, `mean [1]`, `var [1]`. With `dims=[c, r, s]`
/// (default `[1, 2, 3]`), dim c of x is pooled away (`pools` in order, as the concat that feeds
/// the convolution), the maps over dims (r, s) are convolved (`padding`, stride 1), normalised,
/// and `x · sigmoid(map)` is the result, the map broadcast over dim c. With `output=map` the
/// result is `sigmoid(map)` itself, shaped like x with dim c of size 1.
public struct SpatialGateAttributes: Hashable, Sendable {
    public var pools: [SpatialPooling]
    public var dims: [Int]
    public var padding: [Int]
    /// The convolution has a bias (batch norm folded into it by an exporter, say).
    public var bias: Bool
    public var batchNorm: Bool
    public var epsilon: Double
    /// The result is the gate map, not the gated input.
    public var mapOnly: Bool

    public init(pools: [SpatialPooling], dims: [Int] = [1, 2, 3], padding: [Int], bias: Bool = false, batchNorm: Bool = false,
                epsilon: Double = 1e-5, mapOnly: Bool = false) {
        self.pools = pools
        self.dims = dims
        self.padding = padding
        self.bias = bias
        self.batchNorm = batchNorm
        self.epsilon = epsilon
        self.mapOnly = mapOnly
    }

    public var operandCount: Int { 2 + (bias ? 1 : 0) + (batchNorm ? 4 : 0) }

    /// Index of the first batch-norm operand.
    public var normOperand: Int { bias ? 3 : 2 }
}
