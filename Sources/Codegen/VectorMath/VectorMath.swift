import CLLVM

/// Inline vector math: `exp`, `log`, `tanh`, `sigmoid`, `silu`, `erf`, `gelu`, `geluTanh`, `pow`
/// emitted as straight-line LLVM IR for a `float` or `<N x float>` operand.
///
/// Nothing here calls libm or the `llvm.exp`/`llvm.log`/`llvm.pow` intrinsics: on x86 those are
/// scalarised into one libm call per lane. Every routine is range reduction, a polynomial in
/// `llvm.fmuladd` steps (Horner), exponent-bit manipulation and selects for the special values,
/// using only intrinsics that lower to single vector instructions (`fabs`, `copysign`, `rint`).
/// The methods, their measured maximum errors and their special values are in each file's doc
/// comment and in `docs/VECTOR_MATH.md`; `Tests/CodegenTests/VectorMathTests.swift` re-measures
/// them over millions of inputs.
///
/// Denormal inputs and outputs are handled exactly (no flushing), as long as the code runs with
/// the default MXCSR (no FTZ/DAZ), which is how Swift and C programs start.
public enum VectorMath {}

/// The builder and operand type a routine emits into, with the constants and idioms they share.
///
/// `type` is a floating-point scalar or vector (`float`, `<N x float>`, and `double` variants for
/// `pow`'s internals); `bitsType` is the integer type of the same width and lane count.
struct MathEmitter {
    let b: IRBuilder
    let type: IRType
    let bitsType: IRType

    init(_ b: IRBuilder, _ type: IRType) {
        let scalarKind = LLVMGetTypeKind(type.scalar.ref)
        precondition(scalarKind == LLVMFloatTypeKind || scalarKind == LLVMDoubleTypeKind,
                     "vector math needs float or double operands")
        self.b = b
        self.type = type
        let width = scalarKind == LLVMFloatTypeKind ? b.context.i32 : b.context.i64
        bitsType = width.vector(type.lanes)
    }

    /// The same lanes with the other float width (`float` ↔ `double`).
    func retyped(_ scalar: IRType) -> MathEmitter { MathEmitter(b, scalar.vector(type.lanes)) }

    // MARK: Constants

    /// A floating constant of `type` (rounded to float for float types).
    func constant(_ value: Double) -> IRValue { b.context.constant(value, type) }

    /// An integer constant of `bitsType`.
    func integer(_ value: Int) -> IRValue { b.context.constant(value, bitsType) }

    // MARK: Arithmetic idioms

    /// `a * b + c` through `llvm.fmuladd`.
    func fma(_ a: IRValue, _ x: IRValue, _ c: IRValue) -> IRValue { b.multiplyAdd(a, x, c) }

    /// Evaluates `c[0]·xⁿ + c[1]·xⁿ⁻¹ + … + c[n]` by Horner's rule, one `fmuladd` per step.
    func horner(_ x: IRValue, _ coefficients: [Double]) -> IRValue {
        precondition(coefficients.count >= 2, "a polynomial needs at least two coefficients")
        var p = constant(coefficients[0])
        for c in coefficients.dropFirst() { p = fma(p, x, constant(c)) }
        return p
    }

    /// Horner's rule with one of two coefficient lists per lane (`first` where `condition`
    /// holds): a piecewise polynomial for the price of one blend per step.
    func horner(_ x: IRValue, choosing condition: IRValue, _ first: [Double], _ second: [Double]) -> IRValue {
        precondition(first.count == second.count, "piecewise coefficients need one length")
        func coefficient(_ k: Int) -> IRValue { b.select(condition, constant(first[k]), constant(second[k])) }
        var p = coefficient(0)
        for k in 1..<first.count { p = fma(p, x, coefficient(k)) }
        return p
    }

    func abs(_ x: IRValue) -> IRValue { b.intrinsic("fabs", [x]) }
    func copySign(_ magnitude: IRValue, _ sign: IRValue) -> IRValue { b.intrinsic("copysign", [magnitude, sign]) }
    func roundToInteger(_ x: IRValue) -> IRValue { b.intrinsic("rint", [x]) }

    /// `min(x, limit)` that lets NaN through (one `minps` on x86).
    func clampAbove(_ x: IRValue, _ limit: Double) -> IRValue {
        let bound = constant(limit)
        return b.select(b.fcmp(LLVMRealOGT, x, bound), bound, x)
    }

    /// `max(x, limit)` that lets NaN through (one `maxps` on x86).
    func clampBelow(_ x: IRValue, _ limit: Double) -> IRValue {
        let bound = constant(limit)
        return b.select(b.fcmp(LLVMRealOLT, x, bound), bound, x)
    }

    /// Lanes where `x` compares to `value` by `predicate`.
    func compare(_ x: IRValue, _ predicate: LLVMRealPredicate, _ value: Double) -> IRValue {
        b.fcmp(predicate, x, constant(value))
    }

    /// `value` where `condition` holds, `x` elsewhere.
    func replace(_ x: IRValue, where condition: IRValue, with value: Double) -> IRValue {
        b.select(condition, constant(value), x)
    }

    // MARK: Bits

    func bits(_ x: IRValue) -> IRValue { b.bitcast(x, bitsType) }
    func float(fromBits x: IRValue) -> IRValue { b.bitcast(x, type) }

    /// Exponent shift and bias of the IEEE format (23 and 127 for float, 52 and 1023 for double).
    var mantissaBits: Int { bitsType.integerWidth == 32 ? 23 : 52 }
    var exponentBias: Int { bitsType.integerWidth == 32 ? 127 : 1023 }

    /// `2^k` for an integer vector `k` inside the normal exponent range, built in the exponent field.
    func powerOfTwo(_ k: IRValue) -> IRValue {
        float(fromBits: b.shl(b.add(k, integer(exponentBias)), integer(mantissaBits)))
    }
}
