import CLLVM
import Foundation
import Testing
@testable import Codegen

/// Accuracy and special values of the inline vector math, against double-precision references.
///
/// Every function is measured over a sweep of the whole float line (every 1021st bit pattern,
/// 4.2 million inputs, both signs) plus dense windows where it is delicate, through the
/// `<8 x float>` loop and the scalar loop. The bounds asserted here are the ones in the doc
/// comments and in docs/VECTOR_MATH.md; the measured maxima are printed.
@Suite(.serialized) struct VectorMathTests {
    static let sweep = MathInputs.bitPatternSweep(stride: 1021)

    /// Measures `kernel` on every input set and expects the worst error to stay within `bound` ulp.
    func expectAccuracy(_ name: String, _ kernel: MathKernel, _ inputSets: [[Float]], bound: Double,
                        where include: (Float) -> Bool = { _ in true }, exact: (Double) -> Double) {
        var summary = ErrorSummary()
        for inputs in inputSets { summary.merge(measure(kernel, inputs, where: include, exact: exact)) }
        print("\(name): \(summary)")
        #expect(summary.maxUlps <= bound, "\(name): \(summary)")
    }

    /// Expects each `(input, result)` case exactly (NaN for NaN, zeros with their sign).
    func expectSpecialValues(_ emit: @escaping (IRValue, IRBuilder) -> IRValue, _ cases: [(Float, Float)]) throws {
        let mismatches = specialMismatches(try MathKernel(emit), cases)
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    // MARK: exp and log

    @Test func expIsWithinOneAndAHalfUlp() throws {
        let kernel = try MathKernel(VectorMath.exp)
        // The overflow threshold, the underflow threshold, where results turn denormal, and 0.
        let windows = [88.72283, -103.97208, -87.33655, 0].map { MathInputs.around($0) }
        expectAccuracy("exp", kernel, [Self.sweep, MathInputs.valueRange(-104, 89, count: 1 << 20)] + windows,
                       bound: 1.5, exact: Foundation.exp)
    }

    @Test func expSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 1), (-0.0, 1), (.infinity, .infinity), (-.infinity, 0), (.nan, .nan),
            (.greatestFiniteMagnitude, .infinity), (-.greatestFiniteMagnitude, 0), (89, .infinity), (-104, 0),
            (.leastNonzeroMagnitude, 1), (-.leastNonzeroMagnitude, 1),
        ]
        try expectSpecialValues(VectorMath.exp, cases)
    }

    @Test func logIsWithinOneAndAHalfUlp() throws {
        let kernel = try MathKernel(VectorMath.log)
        let denormals = MathInputs.bitPatternRange(.leastNonzeroMagnitude, .leastNormalMagnitude, count: 1 << 18)
        let windows = [1, Float(0.5).squareRoot(), .leastNormalMagnitude].map { MathInputs.around($0) }
        expectAccuracy("log", kernel, [Self.sweep, MathInputs.bitPatternRange(0.5, 2, count: 1 << 20), denormals] + windows,
                       bound: 1.5, exact: Foundation.log)
    }

    @Test func logSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, -.infinity), (-0.0, -.infinity), (1, 0), (-1, .nan), (-.infinity, .nan), (.infinity, .infinity),
            (.nan, .nan), (-.leastNonzeroMagnitude, .nan), (-.greatestFiniteMagnitude, .nan),
        ]
        try expectSpecialValues(VectorMath.log, cases)
    }

    // MARK: tanh, sigmoid, silu

    @Test func tanhIsWithinTwoUlp() throws {
        let kernel = try MathKernel(VectorMath.tanh)
        let windows = [0.625, -0.625, 9.01, 1e-4].map { MathInputs.around($0) }
        expectAccuracy("tanh", kernel, [Self.sweep, MathInputs.valueRange(-10, 10, count: 1 << 20)] + windows,
                       bound: 2, exact: Foundation.tanh)
    }

    @Test func tanhSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 0), (-0.0, -0.0), (.infinity, 1), (-.infinity, -1), (.nan, .nan), (9.1, 1), (-9.1, -1),
            (.greatestFiniteMagnitude, 1), (.leastNonzeroMagnitude, .leastNonzeroMagnitude),
            (-.leastNonzeroMagnitude, -.leastNonzeroMagnitude), (.leastNormalMagnitude, .leastNormalMagnitude),
        ]
        try expectSpecialValues(VectorMath.tanh, cases)
    }

    @Test func sigmoidIsWithinThreeUlp() throws {
        let kernel = try MathKernel(VectorMath.sigmoid)
        expectAccuracy("sigmoid", kernel, [Self.sweep, MathInputs.valueRange(-110, 20, count: 1 << 20),
                                           MathInputs.around(0), MathInputs.around(-87.33655)],
                       bound: 3) { 1 / (1 + Foundation.exp(-$0)) }
    }

    @Test func sigmoidSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 0.5), (-0.0, 0.5), (.infinity, 1), (-.infinity, 0), (.nan, .nan), (20, 1), (-200, 0),
            (.greatestFiniteMagnitude, 1), (-.greatestFiniteMagnitude, 0),
        ]
        try expectSpecialValues(VectorMath.sigmoid, cases)
    }

    /// Below -87.3 sigmoid's result is denormal, so silu's relative error is only bounded where
    /// x ≥ -87.3; further down its absolute error stays below 2⁻¹⁴⁸·|x|.
    @Test func siluIsWithinFourUlp() throws {
        let kernel = try MathKernel(VectorMath.silu)
        let silu: (Double) -> Double = { $0 / (1 + Foundation.exp(-$0)) }
        expectAccuracy("silu", kernel, [Self.sweep, MathInputs.valueRange(-87.3, 20, count: 1 << 20)],
                       bound: 4, where: { !($0 < -87.3) }, exact: silu)
        let (vector, scalar) = kernel.run(MathInputs.valueRange(-110, -87.3, count: 1 << 16))
        let inputs = MathInputs.valueRange(-110, -87.3, count: 1 << 16)
        let worst = inputs.indices.map { i in
            max(Swift.abs(Double(vector[i]) - silu(Double(inputs[i]))), Swift.abs(Double(scalar[i]) - silu(Double(inputs[i]))))
                / (Double(Float.leastNonzeroMagnitude) * Swift.abs(Double(inputs[i])))
        }.max()!
        #expect(worst <= 2, "silu's denormal tail: error \(worst)·2⁻¹⁴⁹·|x|")
    }

    @Test func siluSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 0), (-0.0, -0.0), (.infinity, .infinity), (-.infinity, .nan), (.nan, .nan), (20, 20), (-200, -0.0),
        ]
        try expectSpecialValues(VectorMath.silu, cases)
    }

    // MARK: erf and the GELUs

    @Test func erfIsWithinOneAndAHalfUlp() throws {
        let kernel = try MathKernel(VectorMath.erf)
        let windows = [1, -1, 3.92, 1e-3].map { MathInputs.around($0) }
        expectAccuracy("erf", kernel, [Self.sweep, MathInputs.valueRange(-5, 5, count: 1 << 20)] + windows,
                       bound: 1.5, exact: Foundation.erf)
    }

    @Test func erfSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 0), (-0.0, -0.0), (.infinity, 1), (-.infinity, -1), (.nan, .nan), (4, 1), (-4, -1),
            (.greatestFiniteMagnitude, 1), (.leastNonzeroMagnitude, .leastNonzeroMagnitude),
            (-.leastNonzeroMagnitude, -.leastNonzeroMagnitude),
        ]
        try expectSpecialValues(VectorMath.erf, cases)
    }

    /// The bound holds wherever the result is a normal float (x ≥ -13.1), the negative tail included.
    @Test func geluIsWithinSixUlp() throws {
        let kernel = try MathKernel(VectorMath.gelu)
        // |z| = 1 (range switch) and t = 4 (piece switch) are at x = -√2 and -4√2.
        let root2 = Float(2).squareRoot()
        let windows = [-root2, root2, -4 * root2].map { MathInputs.around($0) }
        expectAccuracy("gelu", kernel, [Self.sweep, MathInputs.valueRange(-13, 5, count: 1 << 20)] + windows,
                       bound: 6, where: { !($0 < -13) }) { 0.5 * $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) }
    }

    @Test func geluSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 0), (-0.0, -0.0), (.infinity, .infinity), (-.infinity, .nan), (.nan, .nan), (20, 20), (-20, -0.0),
            (.greatestFiniteMagnitude, .greatestFiniteMagnitude),
        ]
        try expectSpecialValues(VectorMath.gelu, cases)
    }

    /// Compared with `x·sigmoid(2u)` in double: the same function as `0.5·x·(1 + tanh(u))` without
    /// the reference itself cancelling in the negative tail.
    @Test func geluTanhIsWithinFiveUlp() throws {
        let kernel = try MathKernel(VectorMath.geluTanh)
        let geluTanh: (Double) -> Double = { x in
            x / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
        expectAccuracy("geluTanh", kernel, [Self.sweep, MathInputs.valueRange(-10, 5, count: 1 << 20)],
                       bound: 5, where: { !($0 < -10) }, exact: geluTanh)
    }

    @Test func geluTanhSpecialValues() throws {
        let cases: [(Float, Float)] = [
            (0, 0), (-0.0, -0.0), (.infinity, .infinity), (-.infinity, .nan), (.nan, .nan), (20, 20), (-20, -0.0),
            (.greatestFiniteMagnitude, .greatestFiniteMagnitude),
        ]
        try expectSpecialValues(VectorMath.geluTanh, cases)
    }
}

/// What the emitted code is made of, and that its vector width does not change its results.
@Suite struct VectorMathCodeTests {
    static let unaryFunctions: [(String, (IRValue, IRBuilder) -> IRValue)] = [
        ("exp", VectorMath.exp), ("log", VectorMath.log), ("tanh", VectorMath.tanh),
        ("sigmoid", VectorMath.sigmoid), ("silu", VectorMath.silu), ("erf", VectorMath.erf),
        ("gelu", VectorMath.gelu), ("geluTanh", VectorMath.geluTanh),
    ]

    /// The callees of every `call` in LLVM IR text, e.g. `llvm.fmuladd.v8f32`.
    static func callees(_ ir: String) -> Set<String> {
        var names = Set<String>()
        for line in ir.split(separator: "\n") where line.contains(" call ") {
            guard let at = line.firstIndex(of: "@"), let open = line[at...].firstIndex(of: "(") else { continue }
            names.insert(String(line[line.index(after: at)..<open]))
        }
        return names
    }

    @Test func vectorExpCallsNeitherLibmNorLLVMExp() throws {
        let kernel = try MathKernel(VectorMath.exp)
        let calls = Self.callees(kernel.irText)
        #expect(calls.contains("llvm.fmuladd.v8f32"))
        for name in calls { #expect(!name.contains("exp"), "exp emitted a call to \(name)") }
        #expect(!kernel.irText.contains("expf"))
        #expect(!kernel.optimizedIRText.contains("expf") && !kernel.optimizedIRText.contains("llvm.exp"))
    }

    /// The emitted code calls only intrinsics that are single instructions on x86, and the
    /// optimised code no libm function and no transcendental intrinsic.
    @Test func everyFunctionCallsOnlyCheapIntrinsics() throws {
        let emitted = ["llvm.fmuladd.", "llvm.fabs.", "llvm.copysign.", "llvm.rint.", "llvm.smax.i64"]  // smax: the test loop
        let transcendental = ["exp", "log", "pow", "sin", "cos", "tan", "erf", "sqrt"]
        var kernels = try Self.unaryFunctions.map { ($0.0, try MathKernel($0.1)) }
        kernels.append(("pow", try MathKernel(VectorMath.pow)))
        for (name, kernel) in kernels {
            for callee in Self.callees(kernel.irText) {
                #expect(emitted.contains { callee.hasPrefix($0) }, "\(name) emits a call to \(callee)")
            }
            for callee in Self.callees(kernel.optimizedIRText) {
                let intrinsic = callee.hasPrefix("llvm.") ? callee.dropFirst(5) : nil
                #expect(intrinsic.map { i in !transcendental.contains { i.hasPrefix($0) } } ?? false,
                        "\(name) calls \(callee) after optimisation")
            }
        }
    }

    /// `<4 x float>` and `<16 x float>` give bit-identical results to `<8 x float>`.
    @Test(arguments: [4, 16]) func laneCountDoesNotChangeResults(lanes: Int) throws {
        let inputs = MathInputs.bitPatternSweep(stride: 65_537) + MathInputs.uniform(1 << 16, -20, 20, seed: 7)
            + MathInputs.specials
        for (name, emit) in Self.unaryFunctions {
            let eight = try MathKernel(lanes: 8, emit).run(inputs).vector
            let other = try MathKernel(lanes: lanes, emit).run(inputs).vector
            let differing = inputs.indices.filter { !sameFloat(eight[$0], other[$0]) }
            #expect(differing.isEmpty, "\(name) with \(lanes) lanes differs at \(differing.prefix(3).map { inputs[$0] })")
        }
    }
}
