import CLLVM
import GraphIR

/// Emits col2im, the second half of a transposed convolution: a task owns one output plane
/// (image n, output channel o), so no two tasks write the same memory. It fills the plane with
/// the channel's bias (or zero), then for every kernel tap (ky, kx) adds the tap's row of the
/// columns, `columns[n, g, (o mod Og, ky, kx), iy, ix]`, into output pixel
/// `(iy·sy − top + ky·dy, ix·sx − left + kx·dx)`.
///
/// The input rows and columns whose pixels land inside the output are worked out once per tap,
/// so the inner loop has no bounds checks. With a horizontal stride of 1 a row of a tap lands on
/// contiguous output pixels and is added as vectors with a masked tail; a wider stride spreads
/// it over every sx-th pixel, added one at a time.
struct Col2ImEmitter {
    let kernel: Col2ImKernel
    let lanes: Int

    var taskCount: Int { kernel.planes }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let k = kernel, a = kernel.attributes
        let f32 = c.f32, vector = c.f32.vector(lanes)
        let columns = e.pointer(to: k.columns), output = e.pointer(to: k.output)
        let planeSize = k.outputHeight * k.outputWidth
        let positions = k.height * k.width
        try b.forLoop(begin, end) { plane, _ in
            // Planes are (n, o) with o = g·Og + channel, so `plane / Og` is (n, g), the columns block.
            let block = b.sdiv(plane, e.i64(k.channelsPerGroup))
            let channel = b.srem(plane, e.i64(k.channelsPerGroup))
            let planeBase = b.mul(plane, e.i64(planeSize))
            let initial = try k.bias.map { bias in
                try e.load(.f32, e.pointer(to: bias), b.srem(plane, e.i64(k.groups * k.channelsPerGroup)), count: 1)
            } ?? c.constant(0.0, f32)
            fill(e, output, from: planeBase, count: planeSize, with: initial)
            let channelRows = b.add(b.mul(block, e.i64(k.taps)), b.mul(channel, e.i64(k.kernelHeight * k.kernelWidth)))
            try b.forLoop(e.i64(0), e.i64(k.kernelHeight)) { ky, _ in
                let top = b.sub(b.mul(ky, e.i64(a.dilation[0])), e.i64(a.padding.top))
                let (firstRow, endRow) = landingRange(e, offset: top, stride: a.stride[0], inputSize: k.height, outputSize: k.outputHeight)
                try b.forLoop(e.i64(0), e.i64(k.kernelWidth)) { kx, _ in
                    let left = b.sub(b.mul(kx, e.i64(a.dilation[1])), e.i64(a.padding.left))
                    let (firstColumn, endColumn) = landingRange(e, offset: left, stride: a.stride[1], inputSize: k.width,
                                                                outputSize: k.outputWidth)
                    let tapRow = b.add(channelRows, b.add(b.mul(ky, e.i64(k.kernelWidth)), kx))
                    let tapBase = b.mul(tapRow, e.i64(positions))
                    try b.forLoop(firstRow, endRow) { iy, _ in
                        let oy = b.add(b.mul(iy, e.i64(a.stride[0])), top)
                        // Input column ix of this row is output column ix·sx + left.
                        let source = b.add(tapBase, b.mul(iy, e.i64(k.width)))
                        let target = b.add(planeBase, b.add(b.mul(oy, e.i64(k.outputWidth)), left))
                        if a.stride[1] == 1 {
                            let count = b.sub(endColumn, firstColumn)
                            let vectorEnd = b.sub(endColumn, b.srem(count, e.i64(lanes)))
                            try b.forLoop(firstColumn, vectorEnd, step: lanes) { ix, _ in
                                let into = b.elementPointer(f32, output, b.add(target, ix))
                                let sum = b.fadd(b.load(vector, into, alignment: 4),
                                                 try e.load(.f32, columns, b.add(source, ix), count: lanes))
                                b.store(sum, into, alignment: 4)
                                return []
                            }
                            b.ifThen(b.icmp(LLVMIntSLT, vectorEnd, endColumn)) {
                                let mask = leadingLanes(b, b.sub(endColumn, vectorEnd), of: lanes)
                                let into = b.elementPointer(f32, output, b.add(target, vectorEnd))
                                let from = b.elementPointer(f32, columns, b.add(source, vectorEnd))
                                maskedStore(b, b.fadd(maskedLoad(b, into, mask, vector), maskedLoad(b, from, mask, vector)), into, mask)
                            }
                        } else {
                            try b.forLoop(firstColumn, endColumn) { ix, _ in
                                let into = b.add(target, b.mul(ix, e.i64(a.stride[1])))
                                let sum = b.fadd(try e.load(.f32, output, into, count: 1), try e.load(.f32, columns, b.add(source, ix), count: 1))
                                try e.store(sum, .f32, output, into)
                                return []
                            }
                        }
                        return []
                    }
                    return []
                }
                return []
            }
            return []
        }
    }

    /// The input positions `[first, end)` along one dim whose output position
    /// `i · stride + offset` lies in `[0, outputSize)`.
    private func landingRange(_ e: EmitContext, offset: IRValue, stride: Int, inputSize: Int, outputSize: Int) -> (IRValue, IRValue) {
        let b = e.builder
        /// ⌈n / stride⌉ for n > 0, else 0 (no input position before 0).
        func ceilingOfPositive(_ n: IRValue) -> IRValue {
            b.select(b.icmp(LLVMIntSGT, n, e.i64(0)), b.sdiv(b.add(n, e.i64(stride - 1)), e.i64(stride)), e.i64(0))
        }
        let first = ceilingOfPositive(b.sub(e.i64(0), offset))
        let end = e.minimum(ceilingOfPositive(b.sub(e.i64(outputSize), offset)), e.i64(inputSize))
        return (first, end)
    }

    /// Stores `value` into `count` contiguous floats from `pointer[start]`: vectors, then a masked tail.
    private func fill(_ e: EmitContext, _ pointer: IRValue, from start: IRValue, count: Int, with value: IRValue) {
        let b = e.builder
        let whole = count / lanes * lanes
        let splat = b.splat(value, lanes: lanes)
        b.forLoop(e.i64(0), e.i64(whole), step: lanes) { i, _ in
            b.store(splat, b.elementPointer(e.context.f32, pointer, b.add(start, i)), alignment: 4)
            return []
        }
        if count > whole {
            maskedStore(b, splat, b.elementPointer(e.context.f32, pointer, b.add(start, e.i64(whole))),
                        leadingLanes(e.context, count - whole, of: lanes))
        }
    }
}
