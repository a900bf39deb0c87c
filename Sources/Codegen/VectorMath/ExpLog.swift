import CLLVM

extension VectorMath {
    /// `e^x` for a `float` or `<N x float>` value.
    ///
    /// Method (Cephes `expf`): `x = n·ln2 + r` with `n = round(x·log2 e)` (the 1.5·2²³ shifter
    /// trick, so no float-to-int conversion), `r` by a two-constant Cody–Waite reduction,
    /// `e^r ≈ 1 + r + r²·P(r)` with a degree-5 `P` on |r| ≤ ln2/2, then `2^n` applied as two
    /// factors `2^(n>>1)` and `2^(n-(n>>1))` built in the exponent field, so that `n = 128` (x up to
    /// 88.72) and the denormal results (n down to -150) need no special case and are rounded once.
    ///
    /// Maximum error: 0.99 ulp measured, 1.5 ulp asserted by the tests, over all finite inputs,
    /// denormal results included (correctly rounded from the polynomial, no flush to zero).
    /// Special values: x > 88.7228 → +inf (via the clamp at 88.8), x < -103.97 → +0 (clamp at -104),
    /// NaN → NaN, +inf → +inf, -inf → +0.
    public static func exp(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).exp(x) }

    /// The natural logarithm of a `float` or `<N x float>` value.
    ///
    /// Method (Cephes `logf`): denormals are scaled by 2²³ first; the exponent and mantissa are
    /// split by integer arithmetic so that `x = 2^e·m` with m in [√½, √2); then
    /// `log(x) = e·ln2 + f - f²/2 + f³·P(f)` with `f = m - 1` (exact) and a degree-8 `P`, `ln2`
    /// applied as two constants.
    ///
    /// Maximum error: 0.82 ulp measured, 1.5 ulp asserted, over all positive inputs, denormals included.
    /// Special values: x < 0 → NaN, ±0 → -inf, +inf → +inf, NaN → NaN (a quiet NaN, not
    /// necessarily the input's payload).
    public static func log(_ x: IRValue, _ b: IRBuilder) -> IRValue { MathEmitter(b, x.type).log(x) }
}

extension MathEmitter {
    /// Largest and smallest arguments worth computing: beyond them the result is inf or 0 anyway.
    static let expUpperClamp = 88.8
    static let expLowerClamp = -104.0

    func exp(_ x: IRValue) -> IRValue {
        let shifter = 0x1.8p23  // adding it rounds to an integer held in the low mantissa bits
        let clamped = clampBelow(clampAbove(x, Self.expUpperClamp), Self.expLowerClamp)
        let shifted = fma(clamped, constant(1.44269504088896341), constant(shifter))
        let n = b.fsub(shifted, constant(shifter))
        var r = fma(n, constant(-0.693359375), clamped)
        r = fma(n, constant(2.12194440e-4), r)
        let p = horner(r, [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                           1.6666665459e-1, 5.0000001201e-1])
        let y = b.fadd(fma(p, b.fmul(r, r), r), constant(1))
        // n as an integer, in [-150, 128]; each half keeps its power of two normal. NaN gives a
        // meaningless n, but y is NaN then and so is the product.
        let k = b.sub(bits(shifted), bits(constant(shifter)))
        let kHigh = b.ashr(k, integer(1))
        let kLow = b.sub(k, kHigh)
        return b.fmul(b.fmul(y, powerOfTwo(kHigh)), powerOfTwo(kLow))
    }

    func log(_ x: IRValue) -> IRValue {
        let minNormal = 0x1p-126
        // Denormals (and the zero, negative and NaN lanes, which are replaced below) get 23 more
        // exponent bits so the bit split sees a normal number.
        let tiny = compare(x, LLVMRealOLT, minNormal)
        let scaled = b.select(tiny, b.fmul(x, constant(0x1p23)), x)
        let xBits = bits(scaled)
        // Subtracting √½'s bits makes the exponent field step up exactly where m reaches √½.
        let k = b.ashr(b.sub(xBits, integer(0x3f35_04f3)), integer(23))
        let m = float(fromBits: b.sub(xBits, b.shl(k, integer(23))))
        let f = b.fsub(m, constant(1))
        let e = b.signedToFloat(b.sub(k, b.select(tiny, integer(23), integer(0))), type)
        let f2 = b.fmul(f, f)
        let p = horner(f, [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                           1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                           3.3333331174e-1])
        var y = b.fmul(b.fmul(p, f), f2)
        y = fma(e, constant(-2.12194440e-4), y)
        y = fma(f2, constant(-0.5), y)
        var result = fma(e, constant(0.693359375), b.fadd(f, y))
        result = replace(result, where: compare(x, LLVMRealOEQ, 0), with: -.infinity)
        result = replace(result, where: compare(x, LLVMRealULT, 0), with: .nan)
        return replace(result, where: compare(x, LLVMRealOEQ, .infinity), with: .infinity)
    }
}
