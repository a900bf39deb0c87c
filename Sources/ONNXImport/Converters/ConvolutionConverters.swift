import GraphIR

/// `Conv`, `ConvTranspose`, `MaxPool` and `AveragePool` over 2-D images, and over 1-D signals by
/// viewing them as images of height 1. Padding comes from `pads` or `auto_pad`.
let convolutionConverters: [String: NodeConverter] = [
    "Conv": convertConv,
    "ConvTranspose": convertConvTranspose,
    "MaxPool": pool(.max),
    "AveragePool": pool(.average),
]

/// Bounds on the window attributes: far beyond any real model, small enough that the size
/// arithmetic below cannot overflow on inputs of up to 2^32 elements.
private let windowSizes = 1...(1 << 24)             // kernel_shape, strides, dilations
private let paddings = -(1 << 31)...(1 << 31)       // pads, output_padding
private let outputSizes = 0...maximumElementCount   // output_shape

/// The geometry attributes shared by convolutions and pools, per spatial dim.
private struct Window {
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padsBegin: [Int]
    var padsEnd: [Int]

    /// Reads `strides`, `dilations`, `pads` and `auto_pad` for `kernel` over `input` spatial sizes.
    init(_ c: NodeContext, kernel: [Int], input: [Int], readDilations: Bool = true) throws(ImportProblem) {
        let rank = kernel.count
        self.kernel = kernel
        strides = try c.attributes.ints("strides", in: windowSizes) ?? Array(repeating: 1, count: rank)
        dilations = readDilations ? try c.attributes.ints("dilations", in: windowSizes) ?? Array(repeating: 1, count: rank) : Array(repeating: 1, count: rank)
        guard strides.count == rank, dilations.count == rank else {
            throw ImportProblem("strides \(strides) and dilations \(dilations) must have one value per spatial dim (\(rank))")
        }
        let autoPad = try c.attributes.word("auto_pad", default: "NOTSET", allowed: ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"])
        let pads = try c.attributes.ints("pads", in: paddings)
        switch autoPad {
        case "NOTSET":
            let p = pads ?? Array(repeating: 0, count: 2 * rank)
            guard p.count == 2 * rank else { throw ImportProblem("pads \(p) must have two values per spatial dim (\(2 * rank))") }
            padsBegin = Array(p[..<rank])
            padsEnd = Array(p[rank...])
        case "VALID":
            padsBegin = Array(repeating: 0, count: rank)
            padsEnd = padsBegin
        default:
            // SAME: the output has ceil(input / stride) entries; the odd pad goes at the end
            // (SAME_UPPER) or the beginning (SAME_LOWER).
            padsBegin = []
            padsEnd = []
            for i in 0..<rank {
                let out = (input[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i])
                let small = total / 2, large = total - total / 2
                padsBegin.append(autoPad == "SAME_UPPER" ? small : large)
                padsEnd.append(autoPad == "SAME_UPPER" ? large : small)
            }
        }
    }

    /// As a 2-D window: 1-D windows get a height-1 first dim.
    var padding2D: Padding2D {
        kernel.count == 1
            ? Padding2D(top: 0, left: padsBegin[0], bottom: 0, right: padsEnd[0])
            : Padding2D(top: padsBegin[0], left: padsBegin[1], bottom: padsEnd[0], right: padsEnd[1])
    }
    var kernel2D: [Int] { kernel.count == 1 ? [1] + kernel : kernel }
    var strides2D: [Int] { strides.count == 1 ? [1] + strides : strides }
    var dilations2D: [Int] { dilations.count == 1 ? [1] + dilations : dilations }
}

/// The number of spatial dims of input 0 (1 or 2), with an error for anything else.
private func spatialRank(_ c: NodeContext) throws(ImportProblem) -> Int {
    let rank = try c.type(0).rank
    guard rank == 3 || rank == 4 else {
        throw ImportProblem("supports 1-D and 2-D inputs (N, C, W) and (N, C, H, W); got \(try c.type(0))\(rank == 5 ? " (3-D is not supported)" : "")")
    }
    return rank - 2
}

/// A 1-D operand seen as 2-D (height 1), or the operand itself.
private func as2D(_ c: NodeContext, _ x: ValueID, spatialRank: Int) throws(ImportProblem) -> ValueID {
    spatialRank == 1 ? try c.emit(.unsqueeze(axes: [2]), [x]) : x
}

private func from2D(_ c: NodeContext, _ y: ValueID, spatialRank: Int) throws(ImportProblem) -> [ImportValue] {
    single(spatialRank == 1 ? try c.emit(.squeeze(axes: [2]), [y]) : y)
}

private func convertConv(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let r = try spatialRank(c)
    let inputShape = try c.staticShape(0), weightShape = try c.staticShape(1)
    guard weightShape.count == r + 2 else { throw ImportProblem("weight \(try c.type(1)) does not match the input \(try c.type(0))") }
    let kernel = Array(weightShape[2...])
    if let declared = try c.attributes.ints("kernel_shape"), declared != kernel {
        throw ImportProblem("kernel_shape \(declared) does not match the weight \(try c.type(1))")
    }
    let window = try Window(c, kernel: kernel, input: Array(inputShape[2...]))
    let groups = try c.attributes.int("group", default: 1)
    let x = try as2D(c, try c.value(0), spatialRank: r)
    let w = try as2D(c, try c.value(1), spatialRank: r)
    let attributes = Conv2DAttributes(stride: window.strides2D, padding: window.padding2D, dilation: window.dilations2D, groups: groups)
    let y = try c.emit(.conv2d(attributes), [x, w] + (try c.optionalValue(2).map { [$0] } ?? []))
    return try from2D(c, y, spatialRank: r)
}

/// `ConvTranspose`. An `output_shape` (or SAME padding) sets the padding; a negative end padding
/// means the output is longer than the natural one and becomes output padding.
private func convertConvTranspose(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    let r = try spatialRank(c)
    let inputShape = try c.staticShape(0), weightShape = try c.staticShape(1)
    guard weightShape.count == r + 2 else { throw ImportProblem("weight \(try c.type(1)) does not match the input \(try c.type(0))") }
    let kernel = Array(weightShape[2...])
    if let declared = try c.attributes.ints("kernel_shape"), declared != kernel {
        throw ImportProblem("kernel_shape \(declared) does not match the weight \(try c.type(1))")
    }
    let input = Array(inputShape[2...])
    let strides = try c.attributes.ints("strides", in: windowSizes) ?? Array(repeating: 1, count: r)
    let dilations = try c.attributes.ints("dilations", in: windowSizes) ?? Array(repeating: 1, count: r)
    var outputPadding = try c.attributes.ints("output_padding", in: paddings) ?? Array(repeating: 0, count: r)
    guard strides.count == r, dilations.count == r, outputPadding.count == r else {
        throw ImportProblem("strides, dilations and output_padding must have one value per spatial dim (\(r))")
    }
    let autoPad = try c.attributes.word("auto_pad", default: "NOTSET", allowed: ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"])
    let pads = try c.attributes.ints("pads", in: paddings)
    var outputShape = try c.attributes.ints("output_shape", in: outputSizes)
    if let shape = outputShape, shape.count == r + 2 { outputShape = Array(shape[2...]) }
    guard outputShape == nil || outputShape!.count == r else { throw ImportProblem("output_shape must have one value per spatial dim (\(r))") }
    var natural: [Int] = []
    for i in 0..<r {
        let reach: Int = (kernel[i] - 1) * dilations[i] + 1
        natural.append(strides[i] * (input[i] - 1) + outputPadding[i] + reach)
    }
    var begin: [Int], end: [Int]
    if let pads, autoPad == "NOTSET" {
        guard pads.count == 2 * r else { throw ImportProblem("pads \(pads) must have two values per spatial dim (\(2 * r))") }
        begin = Array(pads[..<r])
        end = Array(pads[r...])
    } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
        let target: [Int] = outputShape ?? zip(input, strides).map { $0 * $1 }
        begin = []
        end = []
        for i in 0..<r {
            let total: Int = natural[i] - target[i]
            // Python's floor division, as the ONNX reference uses.
            let floorHalf: Int = total >= 0 ? total / 2 : -((1 - total) / 2)
            begin.append(autoPad == "SAME_UPPER" ? floorHalf : total - floorHalf)
            end.append(autoPad == "SAME_UPPER" ? total - floorHalf : floorHalf)
        }
    } else {
        // No pads: the output starts at the natural start and is cut (or extended) to output_shape.
        begin = Array(repeating: 0, count: r)
        end = outputShape.map { shape in (0..<r).map { natural[$0] - shape[$0] } } ?? Array(repeating: 0, count: r)
    }
    for i in 0..<r where end[i] < 0 {
        outputPadding[i] -= end[i]
        end[i] = 0
    }
    guard begin.allSatisfy({ $0 >= 0 }) else { throw ImportProblem("the padding \(begin) before the output is negative, which attnc does not support") }
    let groups = try c.attributes.int("group", default: 1)
    let attributes = r == 1
        ? ConvTranspose2DAttributes(stride: [1] + strides, padding: Padding2D(top: 0, left: begin[0], bottom: 0, right: end[0]),
                                    outputPadding: [0] + outputPadding, dilation: [1] + dilations, groups: groups)
        : ConvTranspose2DAttributes(stride: strides, padding: Padding2D(top: begin[0], left: begin[1], bottom: end[0], right: end[1]),
                                    outputPadding: outputPadding, dilation: dilations, groups: groups)
    let x = try as2D(c, try c.value(0), spatialRank: r)
    let w = try as2D(c, try c.value(1), spatialRank: r)
    let y = try c.emit(.convTranspose2d(attributes), [x, w] + (try c.optionalValue(2).map { [$0] } ?? []))
    return try from2D(c, y, spatialRank: r)
}

private func pool(_ kind: PoolKind) -> NodeConverter {
    { c throws(ImportProblem) in
        let r = try spatialRank(c)
        guard let kernel = try c.attributes.ints("kernel_shape", in: windowSizes), kernel.count == r else {
            throw ImportProblem("needs kernel_shape with one size per spatial dim (\(r))")
        }
        let dilationsSince = kind == .max ? 10 : 19
        let window = try Window(c, kernel: kernel, input: Array(try c.staticShape(0)[2...]), readDilations: c.opset >= dilationsSince)
        let ceilMode = try c.attributes.int("ceil_mode", default: 0) != 0
        var countIncludePad = true
        if kind == .average {
            countIncludePad = try c.attributes.int("count_include_pad", default: 0) != 0
        } else {
            if c.wantsOutput(1) { throw ImportProblem("the Indices output is not supported") }
            // storage_order only changes the Indices output.
            c.attributes.ignore("storage_order")
        }
        var x = try as2D(c, try c.value(0), spatialRank: r)
        let elementType = c.type(of: x).elementType
        // Max pooling of integers is exact in f32.
        if kind == .max && !elementType.isFloat { x = try c.cast(x, to: .f32) }
        var padding = window.padding2D
        let kernel2D = window.kernel2D
        let widePadding = max(padding.top, padding.bottom) > kernel2D[0] / 2 || max(padding.left, padding.right) > kernel2D[1] / 2
        var divisor: ValueID?
        if widePadding {
            // GraphIR pools (as PyTorch's) pad at most half the kernel; ONNX pads more. Pad
            // explicitly instead: -inf for max; zeros for average, dividing by the pooled count of
            // real elements when padding must not count.
            let fill = kind == .max ? -Double.infinity : 0
            let shape = try c.staticShape(of: x)
            if kind == .average && !countIncludePad {
                let ones = try c.filled(1, .f32, shape: [1, 1, shape[2], shape[3]])
                divisor = try padSpatial(c, ones, padding, fill: 0)
            }
            x = try padSpatial(c, x, padding, fill: fill)
            padding = .zero
        }
        let attributes = Pool2DAttributes(kernel: kernel2D, stride: window.strides2D, padding: padding,
                                          dilation: window.dilations2D, ceilMode: ceilMode, countIncludePad: countIncludePad || divisor != nil)
        var y = try c.emit(.pool2d(kind, attributes), [x])
        if let divisor {
            y = try c.emit(.binary(.div), [y, try c.emit(.pool2d(kind, attributes), [divisor])])
        }
        y = try c.cast(y, to: elementType)
        return try from2D(c, y, spatialRank: r)
    }
}

/// `x` (NCHW) with `padding` rows and columns of `fill` concatenated around its image.
private func padSpatial(_ c: NodeContext, _ x: ValueID, _ padding: Padding2D, fill: Double) throws(ImportProblem) -> ValueID {
    var x = x
    let elementType = c.type(of: x).elementType
    for (axis, before, after) in [(2, padding.top, padding.bottom), (3, padding.left, padding.right)] where before > 0 || after > 0 {
        func block(_ n: Int) throws(ImportProblem) -> ValueID {
            var shape = try c.staticShape(of: x)
            shape[axis] = n
            return try c.filled(fill, elementType, shape: shape)
        }
        var parts: [ValueID] = []
        if before > 0 { parts.append(try block(before)) }
        parts.append(x)
        if after > 0 { parts.append(try block(after)) }
        x = try c.emit(.concat(axis: axis), parts)
    }
    return x
}
