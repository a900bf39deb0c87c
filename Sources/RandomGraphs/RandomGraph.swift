import GraphIR

/// Limits and switches for `randomGraph`.
public struct RandomGraphOptions: Sendable {
    /// Steps drawn per graph (1 to this many); a step adds one op of interest plus the few helper
    /// ops that keep its operands in its domain.
    public var maxSteps = 12
    /// Graph inputs (1 to this many; some are added when a step needs a fresh operand).
    public var maxInputs = 4
    /// Graph outputs (1 to this many).
    public var maxOutputs = 3
    /// No value holds more elements than this, so the interpreter stays fast.
    public var maxElements = 20_000
    /// Elements of a freshly declared input or weight.
    public var maxSourceElements = 6_000
    /// Multiply-adds of one matmul, linear or convolution.
    public var maxMultiplyAdds = 400_000
    /// Whether steps may declare weights (otherwise fresh operands are inputs or constants).
    public var allowsWeights = true
    /// Unary functions never drawn. The default leaves out erf and both GELUs, whose vector math
    /// is not written yet.
    public var excludedUnary: Set<UnaryFunction> = [.erf, .gelu, .geluTanh]

    public init() {}
}

/// A small random graph that verifies, built with `GraphBuilder` from `seed` alone: the same
/// seed gives the same graph on every run (with the same standard library).
///
/// Coverage. Shapes have rank 0 to 4 (inputs 1 to 4) with dims from {1, 2, 3, 5, 7, 9, 16, 17, 33,
/// 65}, so vector tails, size-1 broadcast dims and odd tile edges are the rule. A graph has 1 to 4
/// inputs (mostly f32, sometimes i1 or i32), optional weights, 1 to `maxSteps` steps and 1 to 3
/// outputs; each step is one of:
/// - unary: neg, abs, exp, log, sqrt, rsqrt, reciprocal, tanh, sigmoid, relu, silu, identity
///   (not erf, gelu, gelu_tanh by default); `not` on i1 masks.
/// - binary with numpy broadcasting (size-1 dims, rank differences, both operands broadcast,
///   inline scalars): add, sub, mul, div, pow (constant and tensor exponents), maximum, minimum,
///   mod, fmod; comparisons eq, ne, lt, le, gt, ge; logical and, or, xor.
/// - select with comparison masks, causal-style `iota` masks (i32 or f32, optionally offset) and
///   i1 inputs, with -inf, large negative or tensor alternatives.
/// - cast between f32, i32, i64 and i1, with short integer chains (add, sub, mul, div, mod, fmod,
///   maximum, minimum, neg, abs, comparisons and sum/amax/amin reductions on integers and i1).
/// - reduce sum, mean, amax, amin over all axes or random subsets (adjacent or not, negative
///   spellings), with and without keepdims; softmax over any axis.
/// - matmul with either transpose flag and broadcast batch dims (either side, rank differences);
///   linear with and without bias; conv2d with strides 1 to 3, asymmetric padding, dilation 1 or
///   2, groups and kernels 1, 3, 5, 7 (each side independently), with and without bias; max and
///   average pooling with padding, dilation, ceil mode and count_include_pad.
/// - reshape (with -1), transpose, concat (2 or 3 operands), slice (several axes, steps > 1,
///   negative steps and indices, clamped bounds), split, broadcast, squeeze, unsqueeze — on f32,
///   i1 and integer values alike.
/// - layer_norm over any trailing dims with optional scale and bias, batch_norm.
/// - constants: inline scalars, splat tensors and listed elements; iota.
/// - motifs for the fusion passes, built from the ops above: softmax attention (dot-product
///   or additive scores, either score layout, keys stored either way, scale on the query or the
///   scores, additive, causal, boolean or near-miss masks, multi-head projections, the weighted
///   sum as a matmul or a summed product, probabilities read twice), channel gates (average
///   and/or max pooling, linear or 1×1-convolution MLP, sigmoid scale or residual add) and
///   spatial gates (channel mean and/or max, k×k convolution, optional batch norm, rotated
///   inputs as in triplet attention).
/// Outputs are the last value and up to two other unused values, sometimes an input, a view of
/// another output or a constant (outputs that need a copy).
///
/// Numerics. Operands are kept in each op's domain: log, sqrt and rsqrt read `abs(x) + 0.5`,
/// division and remainders divide by `±(abs(y) + 0.5)`, pow has a positive base and an exponent
/// in [-2, 2], exp reads `minimum(x, 20)`, layer_norm normalises rows that vary (a fresh weight is
/// added to computed values), batch_norm variances are positive (weights named
/// `*.running_var`). Comparisons, float-to-integer casts and remainders, whose results jump,
/// only read values that every correct implementation computes bit for bit (inputs, constants,
/// data movement, and add, sub, mul, div, sqrt, maximum, minimum, abs, neg, relu of such values),
/// so a correct backend matches the interpreter exactly on them. Integer values stay far from
/// overflow.
///
/// Not generated: `gather` and `conv_transpose2d` (the code generator does not support them yet)
/// and symbolic dims.
public func randomGraph(seed: UInt64, options: RandomGraphOptions = RandomGraphOptions()) -> Graph {
    let generator = GraphGenerator(seed: seed, options: options)
    return generator.generate()
}

/// A small random graph that verifies, with every choice `randomGraph(seed:)` would draw taken
/// from `bytes` instead (then from a generator seeded by their length): how the differential
/// fuzz target turns its input into a graph. Any bytes give a valid graph.
public func randomGraph(bytes: [UInt8], options: RandomGraphOptions = RandomGraphOptions()) -> Graph {
    GraphGenerator(bytes: bytes, options: options).generate()
}
