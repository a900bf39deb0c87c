import Foundation
import Testing
@testable import Codegen

/// `VectorMath.pow` against double `pow` on millions of pairs and against C's `powf` on the
/// special cases of C99 Annex F.
@Suite(.serialized) struct VectorMathPowTests {
    @Test func powIsWithinOneUlp() throws {
        let kernel = try MathKernel(VectorMath.pow)
        var summary = ErrorSummary()
        // Positive bases over the whole float line, each with an exponent that puts the result
        // anywhere from below the smallest denormal to above the largest float.
        let bases = MathInputs.bitPatternSweep(stride: 1021).filter { $0 > 0 && $0.isFinite && $0 != 1 }
        let targets = MathInputs.uniform(bases.count, -106, 90, seed: 1)
        let exponents = zip(bases, targets).map { Float(Double($1) / Foundation.log(Double($0))) }
        summary.merge(measure(kernel, bases, exponents, exact: Foundation.pow))
        // Moderate bases and exponents, as activations and norms use them.
        let count = 1 << 20
        summary.merge(measure(kernel, MathInputs.uniform(count, 0, 4, seed: 2), MathInputs.uniform(count, -30, 30, seed: 3),
                              exact: Foundation.pow))
        // Negative bases with integral exponents (signed results) and non-integral ones (NaN).
        let negative = MathInputs.uniform(count, -3, 0, seed: 4)
        let integral = MathInputs.uniform(count, -40, 40, seed: 5).map { $0.rounded() }
        summary.merge(measure(kernel, negative, integral, exact: Foundation.pow))
        summary.merge(measure(kernel, negative, MathInputs.uniform(count, -4, 4, seed: 6), exact: Foundation.pow))
        print("pow: \(summary)")
        #expect(summary.maxUlps <= 1, "pow: \(summary)")
    }

    /// Every pair of special bases and exponents gives exactly what glibc's `powf` gives.
    @Test func powSpecialCasesMatchC() throws {
        let bases: [Float] = MathInputs.specials + [2, -2, 0.5, -0.5, 3, -3]
        let exponents: [Float] = [0, -0.0, 1, -1, 2, -2, 3, -3, 0.5, -0.5, 2.5, .infinity, -.infinity, .nan,
                                  16_777_216, 16_777_215, -16_777_215, 1e10, -1e10, 1e-10,
                                  .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let pairs = bases.flatMap { x in exponents.map { (x, $0) } }
        let (vector, scalar) = try MathKernel(VectorMath.pow).run(pairs.map(\.0), pairs.map(\.1))
        for (i, (x, y)) in pairs.enumerated() {
            let expected = Foundation.pow(x, y)
            for got in [vector[i], scalar[i]] {
                #expect(sameFloat(got, expected) || ulpError(got, exact: Foundation.pow(Double(x), Double(y))) <= 1,
                        "pow(\(x), \(y)) = \(got), powf gives \(expected)")
            }
        }
    }
}
