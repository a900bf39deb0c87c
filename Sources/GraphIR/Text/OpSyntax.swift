/// The text spelling of every op: its mnemonic and attributes, both ways.
///
/// Attributes equal to their default are not printed, so `matmul(%a, %b)` is the canonical form of
/// a matmul without transposes. Reading checks every attribute's name and kind and says which one
/// is wrong.
extension Op {
    /// The op's name in the text form.
    public var mnemonic: String {
        switch self {
        case .elementwise: return "elementwise"
        case .attention: return "attention"
        case .channelGate: return "channel_gate"
        case .spatialGate: return "spatial_gate"
        case .constant: return "constant"
        case .iota: return "iota"
        case .unary(let f): return f == .geluTanh ? "gelu" : f.rawValue
        case .binary(let f): return f.rawValue
        case .select: return "select"
        case .cast: return "cast"
        case .reduce(let f, _, _): return f.rawValue
        case .matmul: return "matmul"
        case .linear: return "linear"
        case .conv2d: return "conv2d"
        case .convTranspose2d: return "conv_transpose2d"
        case .pool2d(.max, _): return "max_pool2d"
        case .pool2d(.average, _): return "avg_pool2d"
        case .reshape: return "reshape"
        case .transpose: return "transpose"
        case .concat: return "concat"
        case .slice: return "slice"
        case .gather: return "gather"
        case .split: return "split"
        case .broadcast: return "broadcast"
        case .squeeze: return "squeeze"
        case .unsqueeze: return "unsqueeze"
        case .softmax: return "softmax"
        case .layerNorm: return "layer_norm"
        case .batchNorm: return "batch_norm"
        }
    }

    /// Every mnemonic the parser knows.
    public static var mnemonics: [String] {
        ["elementwise", "attention", "channel_gate", "spatial_gate", "constant", "iota", "select", "cast", "matmul", "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
         "reshape", "transpose", "concat", "slice", "gather", "split", "broadcast", "squeeze", "unsqueeze", "softmax",
         "layer_norm", "batch_norm"]
            + UnaryFunction.allCases.filter { $0 != .geluTanh }.map(\.rawValue)
            + BinaryFunction.allCases.map(\.rawValue) + ReduceFunction.allCases.map(\.rawValue)
    }

    /// The attributes to print, in order, leaving out defaults.
    public var attributes: [(String, AttributeValue)] {
        var out = AttributeWriter()
        switch self {
        case .elementwise(let expression): out.add("expr", .string(expression.description))
        case .attention(let a):
            out.add("score", .word(a.score.rawValue), unless: .word("dot"))
            out.add("scale", .float(a.scale), unless: .float(1))
            out.add("causal", .bool(a.causal), unless: false)
            out.add("weights", .bool(a.weights), unless: false)
            out.add("select", .bool(a.select), unless: false)
        case .channelGate(let a):
            out.add("pool", .list(a.pools.map { .word($0.rawValue) }), unless: .list([.word("avg")]))
            out.add("bias", .bool(a.bias), unless: true)
            out.add("norm", .word(a.layerNorm ? "layer_norm" : "none"), unless: .word("none"))
            out.add("eps", .float(a.epsilon), unless: .float(1e-5))
            out.add("combine", .word(a.combine.rawValue), unless: .word("scale"))
            out.add("output", .word(a.mapOnly ? "map" : "gated"), unless: .word("gated"))
        case .spatialGate(let a):
            out.add("pool", .list(a.pools.map { .word($0.rawValue) }))
            out.add("dims", .ints(a.dims), unless: [1, 2, 3])
            out.add("padding", .ints(a.padding))
            out.add("bias", .bool(a.bias), unless: false)
            out.add("norm", .word(a.batchNorm ? "batch_norm" : "none"), unless: .word("none"))
            out.add("eps", .float(a.epsilon), unless: .float(1e-5))
            out.add("output", .word(a.mapOnly ? "map" : "gated"), unless: .word("gated"))
        case .constant(.splat(let x)): out.add("value", .float(x))
        case .constant(.elements(let xs)): out.add("values", .list(xs.map { .float($0) }))
        case .iota(let axis): out.add("axis", .integer(axis))
        case .unary(let f): if f == .geluTanh { out.add("approximate", .word("tanh")) }
        case .binary, .select, .linear: break
        case .cast(let to): out.add("to", .word(to.rawValue))
        case .reduce(_, let axes, let keepDims):
            if let axes { out.add("axes", .ints(axes)) }
            out.add("keepdims", .bool(keepDims), unless: false)
        case .matmul(let ta, let tb):
            out.add("transpose_a", .bool(ta), unless: false)
            out.add("transpose_b", .bool(tb), unless: false)
        case .conv2d(let a):
            out.add("stride", .ints(a.stride), unless: [1, 1])
            out.add("padding", a.padding.attribute, unless: Padding2D.zero.attribute)
            out.add("dilation", .ints(a.dilation), unless: [1, 1])
            out.add("groups", .integer(a.groups), unless: 1)
        case .convTranspose2d(let a):
            out.add("stride", .ints(a.stride), unless: [1, 1])
            out.add("padding", a.padding.attribute, unless: Padding2D.zero.attribute)
            out.add("output_padding", .ints(a.outputPadding), unless: [0, 0])
            out.add("dilation", .ints(a.dilation), unless: [1, 1])
            out.add("groups", .integer(a.groups), unless: 1)
        case .pool2d(let kind, let a):
            out.add("kernel", .ints(a.kernel))
            out.add("stride", .ints(a.stride), unless: .ints(a.kernel))
            out.add("padding", a.padding.attribute, unless: Padding2D.zero.attribute)
            out.add("dilation", .ints(a.dilation), unless: [1, 1])
            out.add("ceil_mode", .bool(a.ceilMode), unless: false)
            if kind == .average { out.add("count_include_pad", .bool(a.countIncludePad), unless: true) }
        case .reshape(let shape): out.add("shape", .dims(shape))
        case .transpose(let p): out.add("perm", .ints(p))
        case .concat(let axis): out.add("axis", .integer(axis))
        case .slice(let axes, let starts, let ends, let steps):
            out.add("axes", .ints(axes))
            out.add("starts", .ints(starts))
            out.add("ends", .ints(ends))
            out.add("steps", .ints(steps), unless: .ints(Array(repeating: 1, count: axes.count)))
        case .gather(let axis): out.add("axis", .integer(axis))
        case .split(let axis, let sizes):
            out.add("axis", .integer(axis))
            out.add("sizes", .ints(sizes))
        case .broadcast(let shape): out.add("shape", .dims(shape))
        case .squeeze(let axes), .unsqueeze(let axes): out.add("axes", .ints(axes))
        case .softmax(let axis): out.add("axis", .integer(axis), unless: -1)
        case .layerNorm(let axis, let eps):
            out.add("axis", .integer(axis), unless: -1)
            out.add("eps", .float(eps), unless: .float(1e-5))
        case .batchNorm(let eps): out.add("eps", .float(eps), unless: .float(1e-5))
        }
        return out.items
    }

    /// Builds an op from its mnemonic and written attributes. The operands' element types type the
    /// literals inside an `elementwise` expression.
    public init(mnemonic: String, attributes: [(String, AttributeValue)], operandTypes: [ElementType] = []) throws(AttributeError) {
        var a = AttributeReader(attributes)
        switch mnemonic {
        case "elementwise":
            let text = try a.string("expr")
            do {
                self = .elementwise(try parseElementwiseExpression(text, operandTypes: operandTypes))
            } catch {
                throw AttributeError(.invalid(name: "expr", message: error.message))
            }
        case "constant":
            if a.has("values") {
                self = .constant(.elements(try a.floats("values")))
            } else {
                self = .constant(.splat(try a.float("value")))
            }
        case "iota": self = .iota(axis: try a.integer("axis"))
        case "channel_gate":
            let pools = try a.words("pool", default: ["avg"], allowed: ChannelPooling.allCases.map(\.rawValue))
            self = .channelGate(ChannelGateAttributes(
                pools: pools.map { ChannelPooling(rawValue: $0)! }, bias: try a.bool("bias", default: true),
                layerNorm: try a.word("norm", default: "none", allowed: ["none", "layer_norm"]) == "layer_norm",
                epsilon: try a.float("eps", default: 1e-5),
                combine: ChannelGateAttributes.Combine(rawValue: try a.word("combine", default: "scale", allowed: ["scale", "add"]))!,
                mapOnly: try a.word("output", default: "gated", allowed: ["gated", "map"]) == "map"))
        case "spatial_gate":
            let pools = try a.words("pool", allowed: SpatialPooling.allCases.map(\.rawValue))
            self = .spatialGate(SpatialGateAttributes(
                pools: pools.map { SpatialPooling(rawValue: $0)! }, dims: try a.integers("dims", default: [1, 2, 3]),
                padding: try a.pair("padding"), bias: try a.bool("bias", default: false),
                batchNorm: try a.word("norm", default: "none", allowed: ["none", "batch_norm"]) == "batch_norm",
                epsilon: try a.float("eps", default: 1e-5),
                mapOnly: try a.word("output", default: "gated", allowed: ["gated", "map"]) == "map"))
        case "attention":
            let score = try a.word("score", default: "dot", allowed: AttentionScore.allCases.map(\.rawValue))
            self = .attention(AttentionAttributes(score: AttentionScore(rawValue: score)!, scale: try a.float("scale", default: 1),
                                                  causal: try a.bool("causal", default: false), weights: try a.bool("weights", default: false),
                                                  select: try a.bool("select", default: false)))
        case "gelu":
            let approximate = try a.word("approximate", default: "none", allowed: ["none", "tanh"])
            self = .unary(approximate == "tanh" ? .geluTanh : .gelu)
        case "select": self = .select
        case "cast":
            let name = try a.word("to", allowed: ElementType.allCases.map(\.rawValue))
            self = .cast(to: ElementType(rawValue: name)!)
        case "matmul":
            self = .matmul(transposeA: try a.bool("transpose_a", default: false), transposeB: try a.bool("transpose_b", default: false))
        case "linear": self = .linear
        case "conv2d":
            self = .conv2d(Conv2DAttributes(stride: try a.pair("stride", default: [1, 1]), padding: try a.padding(),
                                            dilation: try a.pair("dilation", default: [1, 1]),
                                            groups: try a.integer("groups", default: 1)))
        case "conv_transpose2d":
            self = .convTranspose2d(ConvTranspose2DAttributes(
                stride: try a.pair("stride", default: [1, 1]), padding: try a.padding(),
                outputPadding: try a.pair("output_padding", default: [0, 0]), dilation: try a.pair("dilation", default: [1, 1]),
                groups: try a.integer("groups", default: 1)))
        case "max_pool2d", "avg_pool2d":
            let kernel = try a.pair("kernel")
            let attributes = Pool2DAttributes(
                kernel: kernel, stride: try a.pair("stride", default: kernel), padding: try a.padding(),
                dilation: try a.pair("dilation", default: [1, 1]), ceilMode: try a.bool("ceil_mode", default: false),
                countIncludePad: mnemonic == "avg_pool2d" ? try a.bool("count_include_pad", default: true) : true)
            self = .pool2d(mnemonic == "max_pool2d" ? .max : .average, attributes)
        case "reshape": self = .reshape(shape: try a.dims("shape"))
        case "transpose": self = .transpose(permutation: try a.integers("perm"))
        case "concat": self = .concat(axis: try a.integer("axis"))
        case "slice":
            let axes = try a.integers("axes")
            self = .slice(axes: axes, starts: try a.integers("starts"), ends: try a.integers("ends"),
                          steps: try a.integers("steps", default: Array(repeating: 1, count: axes.count)))
        case "gather": self = .gather(axis: try a.integer("axis"))
        case "split": self = .split(axis: try a.integer("axis"), sizes: try a.integers("sizes"))
        case "broadcast": self = .broadcast(shape: try a.dims("shape"))
        case "squeeze": self = .squeeze(axes: try a.integers("axes"))
        case "unsqueeze": self = .unsqueeze(axes: try a.integers("axes"))
        case "softmax": self = .softmax(axis: try a.integer("axis", default: -1))
        case "layer_norm":
            self = .layerNorm(axis: try a.integer("axis", default: -1), epsilon: try a.float("eps", default: 1e-5))
        case "batch_norm": self = .batchNorm(epsilon: try a.float("eps", default: 1e-5))
        default:
            if let f = UnaryFunction(rawValue: mnemonic), f != .geluTanh {
                self = .unary(f)
            } else if let f = BinaryFunction(rawValue: mnemonic) {
                self = .binary(f)
            } else if let f = ReduceFunction(rawValue: mnemonic) {
                self = .reduce(f, axes: a.has("axes") ? try a.integers("axes") : nil, keepDims: try a.bool("keepdims", default: false))
            } else {
                throw AttributeError(.unknownOp(mnemonic))
            }
        }
        try a.finish(op: mnemonic)
    }
}

/// A problem with an op's name or attributes. `attribute` names the offending attribute, if any.
public struct AttributeError: Error, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case unknownOp(String)
        case unknownAttribute(op: String, name: String, known: [String])
        case missing(String)
        case wrongKind(name: String, expected: String, got: String)
        case notAllowed(name: String, value: String, allowed: [String])
        case invalid(name: String, message: String)
    }

    public let kind: Kind
    public var attribute: String? {
        switch kind {
        case .unknownOp, .missing: return nil
        case .unknownAttribute(_, let name, _), .wrongKind(let name, _, _), .notAllowed(let name, _, _), .invalid(let name, _): return name
        }
    }

    init(_ kind: Kind) { self.kind = kind }

    public var message: String {
        switch kind {
        case .unknownOp(let name):
            return "unknown op '\(name)'" + (closestName(to: name, in: Op.mnemonics).map { "; did you mean '\($0)'?" } ?? "")
        case .unknownAttribute(let op, let name, let known):
            return "unknown attribute '\(name)' for \(op)" + (known.isEmpty ? " (it takes none)" : "; expected one of \(known.joined(separator: ", "))")
        case .missing(let name): return "missing attribute '\(name)'"
        case .wrongKind(let name, let expected, let got): return "attribute '\(name)' must be \(expected), got \(got)"
        case .notAllowed(let name, let value, let allowed):
            return "attribute '\(name)' cannot be '\(value)'; expected one of \(allowed.joined(separator: ", "))"
        case .invalid(let name, let message):
            return "attribute '\(name)': \(message)"
        }
    }
}

extension AttributeValue {
    static func ints(_ values: [Int]) -> AttributeValue { .list(values.map { .integer($0) }) }
    static func dims(_ dims: [Dim]) -> AttributeValue {
        .list(dims.map { d in
            switch d {
            case .known(let n): return .integer(n)
            case .symbol(let s): return .word(s)
            }
        })
    }
}

extension AttributeValue: ExpressibleByArrayLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(arrayLiteral elements: Int...) { self = .ints(elements) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension Padding2D {
    /// `[h, w]` when symmetric, else `[top, left, bottom, right]`.
    var attribute: AttributeValue {
        top == bottom && left == right ? .ints([top, left]) : .ints([top, left, bottom, right])
    }
}

private struct AttributeWriter {
    var items: [(String, AttributeValue)] = []
    mutating func add(_ name: String, _ value: AttributeValue, unless defaultValue: AttributeValue? = nil) {
        if value != defaultValue { items.append((name, value)) }
    }
}

/// Reads attributes by name and kind, remembering which were used so leftovers are reported.
private struct AttributeReader {
    private var remaining: [(String, AttributeValue)]
    private var used: [String] = []

    init(_ attributes: [(String, AttributeValue)]) { remaining = attributes }

    func has(_ name: String) -> Bool { remaining.contains { $0.0 == name } }

    private mutating func take(_ name: String) -> AttributeValue? {
        used.append(name)
        guard let i = remaining.firstIndex(where: { $0.0 == name }) else { return nil }
        return remaining.remove(at: i).1
    }

    mutating func integer(_ name: String, default defaultValue: Int? = nil) throws(AttributeError) -> Int {
        guard let value = take(name) else { return try orDefault(name, defaultValue) }
        guard case .integer(let n) = value else { throw AttributeError(.wrongKind(name: name, expected: "an integer", got: value.kindName)) }
        return n
    }

    mutating func float(_ name: String, default defaultValue: Double? = nil) throws(AttributeError) -> Double {
        guard let value = take(name) else { return try orDefault(name, defaultValue) }
        switch value {
        case .float(let x): return x
        case .integer(let n): return Double(n)
        default: throw AttributeError(.wrongKind(name: name, expected: "a number", got: value.kindName))
        }
    }

    mutating func bool(_ name: String, default defaultValue: Bool? = nil) throws(AttributeError) -> Bool {
        guard let value = take(name) else { return try orDefault(name, defaultValue) }
        guard case .bool(let b) = value else { throw AttributeError(.wrongKind(name: name, expected: "true or false", got: value.kindName)) }
        return b
    }

    mutating func word(_ name: String, default defaultValue: String? = nil, allowed: [String]) throws(AttributeError) -> String {
        guard let value = take(name) else { return try orDefault(name, defaultValue) }
        guard case .word(let w) = value else { throw AttributeError(.wrongKind(name: name, expected: "one of \(allowed.joined(separator: ", "))", got: value.kindName)) }
        guard allowed.contains(w) else { throw AttributeError(.notAllowed(name: name, value: w, allowed: allowed)) }
        return w
    }

    /// A list of words, each one of `allowed`.
    mutating func words(_ name: String, default defaultValue: [String]? = nil, allowed: [String]) throws(AttributeError) -> [String] {
        guard let value = take(name) else { return try orDefault(name, defaultValue) }
        let expected = "a list of \(allowed.joined(separator: ", "))"
        guard case .list(let items) = value, !items.isEmpty else { throw AttributeError(.wrongKind(name: name, expected: expected, got: value.kindName)) }
        var result: [String] = []
        for item in items {
            guard case .word(let w) = item else { throw AttributeError(.wrongKind(name: name, expected: expected, got: "a list holding \(item.kindName)")) }
            guard allowed.contains(w) else { throw AttributeError(.notAllowed(name: name, value: w, allowed: allowed)) }
            result.append(w)
        }
        return result
    }

    mutating func string(_ name: String) throws(AttributeError) -> String {
        guard let value = take(name) else { throw AttributeError(.missing(name)) }
        guard case .string(let text) = value else { throw AttributeError(.wrongKind(name: name, expected: "a quoted string", got: value.kindName)) }
        return text
    }

    mutating func integers(_ name: String, default defaultValue: [Int]? = nil) throws(AttributeError) -> [Int] {
        guard let value = take(name) else { return try orDefault(name, defaultValue) }
        guard case .list(let items) = value else { throw AttributeError(.wrongKind(name: name, expected: "a list of integers", got: value.kindName)) }
        var result: [Int] = []
        for item in items {
            guard case .integer(let n) = item else { throw AttributeError(.wrongKind(name: name, expected: "a list of integers", got: "a list holding \(item.kindName)")) }
            result.append(n)
        }
        return result
    }

    mutating func floats(_ name: String) throws(AttributeError) -> [Double] {
        guard let value = take(name) else { throw AttributeError(.missing(name)) }
        guard case .list(let items) = value else { throw AttributeError(.wrongKind(name: name, expected: "a list of numbers", got: value.kindName)) }
        var result: [Double] = []
        for item in items {
            switch item {
            case .float(let x): result.append(x)
            case .integer(let n): result.append(Double(n))
            default: throw AttributeError(.wrongKind(name: name, expected: "a list of numbers", got: "a list holding \(item.kindName)"))
            }
        }
        return result
    }

    mutating func dims(_ name: String) throws(AttributeError) -> [Dim] {
        guard let value = take(name) else { throw AttributeError(.missing(name)) }
        let expected = "a list of sizes and symbols"
        guard case .list(let items) = value else { throw AttributeError(.wrongKind(name: name, expected: expected, got: value.kindName)) }
        var result: [Dim] = []
        for item in items {
            switch item {
            case .integer(let n): result.append(.known(n))
            case .word(let s): result.append(.symbol(s))
            default: throw AttributeError(.wrongKind(name: name, expected: expected, got: "a list holding \(item.kindName)"))
            }
        }
        return result
    }

    /// Two integers (`[sh, sw]`), as stride, dilation and kernel take.
    mutating func pair(_ name: String, default defaultValue: [Int]? = nil) throws(AttributeError) -> [Int] {
        let values = try integers(name, default: defaultValue)
        guard values.count == 2 else { throw AttributeError(.wrongKind(name: name, expected: "two integers", got: "\(values.count) values")) }
        return values
    }

    /// `padding=[h, w]` or `padding=[top, left, bottom, right]`.
    mutating func padding() throws(AttributeError) -> Padding2D {
        let values = try integers("padding", default: [0, 0])
        switch values.count {
        case 2: return Padding2D(values[0], values[1])
        case 4: return Padding2D(top: values[0], left: values[1], bottom: values[2], right: values[3])
        default: throw AttributeError(.wrongKind(name: "padding", expected: "[h, w] or [top, left, bottom, right]", got: "\(values.count) values"))
        }
    }

    private func orDefault<T>(_ name: String, _ defaultValue: T?) throws(AttributeError) -> T {
        guard let defaultValue else { throw AttributeError(.missing(name)) }
        return defaultValue
    }

    /// Reports the first attribute the op does not take.
    func finish(op: String) throws(AttributeError) {
        if let (name, _) = remaining.first {
            throw AttributeError(.unknownAttribute(op: op, name: name, known: used))
        }
    }
}

/// The candidate within edit distance 2 of `name`, for "did you mean" hints.
func closestName(to name: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let scored = candidates.map { ($0, distance(Array(name), Array($0))) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
}
