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
                    var best = c.constant(-Double.infinity, c.f32)
                    var sum = c.constant(0.0, c.f32)
                    var valid = e.i64(0), padded = e.i64(0)
                    for ky in 0..<a.kernel[0] {
                        let y = b.add(b.sub(b.mul(oy, e.i64(a.stride[0])), e.i64(a.padding.top)), e.i64(ky * a.dilation[0]))
                        for kx in 0..<a.kernel[1] {
                            let x = b.add(b.sub(b.mul(ox, e.i64(a.stride[1])), e.i64(a.padding.left)), e.i64(kx * a.dilation[1]))
                            let withinPadding = b.and(b.icmp(LLVMIntSLT, y, e.i64(height + a.padding.bottom)),
                                                      b.icmp(LLVMIntSLT, x, e.i64(width + a.padding.right)))
                            let inside = b.and(b.and(b.icmp(LLVMIntSGE, y, e.i64(0)), b.icmp(LLVMIntSLT, y, e.i64(height))),
                                               b.and(b.icmp(LLVMIntSGE, x, e.i64(0)), b.icmp(LLVMIntSLT, x, e.i64(width))))
                            let offset = b.select(inside, b.add(inputPlane, b.add(b.mul(y, e.i64(width)), x)), inputPlane)
                            let value = try e.load(.f32, input, offset, count: 1)
                            best = b.select(inside, b.intrinsic("maximum", [best, value]), best)
                            sum = b.select(inside, b.fadd(sum, value), sum)
                            valid = b.add(valid, b.zeroExtend(inside, c.i64))
                            padded = b.add(padded, b.zeroExtend(withinPadding, c.i64))
                        }
                    }
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
