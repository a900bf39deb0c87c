import CLLVM

extension VectorMath {
    /// `tanh(x)` for a `float` or `<N x float>` value.
    ///
    /// Method: for |x| < 0.625, `x + x³·P(x²)` with Cephes' degree-4 `P` (no cancellation near 0);
    /// beyond, `sign(x)·(1 - 2/(e^(2|x|) + 1))` with the inline `exp`. Both are computed and one is
    /// selected per lane.
    ///
    /// Measured maximum error: 2 ulp. Special values: ±0 → ±0, ±inf → ±1 (and every |x| ≥ 9.01
    /// gives exactly ±1), NaN → NaN.
    public static func tanh(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).tanh(x) }

    /// The logistic function `1 / (1 + e^-x)` for a `float` or `<N x float>` value.
    ///
    /// Method: with `t = e^-|x|` (never overflows), `1/(1 + t)` for x ≥ 0 and `t/(1 + t)` for
    /// x < 0, so large negative x keeps its tiny (down to denormal) result instead of 1/inf.
    ///
    /// Measured maximum error: 2 ulp. Special values: +inf → 1, -inf → +0, NaN → NaN.
    public static func sigmoid(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).sigmoid(x) }

    /// `x·sigmoid(x)` (SiLU, swish) for a `float` or `<N x float>` value.
    ///
    /// Method: `x` times the `sigmoid` above. Measured maximum error: 3 ulp.
    /// Special values: +inf → +inf, -inf → NaN (−inf·0, as PyTorch and the reference interpreter
    /// give), NaN → NaN.
    public static func silu(_ x: IRValue, _ b: IRBuilder) -> IRValue {
        let m = MathEmitter(b, x.type)
        return b.fmul(x, m.sigmoid(x))
    }
}

extension MathEmitter {
    func tanh(_ x: IRValue) -> IRValue {
        let x2 = b.fmul(x, x)
        let p = horner(x2, [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
                            -3.33332819422e-1])
        let small = fma(b.fmul(p, x2), x, x)
        let magnitude = abs(x)
        // exp(2|x|) = inf for |x| > 44 gives exactly 1; NaN stays NaN through exp and the division.
        let e = exp(b.fadd(magnitude, magnitude))
        let large = b.fsub(constant(1), b.fdiv(constant(2), b.fadd(e, constant(1))))
        return b.select(compare(magnitude, LLVMRealOLT, 0.625), small, copySign(large, x))
    }

    func sigmoid(_ x: IRValue) -> IRValue {
        let t = exp(b.fneg(abs(x)))
        let numerator = b.select(compare(x, LLVMRealOGE, 0), constant(1), t)
        return b.fdiv(numerator, b.fadd(constant(1), t))
    }
}
