/// An operation in the graph. Attributes live in the associated values; operands and results are
/// on the `Node`. Each case's text spelling is in `OpSyntax.swift`, its typing rule in
/// `TypeRules.swift`, and its meaning in the reference interpreter.
public enum Op: Hashable, Sendable {
    /// A tensor of the result type filled with one value, or given element by element.
    /// A fused chain of elementwise ops: `expression` at every point of the result, with the
    /// operands broadcast to it (the result shape is their broadcast, or the written type).
    case elementwise(ElementwiseExpression)
    /// Softmax attention as one op (see `AttentionAttributes`).
    case attention(AttentionAttributes)
    /// A pooled channel gate as one op (see `ChannelGateAttributes`).
    case channelGate(ChannelGateAttributes)
    /// A pooled spatial gate as one op (see `SpatialGateAttributes`).
    case spatialGate(SpatialGateAttributes)
    case constant(ConstantValue)
    /// Each element holds its index along `axis` (shape from the result type): the base of masks.
    case iota(axis: Int)
    case unary(UnaryFunction)
    /// Elementwise with numpy broadcasting.
    case binary(BinaryFunction)
    /// `cond ? a : b` elementwise, broadcasting all three.
    case select
    case cast(to: ElementType)
    /// Reduction over `axes` (all axes when nil).
    case reduce(ReduceFunction, axes: [Int]?, keepDims: Bool)
    /// Batched matrix product over the last two dims; batch dims broadcast.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// `x · weightᵀ (+ bias)` over the last dim of x, as `torch.nn.Linear`.
    case linear
    case conv2d(Conv2DAttributes)
    /// The adjoint of `conv2d` (PyTorch's `ConvTranspose2d`): operands x, weight
    /// `[in, out/groups, kh, kw]` and an optional bias.
    case convTranspose2d(ConvTranspose2DAttributes)
    case pool2d(PoolKind, Pool2DAttributes)
    /// Row-major reshape; a `-1` entry is inferred.
    case reshape(shape: [Dim])
    case transpose(permutation: [Int])
    case concat(axis: Int)
    /// ONNX-style slice with clamping and negative indices.
    case slice(axes: [Int], starts: [Int], ends: [Int], steps: [Int])
    /// Picks entries along `axis` of the first operand by the integer indices of the second
    /// (ONNX `Gather`, `torch.index_select` generalised): the result's shape is
    /// `data[..<axis] + indices + data[(axis+1)...]`. Negative indices count from the end.
    case gather(axis: Int)
    /// Splits along `axis` into pieces of the given sizes (one result each).
    case split(axis: Int, sizes: [Int])
    /// Numpy broadcasting to exactly `shape`.
    case broadcast(shape: [Dim])
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    case softmax(axis: Int)
    /// Normalises over dims `axis...` (ONNX LayerNormalization); optional scale and bias operands.
    case layerNorm(axis: Int, epsilon: Double)
    /// Inference batch norm over dim 1: operands x, scale, bias, running mean, running variance.
    case batchNorm(epsilon: Double)
}

/// The value a `constant` holds.
public enum ConstantValue: Hashable, Sendable {
    /// One value repeated over the result shape.
    case splat(Double)
    /// Every element, row-major.
    case elements([Double])
}

public enum UnaryFunction: String, CaseIterable, Hashable, Sendable {
    case neg, abs, exp, log, sqrt, rsqrt, reciprocal
    case tanh, sigmoid, relu, silu, erf
    /// Exact GELU, `x · Φ(x)`.
    case gelu
    /// GELU with the tanh approximation (printed `gelu(%x, approximate=tanh)`).
    case geluTanh = "gelu_tanh"
    /// Logical not, on `i1`.
    case not
    case identity
}

public enum BinaryFunction: String, CaseIterable, Hashable, Sendable {
    case add, sub, mul, div, pow, maximum, minimum
    /// Remainder with the sign of the divisor (Python's `%`, ONNX `Mod` with `fmod=0`).
    case mod
    /// Remainder with the sign of the dividend (C's `fmod`, ONNX `Mod` with `fmod=1`).
    case fmod
    case eq, ne, lt, le, gt, ge
    case and, or, xor

    /// Comparisons produce `i1` whatever their operands.
    public var isComparison: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge: return true
        default: return false
        }
    }

    /// Logical functions take and produce `i1`.
    public var isLogical: Bool { self == .and || self == .or || self == .xor }
}

public enum ReduceFunction: String, CaseIterable, Hashable, Sendable {
    case sum, mean, amax, amin
}

public enum PoolKind: String, CaseIterable, Hashable, Sendable {
    case max, average
}

/// Padding of the two spatial dims, as `[top, left, bottom, right]`.
public struct Padding2D: Hashable, Sendable {
    public var top, left, bottom, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
    }

    /// The same padding on both sides of each dim, as PyTorch's `padding=(h, w)`.
    public init(_ height: Int, _ width: Int) {
        self.init(top: height, left: width, bottom: height, right: width)
    }

    public static let zero = Padding2D(0, 0)
}

public struct Conv2DAttributes: Hashable, Sendable {
    public var stride: [Int]
    public var padding: Padding2D
    public var dilation: [Int]
    public var groups: Int

    public init(stride: [Int] = [1, 1], padding: Padding2D = .zero, dilation: [Int] = [1, 1], groups: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }
}

public struct ConvTranspose2DAttributes: Hashable, Sendable {
    public var stride: [Int]
    /// Removed from the full output on each side, as PyTorch's `padding`.
    public var padding: Padding2D
    /// Added to the bottom and right of the output, as PyTorch's `output_padding`.
    public var outputPadding: [Int]
    public var dilation: [Int]
    public var groups: Int

    public init(stride: [Int] = [1, 1], padding: Padding2D = .zero, outputPadding: [Int] = [0, 0],
                dilation: [Int] = [1, 1], groups: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
    }
}

public struct Pool2DAttributes: Hashable, Sendable {
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: Padding2D
    public var dilation: [Int]
    public var ceilMode: Bool
    /// Average pooling only: whether padded positions count in the divisor (PyTorch's default).
    public var countIncludePad: Bool

    public init(kernel: [Int], stride: [Int]? = nil, padding: Padding2D = .zero, dilation: [Int] = [1, 1],
                ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}
