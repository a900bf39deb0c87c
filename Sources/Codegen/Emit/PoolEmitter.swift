import CLLVM
import GraphIR

/// Max and average pooling over NCHW planes, one plane per task, one window per output point.
/// Semantics match the reference: max ignores padding and propagates NaN; average divides by the
/// padded window (count_include_pad) or by the taps inside the input.
struct PoolEmitter {
    let kernel: PoolKernel

    var taskCount: Int { kernel.planes }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let a = kernel.attributes
        let input = e.pointer(to: kernel.input), output = e.pointer(to: kernel.output)
        let (height, width) = (kernel.height, kernel.width)
        try b.forLoop(begin, end) { plane, _ in
            let inputPlane = b.mul(plane, e.i64(height * width))
            let outputPlane = b.mul(plane, e.i64(kernel.outputHeight * kernel.outputWidth))
            try b.forLoop(e.i64(0), e.i64(kernel.outputHeight)) { oy, _ in
                try b.forLoop(e.i64(0), e.i64(kernel.outputWidth)) { ox, _ in
                    // Window loops stay loops: a global pooling window can hold thousands of taps.
                    let initial = [c.constant(-Double.infinity, c.f32), c.constant(0.0, c.f32), e.i64(0), e.i64(0)]
                    let totals = try b.forLoop(e.i64(0), e.i64(a.kernel[0]), carrying: initial) { ky, acc in
                        let y = b.add(b.sub(b.mul(oy, e.i64(a.stride[0])), e.i64(a.padding.top)), b.mul(ky, e.i64(a.dilation[0])))
                        return try b.forLoop(e.i64(0), e.i64(a.kernel[1]), carrying: acc) { kx, acc in
                            let x = b.add(b.sub(b.mul(ox, e.i64(a.stride[1])), e.i64(a.padding.left)), b.mul(kx, e.i64(a.dilation[1])))
                            let withinPadding = b.and(b.icmp(LLVMIntSLT, y, e.i64(height + a.padding.bottom)),
                                                      b.icmp(LLVMIntSLT, x, e.i64(width + a.padding.right)))
                            let inside = b.and(b.and(b.icmp(LLVMIntSGE, y, e.i64(0)), b.icmp(LLVMIntSLT, y, e.i64(height))),
                                               b.and(b.icmp(LLVMIntSGE, x, e.i64(0)), b.icmp(LLVMIntSLT, x, e.i64(width))))
                            let offset = b.select(inside, b.add(inputPlane, b.add(b.mul(y, e.i64(width)), x)), inputPlane)
                            let value = try e.load(.f32, input, offset, count: 1)
                            return [b.select(inside, b.intrinsic("maximum", [acc[0], value]), acc[0]),
                                    b.select(inside, b.fadd(acc[1], value), acc[1]),
                                    b.add(acc[2], b.zeroExtend(inside, c.i64)),
                                    b.add(acc[3], b.zeroExtend(withinPadding, c.i64))]
                        }
                    }
                    let (best, sum, valid, padded) = (totals[0], totals[1], totals[2], totals[3])
                    let result: IRValue
                    switch kernel.kind {
                    case .max: result = best
                    case .average:
                        let divisor = a.countIncludePad ? padded : b.select(b.icmp(LLVMIntEQ, valid, e.i64(0)), e.i64(1), valid)
                        result = b.fdiv(sum, b.signedToFloat(divisor, c.f32))
                    }
                    try e.store(result, .f32, output, b.add(outputPlane, b.add(b.mul(oy, e.i64(kernel.outputWidth)), ox)))
                    return []
                }
                return []
            }
            return []
        }
    }
}
