/// Builds a graph from Swift code that reads like the math:
///
/// ```swift
/// let b = GraphBuilder("sdpa")
/// let q = b.input("q", f32[1, 8, 512, 64]), k = b.input("k", f32[1, 8, 512, 64]), v = b.input("v", f32[1, 8, 512, 64])
/// let attention = (q.matmul(k, transposeB: true) * 0.125).softmax(axis: -1).matmul(v)
/// b.output(attention, as: "out")
/// let graph = try b.finish()
/// ```
///
/// Ops are type-checked as they are added. The first error is kept and thrown by `finish()`, so
/// expressions stay free of `try`; later ops on a failed value are not checked again.
public final class GraphBuilder {
    private var graph: Graph
    private var firstError: Diagnostic?
    private var nextName = 0

    public init(_ name: String) { graph = Graph(name: name) }

    /// Declares a graph input.
    public func input(_ name: String, _ type: TensorType) -> TensorValue {
        TensorValue(builder: self, id: graph.addInput(name, type))
    }

    /// Declares a named weight (bound by name when the graph runs).
    public func weight(_ name: String, _ type: TensorType) -> TensorValue {
        TensorValue(builder: self, id: graph.addWeight(name, type))
    }

    /// A tensor of `type` filled with `value`. Scalars print inline as literals.
    public func constant(_ value: Double, _ type: TensorType = TensorType(.f32, [])) -> TensorValue {
        apply(.constant(.splat(value)), [], declared: [type], inline: type.rank == 0)[0]
    }

    /// A constant with every element given, row-major.
    public func constant(_ values: [Double], _ type: TensorType) -> TensorValue {
        apply(.constant(.elements(values)), [], declared: [type])[0]
    }

    /// Each element's index along `axis`.
    public func iota(_ type: TensorType, axis: Int) -> TensorValue {
        apply(.iota(axis: axis), [], declared: [type])[0]
    }

    /// Marks `value` as a graph output, named `name` (its current name when nil).
    public func output(_ value: TensorValue, as name: String? = nil) {
        if let name { rename(value.id, to: name) }
        graph.outputs.append(value.id)
    }

    /// Applies any op; the general form behind the named helpers.
    @discardableResult
    public func apply(_ op: Op, _ operands: [TensorValue], declared: [TensorType]? = nil, inline: Bool = false) -> [TensorValue] {
        let types: [TensorType]
        do {
            types = try inferResultTypes(op, operands: operands.map(\.type), declared: declared)
        } catch {
            if firstError == nil {
                firstError = Diagnostic(.error, "\(op.mnemonic): \(error.message)", file: "graph '\(graph.name)'")
            }
            types = declared ?? [operands.first?.type ?? TensorType(.f32, [])]
        }
        let results = types.map { (name: inline ? nil : freshName(), type: $0) }
        return graph.addNode(op, operands: operands.map(\.id), results: results).map { TensorValue(builder: self, id: $0) }
    }

    /// The finished graph, verified.
    public func finish() throws -> Graph {
        if let firstError { throw firstError }
        try verifyOrThrow(graph)
        return graph
    }

    func type(of id: ValueID) -> TensorType { graph.type(of: id) }

    func rename(_ id: ValueID, to name: String) { graph[id].name = name }

    private func freshName() -> String {
        defer { nextName += 1 }
        return String(nextName)
    }
}

/// A value being built: an input, a weight or an op's result. Carries its builder so that
/// operators and methods can add nodes.
public struct TensorValue {
    public let builder: GraphBuilder
    public let id: ValueID

    public var type: TensorType { builder.type(of: id) }
    public var shape: [Dim] { type.shape }
    public var rank: Int { type.rank }

    /// Gives the value a name (shown in the text form).
    @discardableResult
    public func named(_ name: String) -> TensorValue {
        builder.rename(id, to: name)
        return self
    }

    private func unary(_ f: UnaryFunction) -> TensorValue { builder.apply(.unary(f), [self])[0] }
    private func op(_ op: Op, _ others: TensorValue...) -> TensorValue { builder.apply(op, [self] + others)[0] }
    private func scalar(_ x: Double) -> TensorValue { builder.constant(x, TensorType(type.elementType, [])) }

    public func exp() -> TensorValue { unary(.exp) }
    public func log() -> TensorValue { unary(.log) }
    public func sqrt() -> TensorValue { unary(.sqrt) }
    public func tanh() -> TensorValue { unary(.tanh) }
    public func sigmoid() -> TensorValue { unary(.sigmoid) }
    public func relu() -> TensorValue { unary(.relu) }
    public func erf() -> TensorValue { unary(.erf) }
    public func gelu(approximateTanh: Bool = false) -> TensorValue { unary(approximateTanh ? .geluTanh : .gelu) }
    public func abs() -> TensorValue { unary(.abs) }

    public func matmul(_ other: TensorValue, transposeA: Bool = false, transposeB: Bool = false) -> TensorValue {
        op(.matmul(transposeA: transposeA, transposeB: transposeB), other)
    }

    /// `self · weightᵀ + bias`, as `torch.nn.Linear`.
    public func linear(_ weight: TensorValue, _ bias: TensorValue? = nil) -> TensorValue {
        builder.apply(.linear, [self, weight] + (bias.map { [$0] } ?? []))[0]
    }

    public func conv2d(_ weight: TensorValue, _ bias: TensorValue? = nil, stride: [Int] = [1, 1], padding: Padding2D = .zero,
                       dilation: [Int] = [1, 1], groups: Int = 1) -> TensorValue {
        builder.apply(.conv2d(Conv2DAttributes(stride: stride, padding: padding, dilation: dilation, groups: groups)),
                      [self, weight] + (bias.map { [$0] } ?? []))[0]
    }

    public func maxPool2d(kernel: [Int], stride: [Int]? = nil, padding: Padding2D = .zero) -> TensorValue {
        op(.pool2d(.max, Pool2DAttributes(kernel: kernel, stride: stride, padding: padding)))
    }

    public func avgPool2d(kernel: [Int], stride: [Int]? = nil, padding: Padding2D = .zero, countIncludePad: Bool = true) -> TensorValue {
        op(.pool2d(.average, Pool2DAttributes(kernel: kernel, stride: stride, padding: padding, countIncludePad: countIncludePad)))
    }

    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> TensorValue { op(.reduce(.sum, axes: axes, keepDims: keepDims)) }
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> TensorValue { op(.reduce(.mean, axes: axes, keepDims: keepDims)) }
    public func amax(axes: [Int]? = nil, keepDims: Bool = false) -> TensorValue { op(.reduce(.amax, axes: axes, keepDims: keepDims)) }
    public func amin(axes: [Int]? = nil, keepDims: Bool = false) -> TensorValue { op(.reduce(.amin, axes: axes, keepDims: keepDims)) }

    public func softmax(axis: Int = -1) -> TensorValue { op(.softmax(axis: axis)) }
    public func layerNorm(_ scale: TensorValue? = nil, _ bias: TensorValue? = nil, axis: Int = -1, eps: Double = 1e-5) -> TensorValue {
        builder.apply(.layerNorm(axis: axis, epsilon: eps), [self] + [scale, bias].compactMap { $0 })[0]
    }
    public func batchNorm(scale: TensorValue, bias: TensorValue, mean: TensorValue, variance: TensorValue, eps: Double = 1e-5) -> TensorValue {
        builder.apply(.batchNorm(epsilon: eps), [self, scale, bias, mean, variance])[0]
    }

    public func reshape(_ shape: [Dim]) -> TensorValue { op(.reshape(shape: shape)) }
    public func transpose(_ permutation: [Int]) -> TensorValue { op(.transpose(permutation: permutation)) }
    public func broadcast(to shape: [Dim]) -> TensorValue { op(.broadcast(shape: shape)) }
    public func squeeze(_ axes: [Int]) -> TensorValue { op(.squeeze(axes: axes)) }
    public func unsqueeze(_ axes: [Int]) -> TensorValue { op(.unsqueeze(axes: axes)) }
    public func cast(to elementType: ElementType) -> TensorValue { op(.cast(to: elementType)) }
    public func slice(axes: [Int], starts: [Int], ends: [Int], steps: [Int]? = nil) -> TensorValue {
        op(.slice(axes: axes, starts: starts, ends: ends, steps: steps ?? Array(repeating: 1, count: axes.count)))
    }
    public func split(axis: Int, sizes: [Int]) -> [TensorValue] { builder.apply(.split(axis: axis, sizes: sizes), [self]) }

    public func maximum(_ other: TensorValue) -> TensorValue { op(.binary(.maximum), other) }
    public func minimum(_ other: TensorValue) -> TensorValue { op(.binary(.minimum), other) }
    public func pow(_ exponent: Double) -> TensorValue { op(.binary(.pow), scalar(exponent)) }

    public static func + (a: TensorValue, b: TensorValue) -> TensorValue { a.op(.binary(.add), b) }
    public static func - (a: TensorValue, b: TensorValue) -> TensorValue { a.op(.binary(.sub), b) }
    public static func * (a: TensorValue, b: TensorValue) -> TensorValue { a.op(.binary(.mul), b) }
    public static func / (a: TensorValue, b: TensorValue) -> TensorValue { a.op(.binary(.div), b) }
    public static func + (a: TensorValue, b: Double) -> TensorValue { a + a.scalar(b) }
    public static func - (a: TensorValue, b: Double) -> TensorValue { a - a.scalar(b) }
    public static func * (a: TensorValue, b: Double) -> TensorValue { a * a.scalar(b) }
    public static func / (a: TensorValue, b: Double) -> TensorValue { a / a.scalar(b) }
    public static func + (a: Double, b: TensorValue) -> TensorValue { b.scalar(a) + b }
    public static func - (a: Double, b: TensorValue) -> TensorValue { b.scalar(a) - b }
    public static func * (a: Double, b: TensorValue) -> TensorValue { b.scalar(a) * b }
    public static func / (a: Double, b: TensorValue) -> TensorValue { b.scalar(a) / b }
    public static prefix func - (a: TensorValue) -> TensorValue { a.unary(.neg) }
}

/// Concatenates along `axis`.
public func concat(_ values: [TensorValue], axis: Int) -> TensorValue {
    precondition(!values.isEmpty, "concat of no values")
    return values[0].builder.apply(.concat(axis: axis), values)[0]
}

/// `condition ? a : b` elementwise.
public func select(_ condition: TensorValue, _ a: TensorValue, _ b: TensorValue) -> TensorValue {
    a.builder.apply(.select, [condition, a, b])[0]
}
