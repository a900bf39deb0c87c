import CLLVM

extension VectorMath {
    /// `erf(x)` for a `float` or `<N x float>` value.
    ///
    /// Method, two ranges computed side by side and selected per lane:
    /// - |x| < 1: `x + x·Q(x²)`, `Q` of degree 6 fitted to `erf(x)/x - 1` (minimax, coefficients
    ///   rounded to float one at a time and the rest refitted). Writing the leading `2/√π` as
    ///   `1 + 0.128…` keeps the result within half an ulp of a single fused rounding near 0.
    /// - 1 ≤ |x|: `sign(x)·(1 - erfc|x|)` with `erfc(t) = exp(-t² + S(t - 2.5))`, `S` of degree 8
    ///   fitted to `log erfc(t) + t²` on [1, 4]; |x| is clamped at 4, where erf is 1 in float.
    ///
    /// Measured maximum error: 1 ulp (relative; erf has its only zero at 0, where it is ~1.128·x).
    /// Special values: ±0 → ±0, ±inf → ±1, NaN → NaN; |x| ≥ 3.92 gives exactly ±1.
    public static func erf(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).erf(x) }

    /// Exact GELU, `0.5·x·(1 + erf(x/√2))`, for a `float` or `<N x float>` value.
    ///
    /// Method: `z = x/√2`; for |z| < 1, `1 + erf(z)` from the small-range `erf` polynomial; beyond,
    /// `erfc|z|` from a wider fit (`S` of degree 12 on [1, 10]) gives `1 + erf(z)` as `2 - erfc|z|`
    /// for z > 0 and as `erfc|z|` itself for z < 0, so the negative tail keeps its relative
    /// accuracy instead of cancelling in `1 + erf(z)`.
    ///
    /// Measured maximum error: see docs/VECTOR_MATH.md (ulp for x ≥ -3; in the negative tail the
    /// rounding of x/√2 and of the exponent bound the relative error by about x²·2⁻²⁴).
    /// Special values: ±0 → ±0, +inf → +inf, -inf → NaN (−inf·0, as PyTorch and the reference
    /// interpreter give), NaN → NaN; x < -14.1 gives -0.
    public static func gelu(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).gelu(x) }

    /// Tanh-approximated GELU, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    ///
    /// Method: the identity `0.5·(1 + tanh(u)) = sigmoid(2u)` turns it into `x·sigmoid(2u)`,
    /// computed with the stable `sigmoid`, so the negative tail does not cancel.
    ///
    /// Measured maximum error: see docs/VECTOR_MATH.md. Special values: ±0 → ±0, +inf → +inf,
    /// -inf → NaN (as the formula gives in PyTorch and the reference interpreter), NaN → NaN.
    public static func geluTanh(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).geluTanh(x) }
}

extension MathEmitter {
    /// `erf(x)/x - 1` on [0, 1] as a polynomial in x², highest degree first.
    static let erfSmall = [7.920368079794571e-05, -0.0008030761382542551, 0.005190733820199966,
                           -0.02685512602329254, 0.11283618211746216, -0.3761262893676758,
                           0.12837916612625122]
    /// `log erfc(t) + t²` on [1, 4] as a polynomial in t - 2.5, highest degree first.
    static let erfcNarrow = [1.609567902960407e-06, -1.3288772606756538e-05, 7.74018990341574e-05,
                             -0.00042022770503535867, 0.0021651785355061293, -0.010858418419957161,
                             0.0561063252389431, -0.3526807129383087, -1.556815266609192]
    /// `log erfc(t) + t²` on [1, 10] as a polynomial in t - 5.5, highest degree first.
    static let erfcWide = [9.296946025527664e-12, -1.4919039614813556e-10, 1.0041685261086286e-09,
                           -5.547817316653436e-09, 4.739359837913071e-08, -4.2459097926439426e-07,
                           3.3235901355510578e-06, -2.557169136707671e-05, 0.00020287033112253994,
                           -0.001673221355304122, 0.015083671547472477, -0.17625172436237335,
                           -2.293009042739868]

    /// erf(x) for |x| < 1.
    func erfSmallRange(_ x: IRValue) -> IRValue {
        fma(x, horner(b.fmul(x, x), Self.erfSmall), x)
    }

    /// erfc(t) for t ≥ 1 (t already clamped to the fit's range).
    func erfcTail(_ t: IRValue, center: Double, _ coefficients: [Double]) -> IRValue {
        let s = horner(b.fsub(t, constant(center)), coefficients)
        return exp(fma(b.fneg(t), t, s))
    }

    func erf(_ x: IRValue) -> IRValue {
        let magnitude = abs(x)
        let tail = erfcTail(clampAbove(magnitude, 4), center: 2.5, Self.erfcNarrow)
        let large = copySign(b.fsub(constant(1), tail), x)
        return b.select(compare(magnitude, LLVMRealOLT, 1), erfSmallRange(x), large)
    }

    func gelu(_ x: IRValue) -> IRValue {
        let z = b.fmul(x, constant(0.70710678118654752))
        let magnitude = abs(z)
        let clamped = clampAbove(magnitude, 10)
        // Past 10, erfc is below the smallest denormal: make it exactly 0 so -inf gives NaN.
        let tail = replace(erfcTail(clamped, center: 5.5, Self.erfcWide),
                           where: compare(magnitude, LLVMRealOGT, 10), with: 0)
        let tailSide = b.select(compare(z, LLVMRealOLT, 0), tail, b.fsub(constant(2), tail))
        let onePlusErf = b.select(compare(magnitude, LLVMRealOLT, 1),
                                  b.fadd(constant(1), erfSmallRange(z)), tailSide)
        return b.fmul(b.fmul(x, constant(0.5)), onePlusErf)
    }

    func geluTanh(_ x: IRValue) -> IRValue {
        // v = 2·√(2/π)·(x + 0.044715·x³) = x·(c1 + c2·x²)
        let c1 = 1.5957691216057308
        let v = b.fmul(x, fma(b.fmul(x, x), constant(c1 * 0.044715), constant(c1)))
        let t = exp(b.fneg(abs(v)))
        let numerator = b.select(compare(v, LLVMRealOGE, 0), x, b.fmul(x, t))
        return b.fdiv(numerator, b.fadd(constant(1), t))
    }
}
