import GraphIR

/// `conv_transpose2d` as XLA, TVM and ONNX Runtime lower it: a matmul, then col2im.
///
/// Per image and group, `columns = W_gᵀ · X_g` on the packed matmul: W_g is the group's weight
/// slice read as `[Cg, Og·kh·kw]` and X_g the group's input channels as `[Cg, H·W]`, so column
/// `(iy, ix)` holds every output tap `(o, ky, kx)` that input pixel contributes to. The col2im
/// kernel then adds each tap into the output pixel it lands on (see `Col2ImKernel`). A 1×1
/// kernel with stride 1 and no padding maps every pixel onto itself: the matmul then writes the
/// output directly, bias included.
///
/// ```
/// %y = conv_transpose2d(%x, %w, %b, stride=[2,2], padding=[1,1]) : f32[1,4,9,9]   // x f32[1,8,5,5], w f32[8,4,3,3]
///   -> pack left w (transposed) · pack right x -> matmul [1,1] 36x25x8 -> columns
///      col2im columns[1x1x36x25] kernel 3x3 stride [2,2] dilation [1,1] padding [1,1] + b -> y[1x4x9x9]
/// ```
public struct Col2ImKernel: Sendable {
    public var images: Int, groups: Int
    /// Output channels per group (`Og`).
    public var channelsPerGroup: Int
    /// The input's spatial size: one column per input pixel.
    public var height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var outputHeight: Int, outputWidth: Int
    /// Stride, dilation and the top/left padding place the taps; the output size already holds
    /// the bottom/right padding and the output padding.
    public var attributes: ConvTranspose2DAttributes
    /// Contiguous `[images, groups, Og·kh·kw, height·width]`.
    public var columns: BufferID
    /// One value per output channel, or none (the output starts at zero).
    public var bias: BufferID?
    /// Contiguous `[images, groups·Og, outputHeight, outputWidth]`.
    public var output: BufferID

    /// Output planes: one (image, output channel) pair each.
    public var planes: Int { images * groups * channelsPerGroup }
    /// Rows of each (image, group) block of `columns`.
    public var taps: Int { channelsPerGroup * kernelHeight * kernelWidth }
}

extension KernelPlanner {
    mutating func lowerConvTranspose2D(_ node: Node, _ attributes: ConvTranspose2DAttributes) {
        let (x, weight, result) = (node.operands[0], node.operands[1], node.results[0])
        let xShape = graph.type(of: x).staticShape!, wShape = graph.type(of: weight).staticShape!
        let shape = graph.type(of: result).staticShape!
        let (images, channels, height, width) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let groups = attributes.groups
        let perGroupIn = channels / groups
        let (perGroupOut, kernelHeight, kernelWidth) = (wShape[1], wShape[2], wShape[3])
        let taps = perGroupOut * kernelHeight * kernelWidth
        let positions = height * width
        let bias = node.operands.count > 2 ? buffer(of: node.operands[2]) : nil
        // The weight `[C, Og, kh, kw]` is, per group, a `[Cg, taps]` matrix; its transpose is the left operand.
        let left = packMatrix(.left, weight, batchShape: [groups], matrixSize: perGroupIn * taps,
                              rows: taps, columns: perGroupIn, rowStride: 1, columnStride: taps)
        let right = packImageChannels(x, groups: groups)
        let identityPlacement = kernelHeight == 1 && kernelWidth == 1 && attributes.stride == [1, 1]
            && attributes.padding == .zero && shape[2] == height && shape[3] == width
        if identityPlacement {
            appendGroupedMatmul(images: images, groups: groups, m: taps, n: positions, k: perGroupIn, left: left, right: right,
                                output: buffer(of: result), bias: bias)
            return
        }
        let columns = scratch("\(graph[result].name ?? "conv_transpose").columns", floats: images * groups * taps * positions)
        appendGroupedMatmul(images: images, groups: groups, m: taps, n: positions, k: perGroupIn, left: left, right: right,
                            output: columns, bias: nil)
        plan.kernels.append(.col2im(Col2ImKernel(
            images: images, groups: groups, channelsPerGroup: perGroupOut, height: height, width: width,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, outputHeight: shape[2], outputWidth: shape[3],
            attributes: attributes, columns: columns, bias: bias, output: buffer(of: result))))
    }
}
