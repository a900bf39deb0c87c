import GraphIR

/// Elementwise ops: unary math, numpy-broadcasting binary ops, comparisons and logic, `Where`,
/// `Cast`, and activations spelled as small compositions of GraphIR ops.
let elementwiseConverters: [String: NodeConverter] = [
    "Abs": unary(.abs), "Erf": unary(.erf), "Exp": unary(.exp), "Log": unary(.log), "Neg": unary(.neg),
    "Not": unary(.not), "Reciprocal": unary(.reciprocal), "Relu": unary(.relu), "Sigmoid": unary(.sigmoid),
    "Sqrt": unary(.sqrt), "Tanh": unary(.tanh),
    "Add": binary(.add), "Sub": binary(.sub), "Mul": binary(.mul), "Div": binary(.div),
    "Equal": binary(.eq), "Less": binary(.lt), "LessOrEqual": binary(.le), "Greater": binary(.gt),
    "GreaterOrEqual": binary(.ge), "And": binary(.and), "Or": binary(.or), "Xor": binary(.xor),
    "Max": variadic(.maximum), "Min": variadic(.minimum), "Sum": variadic(.add), "Mean": convertMean,
    "Pow": convertPow, "Mod": convertMod, "Where": convertWhere, "Cast": convertCast, "CastLike": convertCastLike,
    "Identity": convertIdentity, "Dropout": convertDropout, "Gelu": convertGelu, "Clip": convertClip,
    "LeakyRelu": convertLeakyRelu, "PRelu": convertPRelu, "Elu": convertElu, "Softplus": convertSoftplus,
    "HardSigmoid": convertHardSigmoid, "HardSwish": convertHardSwish, "Swish": convertSwish,
]

private func unary(_ f: UnaryFunction) -> NodeConverter {
    { c throws(ImportProblem) in single(try c.emit(.unary(f), [try c.value(0)])) }
}

private func binary(_ f: BinaryFunction) -> NodeConverter {
    { c throws(ImportProblem) in single(try c.emit(.binary(f), [try c.value(0), try c.value(1)])) }
}

/// `Max`, `Min`, `Sum`: the binary op folded over every input.
private func variadic(_ f: BinaryFunction) -> NodeConverter {
    { c throws(ImportProblem) in
        var result = try c.value(0)
        for i in 1..<max(c.inputs.count, 1) { result = try c.emit(.binary(f), [result, try c.value(i)]) }
        return single(result)
    }
}

private func convertMean(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let sum = try variadic(.add)(c)
    guard c.inputs.count > 1, case .runtime(let id) = sum[0] else { return sum }
    return single(try c.emit(.binary(.div), [id, c.scalar(Double(c.inputs.count), c.type(of: id).elementType)]))
}

/// `Pow` allows an exponent of another type than the base; GraphIR's `pow` does not, so the
/// exponent is cast to the base's type (the result has the base's type in both).
private func convertPow(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let base = try c.value(0)
    let exponent = try c.cast(try c.value(1), to: c.type(of: base).elementType)
    return single(try c.emit(.binary(.pow), [base, exponent]))
}

private func convertMod(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let fmod = try c.attributes.int("fmod", default: 0)
    guard fmod == 0 || fmod == 1 else { throw ImportProblem("attribute fmod=\(fmod) is not supported; attnc supports 0 and 1") }
    return single(try c.emit(.binary(fmod == 1 ? .fmod : .mod), [try c.value(0), try c.value(1)]))
}

private func convertWhere(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    single(try c.emit(.select, [try c.value(0), try c.value(1), try c.value(2)]))
}

/// The element type a `to` attribute names.
func elementType(toAttribute c: NodeContext) throws(ImportProblem) -> ElementType {
    guard let code = try c.attributes.int("to") else { throw ImportProblem("needs the attribute 'to'") }
    return try ONNXDataType.require(Int32(clamping: code))
}

private func convertCast(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let to = try elementType(toAttribute: c)
    // `saturate` only concerns float8 targets, which attnc does not import.
    c.attributes.ignore("saturate")
    return single(try c.cast(try c.value(0), to: to))
}

private func convertCastLike(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    c.attributes.ignore("saturate")
    let to = try c.type(1).elementType
    // Only the type of the second input matters, so a known first input stays known.
    if case .known(let k)? = c.input(0) {
        return [.known(KnownTensor(data: castTensor(k.data, to: to), name: c.outputName(0)))]
    }
    return single(try c.cast(try c.value(0), to: to))
}

private func convertIdentity(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    guard let input = c.input(0) else { throw ImportProblem("needs input 0, which is missing") }
    return [input]
}

/// Inference-mode dropout is the identity; its mask output is all true.
private func convertDropout(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    c.attributes.ignore("seed")
    c.attributes.ignore("ratio")
    if let isTest = try c.attributes.int("is_test"), isTest == 0 {
        throw ImportProblem("attribute is_test=0 (training) is not supported; attnc runs inference")
    }
    if let training = try c.known(2, "training_mode"), training.integers.contains(where: { $0 != 0 }) {
        // Training-mode dropout is random unless it drops nothing.
        guard let ratio = try c.known(1, "ratio"), ratio.doubles.allSatisfy({ $0 == 0 }) else {
            throw ImportProblem("training_mode=true with a nonzero ratio is not supported (it is random); attnc runs inference")
        }
    }
    guard let input = c.input(0) else { throw ImportProblem("needs input 0, which is missing") }
    guard c.wantsOutput(1) else { return [input] }
    return [input, try c.filledOutput(1, 1, .i1, shape: try c.staticShape(0))]
}

private func convertGelu(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let approximate = try c.attributes.word("approximate", default: "none", allowed: ["none", "tanh"])
    return single(try c.emit(.unary(approximate == "tanh" ? .geluTanh : .gelu), [try c.value(0)]))
}

/// `Clip`: bounds from attributes before opset 11, from optional inputs after.
private func convertClip(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    var x = try c.value(0)
    let elementType = c.type(of: x).elementType
    if c.opset < 11 {
        if let low = try c.attributes.float("min") { x = try c.emit(.binary(.maximum), [x, c.scalar(low, elementType)]) }
        if let high = try c.attributes.float("max") { x = try c.emit(.binary(.minimum), [x, c.scalar(high, elementType)]) }
        return single(x)
    }
    if let low = try c.optionalValue(1) { x = try c.emit(.binary(.maximum), [x, low]) }
    if let high = try c.optionalValue(2) { x = try c.emit(.binary(.minimum), [x, high]) }
    return single(x)
}

/// `x < 0 ? negative(x) : x`.
private func piecewise(_ c: NodeContext, negative: (ValueID) throws(ImportProblem) -> ValueID) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let isNegative = try c.emit(.binary(.lt), [x, c.scalar(0, c.type(of: x).elementType)])
    return single(try c.emit(.select, [isNegative, try negative(x), x]))
}

private func convertLeakyRelu(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let alpha = try c.attributes.float("alpha", default: 0.01)
    return try piecewise(c) { x throws(ImportProblem) in try c.emit(.binary(.mul), [x, c.scalar(alpha, c.type(of: x).elementType)]) }
}

private func convertPRelu(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let slope = try c.value(1)
    return try piecewise(c) { x throws(ImportProblem) in try c.emit(.binary(.mul), [x, slope]) }
}

private func convertElu(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let alpha = try c.attributes.float("alpha", default: 1)
    return try piecewise(c) { x throws(ImportProblem) in
        let t = c.type(of: x).elementType
        let expm1 = try c.emit(.binary(.sub), [try c.emit(.unary(.exp), [x]), c.scalar(1, t)])
        return try c.emit(.binary(.mul), [expm1, c.scalar(alpha, t)])
    }
}

private func convertSoftplus(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    let onePlus = try c.emit(.binary(.add), [try c.emit(.unary(.exp), [x]), c.scalar(1, c.type(of: x).elementType)])
    return single(try c.emit(.unary(.log), [onePlus]))
}

/// `max(0, min(1, alpha·x + beta))`.
private func hardSigmoid(_ c: NodeContext, _ x: ValueID, alpha: Double, beta: Double) throws(ImportProblem) -> ValueID {
    let t = c.type(of: x).elementType
    let line = try c.emit(.binary(.add), [try c.emit(.binary(.mul), [x, c.scalar(alpha, t)]), c.scalar(beta, t)])
    return try c.emit(.binary(.maximum), [try c.emit(.binary(.minimum), [line, c.scalar(1, t)]), c.scalar(0, t)])
}

private func convertHardSigmoid(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let alpha = try c.attributes.float("alpha", default: 0.2), beta = try c.attributes.float("beta", default: 0.5)
    return single(try hardSigmoid(c, try c.value(0), alpha: alpha, beta: beta))
}

private func convertHardSwish(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let x = try c.value(0)
    return single(try c.emit(.binary(.mul), [x, try hardSigmoid(c, x, alpha: 1.0 / 6, beta: 0.5)]))
}

private func convertSwish(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let alpha = try c.attributes.float("alpha", default: 1)
    let x = try c.value(0)
    let scaled = alpha == 1 ? x : try c.emit(.binary(.mul), [x, c.scalar(alpha, c.type(of: x).elementType)])
    return single(try c.emit(.binary(.mul), [x, try c.emit(.unary(.sigmoid), [scaled])]))
}
