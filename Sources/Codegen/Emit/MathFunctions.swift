import CLLVM

/// The transcendental functions kernels call. TEMPORARY: LLVM intrinsics (scalarised on x86)
/// until the polynomial VectorMath lands; then every function forwards to it.
enum MathFunctions {
    static func exp(_ x: IRValue, _ b: IRBuilder) -> IRValue { b.intrinsic("exp", [x]) }
    static func log(_ x: IRValue, _ b: IRBuilder) -> IRValue { b.intrinsic("log", [x]) }
    static func tanh(_ x: IRValue, _ b: IRBuilder) -> IRValue {
        let e = exp(b.fmul(x, b.context.constant(2.0, x.type)), b)
        let one = b.context.constant(1.0, x.type)
        return b.fsub(one, b.fdiv(b.context.constant(2.0, x.type), b.fadd(e, one)))
    }
    static func sigmoid(_ x: IRValue, _ b: IRBuilder) -> IRValue {
        let one = b.context.constant(1.0, x.type)
        return b.fdiv(one, b.fadd(one, exp(b.fneg(x), b)))
    }
    static func silu(_ x: IRValue, _ b: IRBuilder) -> IRValue { b.fmul(x, sigmoid(x, b)) }
    static func erf(_ x: IRValue, _ b: IRBuilder) -> IRValue { x }
    static func gelu(_ x: IRValue, _ b: IRBuilder) -> IRValue { x }
    static func geluTanh(_ x: IRValue, _ b: IRBuilder) -> IRValue { x }
    static func pow(_ x: IRValue, _ y: IRValue, _ b: IRBuilder) -> IRValue { b.intrinsic("pow", [x, y]) }
}
