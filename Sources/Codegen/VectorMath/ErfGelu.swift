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
    /// Maximum error: 0.94 ulp measured, 1.5 ulp asserted, relative everywhere (erf's only zero is
    /// at 0, where it is ~1.128·x and the fused `x + x·Q` keeps full relative accuracy, denormals too).
    /// Special values: ±0 → ±0, ±inf → ±1, NaN → NaN; |x| ≥ 3.92 gives exactly ±1.
    public static func erf(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).erf(x) }

    /// Exact GELU, `0.5·x·(1 + erf(x/√2))`, for a `float` or `<N x float>` value.
    ///
    /// Method: `z = x/√2` kept as a float pair; for |z| < 1, `1 + erf(z)` from the small-range
    /// `erf` polynomial as `(1 + z) + z·Q(z²)`; beyond, `erfc|z| = exp(-t² + S(t))` with `S` in two
    /// fitted pieces (degree 9 on [1, 4] and on [4, 10]) and the exponent's rounding error carried
    /// as `exp(q)·(1 + qLow)`. `1 + erf(z)` is then `2 - erfc|z|` for z > 0 and `erfc|z|` itself for
    /// z < 0, so the negative tail keeps its relative accuracy instead of cancelling.
    ///
    /// Maximum error: 5.2 ulp measured, 6 ulp asserted, relative, wherever the result is a normal
    /// float (x ≥ -13.1), the whole negative tail included; 2.4 ulp for x ≥ 0.
    /// Special values: ±0 → ±0, +inf → +inf, -inf → NaN (−inf·0, as PyTorch and the reference
    /// interpreter give), NaN → NaN; x < -14.1 gives -0.
    public static func gelu(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).gelu(x) }

    /// Tanh-approximated GELU, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    ///
    /// Method: the identity `0.5·(1 + tanh(u)) = sigmoid(2u)` turns it into `x·sigmoid(2u)`,
    /// computed like `silu`, so the negative tail does not cancel; `2u` is kept as a float pair
    /// (sigmoid's relative sensitivity to it is |2u| there) and its low part applied to e^-|2u|.
    ///
    /// Maximum error: 3.8 ulp measured, 5 ulp asserted, relative, wherever the result is a normal
    /// float (x ≥ -10). Special values: ±0 → ±0, +inf → +inf,
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
    /// `log erfc(t) + t²` on [1, 4] as a polynomial in t - 2.5, one degree more than `erfcNarrow`.
    static let erfcNear = [-6.087189774461876e-08, 1.633098463571514e-06, -1.2996981240576133e-05,
                           7.730151992291212e-05, -0.00042068216134794056, 0.0021653082221746445,
                           -0.010858170688152313, 0.05610627681016922, -0.3526807427406311,
                           -1.556815266609192]
    /// `log erfc(t) + t²` on [4, 10] as a polynomial in t - 7.
    static let erfcFar = [-1.5658082608283053e-09, 1.3623419725661279e-08, -9.936306355484703e-08,
                          9.421250979357865e-07, -8.975626769824885e-06, 8.609024371253327e-05,
                          -0.000866133370436728, 0.00962754711508751, -0.14008018374443054,
                          -2.528231143951416]

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
        // z = x/√2 as zHigh + zLow: in the negative tail erfc's relative sensitivity to z is
        // about 2z², so the rounding of z alone would cost ~2z² ulp.
        let inverseRoot2 = 0.70710678118654752
        let inverseRoot2Float = Double(Float(inverseRoot2))
        let zHigh = b.fmul(x, constant(inverseRoot2Float))
        let zLow = fma(x, constant(inverseRoot2 - inverseRoot2Float), fma(x, constant(inverseRoot2Float), b.fneg(zHigh)))
        let magnitude = abs(zHigh)

        // 1 + erf(z) for |z| < 1: 1 + z is exact where it cancels (z in [-1, -0.5]), so one rounding.
        let near = fma(zHigh, horner(b.fmul(zHigh, zHigh), Self.erfSmall), b.fadd(constant(1), zHigh))

        // erfc|z| = exp(q) with q = S(t) - t² - 2·zHigh·zLow, t = |zHigh|: q's rounding error
        // (|q| up to 100) is carried separately and applied as exp(qHigh)·(1 + qLow).
        // Two fitted pieces, chosen per lane; t - 2.5 and t - 7 are exact on their pieces.
        let t = clampAbove(magnitude, 10)
        let nearPiece = compare(t, LLVMRealOLT, 4)
        let u = b.fsub(t, b.select(nearPiece, constant(2.5), constant(7)))
        let s = horner(u, choosing: nearPiece, Self.erfcNear, Self.erfcFar)
        let square = b.fmul(t, t)
        let squareError = fma(t, t, b.fneg(square))
        let qHigh = b.fsub(s, square)
        let qRounding = b.fsub(s, b.fadd(qHigh, square))  // exact: t² ≥ |S(t)| on [1, 10]
        let qLow = fma(b.fmul(zHigh, constant(-2)), zLow, b.fsub(qRounding, squareError))
        let e = exp(qHigh)
        // Past 10, erfc is below the smallest denormal: make it exactly 0 so -inf gives NaN.
        let tail = replace(fma(e, qLow, e), where: compare(magnitude, LLVMRealOGT, 10), with: 0)
        let far = b.select(compare(zHigh, LLVMRealOLT, 0), tail, b.fsub(constant(2), tail))

        let onePlusErf = b.select(compare(magnitude, LLVMRealOLT, 1), near, far)
        return b.fmul(b.fmul(x, constant(0.5)), onePlusErf)
    }

    func geluTanh(_ x: IRValue) -> IRValue {
        // v = 2u = x·w with w = c1 + c2·x², kept as vHigh + vLow: sigmoid's relative sensitivity
        // to v is |v| in the negative tail, so v's rounding alone would cost ~|v| ulp.
        let c1 = 1.5957691216057308  // 2·√(2/π)
        let c2 = c1 * 0.044715
        let c1High = Double(Float(c1)), c2High = Double(Float(c2))
        let x2 = b.fmul(x, x)
        let x2Error = fma(x, x, b.fneg(x2))
        let product = b.fmul(constant(c2High), x2)
        let productError = fma(constant(c2High), x2, b.fneg(product))
        let w = b.fadd(constant(c1High), product)
        let wError = twoSumError(constant(c1High), product, sum: w)
        // Everything w lost: the two roundings, x²'s error and the constants' float error.
        let wLow = fma(constant(c2 - c2High), x2, fma(constant(c2High), x2Error,
                                                       b.fadd(b.fadd(wError, productError), constant(c1 - c1High))))
        let vHigh = b.fmul(x, w)
        let vLow = fma(x, wLow, fma(x, w, b.fneg(vHigh)))
        // t = e^-|v| = e^-|vHigh|·(1 - sign(v)·vLow). Past |v| = 104, t is 0 and the correction
        // may be inf or NaN (x² or v overflowing), so it is dropped there.
        let magnitude = abs(vHigh)
        let t0 = exp(b.fneg(magnitude))
        let correction = b.fneg(b.fmul(vLow, copySign(constant(1), vHigh)))
        let t = fma(t0, replace(correction, where: compare(magnitude, LLVMRealUGE, 104), with: 0), t0)
        let numerator = b.select(compare(vHigh, LLVMRealOGE, 0), x, b.fmul(x, t))
        return b.fdiv(numerator, b.fadd(constant(1), t))
    }

    /// The rounding error of `sum = a + b` (Knuth's TwoSum: exact for any magnitudes).
    func twoSumError(_ a: IRValue, _ c: IRValue, sum: IRValue) -> IRValue {
        let cVirtual = b.fsub(sum, a)
        let aVirtual = b.fsub(sum, cVirtual)
        return b.fadd(b.fsub(a, aVirtual), b.fsub(c, cVirtual))
    }
}
