import CLLVM

extension VectorMath {
    /// `x^y` (C `powf`) for two `float` or two `<N x float>` values.
    ///
    /// Method: `exp(y·log|x|)` evaluated in double precision lanes, then rounded to float once.
    /// A float-only `exp(y·log x)` loses about |y·ln x|·2⁻²⁴ relatively (hundreds of ulps near
    /// overflow); in double, `log` (atanh series in `s = (m-1)/(m+1)`, m in [√½, √2)) and `exp`
    /// (degree-10 Taylor on |r| ≤ ln2/2) are accurate to ~1e-13, so the final conversion is
    /// almost always the correctly rounded float. This is the approach glibc's `powf` takes.
    /// Cost: on AVX2 each double operation is two instructions; pow is rare in attention models.
    ///
    /// Maximum error: 0.50 ulp measured (correctly rounded on every tested pair), 1 ulp asserted,
    /// denormal results included.
    /// Special values follow C99 Annex F: `pow(x, ±0) = 1` and `pow(1, y) = 1` even for NaN,
    /// `pow(-1, ±inf) = 1`; x < 0 finite with non-integral finite y → NaN; a negative base (−0
    /// and −inf included) with an odd integral y gives the negated result, e.g. `pow(-0, -3) = -inf`;
    /// `pow(±0, y > 0) = ±0/+0`, `pow(±0, y < 0) = ±inf/+inf`; y = ±inf gives 0 or +inf by |x| ≶ 1;
    /// otherwise NaN in either operand → NaN.
    public static func pow(_ x: IRValue, _ y: IRValue, _ b: IRBuilder) -> IRValue {
        precondition(x.type == y.type, "pow needs operands of one type")
        return MathEmitter(b, x.type).pow(x, y)
    }
}

extension MathEmitter {
    func pow(_ x: IRValue, _ y: IRValue) -> IRValue {
        let wide = retyped(b.context.f64)
        let magnitude = abs(x)
        let logMagnitude = wide.logOfMagnitude(b.floatExtend(magnitude, wide.type))
        let product = b.fmul(b.floatExtend(y, wide.type), logMagnitude)
        var result = b.floatTruncate(wide.expInFloatRange(product), type)

        // The sign of a negative base: y odd flips it, y non-integral makes the result NaN.
        let yRounded = roundToInteger(y)
        let yIsIntegral = b.fcmp(LLVMRealOEQ, yRounded, y)  // ±inf count as (even) integers
        let half = b.fmul(y, constant(0.5))
        let yIsOdd = b.and(yIsIntegral, b.fcmp(LLVMRealUNE, roundToInteger(half), half))
        let signBitSet = b.icmp(LLVMIntSLT, bits(x), integer(0))
        result = b.select(b.and(signBitSet, yIsOdd), b.fneg(result), result)
        let finiteNegative = b.and(compare(x, LLVMRealOLT, 0), compare(x, LLVMRealOGT, -.infinity))
        result = replace(result, where: b.and(finiteNegative, b.fcmp(LLVMRealUNE, yRounded, y)), with: .nan)

        // The cases where y·log|x| is 0·inf or NaN but C defines the result as 1.
        let unitMagnitudeInfiniteY = b.and(compare(magnitude, LLVMRealOEQ, 1), compare(abs(y), LLVMRealOEQ, .infinity))
        let one = b.or(b.or(compare(y, LLVMRealOEQ, 0), compare(x, LLVMRealOEQ, 1)), unitMagnitudeInfiniteY)
        return replace(result, where: one, with: 1)
    }

    /// `log(x)` in double lanes for x ≥ 0 from a float: 0 → -inf, inf → inf, NaN → NaN.
    func logOfMagnitude(_ x: IRValue) -> IRValue {
        let xBits = bits(x)
        // Every float magnitude is a normal double, so the bit split needs no denormal case.
        let k = b.ashr(b.sub(xBits, integer(0x3fe6_a09e_667f_3bcd)), integer(52))  // √½'s bits
        let m = float(fromBits: b.sub(xBits, b.shl(k, integer(52))))
        // log m = 2·atanh(s) = 2s + 2s·s²·(1/3 + s²/5 + …), |s| ≤ 0.1716.
        let s = b.fdiv(b.fsub(m, constant(1)), b.fadd(m, constant(1)))
        let s2 = b.fmul(s, s)
        let p = horner(s2, [1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3])
        let twoS = b.fadd(s, s)
        let logM = fma(b.fmul(twoS, s2), p, twoS)
        let result = fma(b.signedToFloat(k, type), constant(0.69314718055994530942), logM)
        let atZero = replace(result, where: compare(x, LLVMRealOEQ, 0), with: -.infinity)
        return b.select(compare(x, LLVMRealUGE, .infinity), x, atZero)
    }

    /// `e^t` in double lanes, accurate where the result is a finite nonzero float; t beyond
    /// [-120, 100] is clamped (the float result is 0 or inf there), NaN stays NaN.
    func expInFloatRange(_ t: IRValue) -> IRValue {
        let shifter = 0x1.8p52
        let clamped = clampBelow(clampAbove(t, 100), -120)
        let shifted = fma(clamped, constant(1.4426950408889634074), constant(shifter))
        let n = b.fsub(shifted, constant(shifter))
        let r = fma(n, constant(-0.69314718055994530942), clamped)
        // Taylor series to r¹⁰/10!: the remainder is below 3e-13 for |r| ≤ ln2/2.
        let factorials = (0...10).map { k in (1...max(k, 1)).reduce(1.0) { $0 * Double($1) } }
        let p = horner(r, factorials.reversed().map { 1 / $0 })
        let k = b.sub(bits(shifted), bits(constant(shifter)))
        return b.fmul(p, powerOfTwo(k))
    }
}
