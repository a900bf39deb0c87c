import CLLVM
import Foundation
@testable import Codegen

/// A JIT-compiled kernel that applies one `VectorMath` routine over arrays.
///
/// The kernel is `void f(const float* x, float* y, int64 n)` (`(x, y, out, n)` for two operands):
/// an `<N x float>` loop over the multiple-of-N prefix and a scalar loop for the tail. A second
/// function runs the scalar form over everything, so both types of emitted code get measured.
final class MathKernel {
    typealias Unary = @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int64) -> Void
    typealias Binary = @convention(c) (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int64) -> Void

    private let session: JITSession
    private let vectorFunction: UnsafeRawPointer
    private let scalarFunction: UnsafeRawPointer
    let arity: Int
    /// The module's LLVM IR as emitted, and after the O3 pipeline.
    let irText: String
    let optimizedIRText: String

    /// A kernel for a one-operand routine.
    convenience init(lanes: Int = 8, _ emit: @escaping (IRValue, IRBuilder) -> IRValue) throws {
        try self.init(lanes: lanes, arity: 1) { operands, b in emit(operands[0], b) }
    }

    /// A kernel for a two-operand routine.
    convenience init(lanes: Int = 8, _ emit: @escaping (IRValue, IRValue, IRBuilder) -> IRValue) throws {
        try self.init(lanes: lanes, arity: 2) { operands, b in emit(operands[0], operands[1], b) }
    }

    private init(lanes: Int, arity: Int, _ emit: ([IRValue], IRBuilder) -> IRValue) throws {
        self.arity = arity
        session = try JITSession()
        let context = IRContext(forJIT: ())
        let module = IRModule(name: "vector_math_test", context: context)
        module.setTarget(triple: session.triple, dataLayout: session.dataLayout)
        Self.define("apply_vector", in: module, lanes: lanes, arity: arity, emit)
        Self.define("apply_scalar", in: module, lanes: 1, arity: arity, emit)
        try module.verify()
        irText = module.text
        try TargetMachine(.host()).optimize(module)
        optimizedIRText = module.text
        try session.add(module)
        vectorFunction = try session.lookup("apply_vector")
        scalarFunction = try session.lookup("apply_scalar")
    }

    private static func define(_ name: String, in module: IRModule, lanes: Int, arity: Int,
                               _ emit: ([IRValue], IRBuilder) -> IRValue) {
        let context = module.context
        let pointers = Array(repeating: context.pointer, count: arity + 1)
        let function = module.function(name, context.function(returning: context.void, pointers + [context.i64]))
        let b = IRBuilder(module: module)
        b.begin(function)
        let n = function.parameter(arity + 1)
        func body(_ index: IRValue, _ type: IRType) {
            let operands = (0..<arity).map { k in
                b.load(type, b.elementPointer(context.f32, function.parameter(k), index), alignment: 4)
            }
            b.store(emit(operands, b), b.elementPointer(context.f32, function.parameter(arity), index), alignment: 4)
        }
        let vectorEnd = lanes == 1 ? n : b.and(n, context.i64(-lanes))
        b.forLoop(context.i64(0), vectorEnd, step: lanes) { i, _ in body(i, context.f32.vector(lanes)); return [] }
        if lanes > 1 {
            b.forLoop(vectorEnd, n) { i, _ in body(i, context.f32); return [] }
        }
        b.returnVoid()
    }

    /// Applies the routine with the vector loop (plus scalar tail) and with the scalar loop alone.
    func run(_ x: [Float], _ y: [Float] = []) -> (vector: [Float], scalar: [Float]) {
        precondition(arity == 1 || y.count == x.count, "a two-operand kernel needs as many y as x")
        var vector = [Float](repeating: 0, count: x.count), scalar = vector
        if arity == 1 {
            unsafeBitCast(vectorFunction, to: Unary.self)(x, &vector, Int64(x.count))
            unsafeBitCast(scalarFunction, to: Unary.self)(x, &scalar, Int64(x.count))
        } else {
            unsafeBitCast(vectorFunction, to: Binary.self)(x, y, &vector, Int64(x.count))
            unsafeBitCast(scalarFunction, to: Binary.self)(x, y, &scalar, Int64(x.count))
        }
        return (vector, scalar)
    }
}

/// Distance of a float result from the exact (double) value in units in the last place of the
/// exact value's binade (2⁻¹⁴⁹ in the denormal range). Where the result or the rounded exact value
/// is infinite they are compared by position in float order, so FLT_MAX against an exact value
/// that rounds to inf is 1 ulp.
func ulpError(_ result: Float, exact: Double) -> Double {
    if exact.isNaN { return result.isNaN ? 0 : .infinity }
    if result.isNaN { return .infinity }
    let rounded = Float(exact)
    if rounded.isInfinite || result.isInfinite { return Double(orderedDistance(result, rounded)) }
    if exact == 0 { return Double(result.magnitude) / Double(Float.leastNonzeroMagnitude) }
    let ulp = Double(sign: .plus, exponent: max(exact.exponent - 23, -149), significand: 1)
    return Swift.abs(Double(result) - exact) / ulp
}

/// How many floats lie between two floats (0 for equal values and for ±0).
func orderedDistance(_ a: Float, _ b: Float) -> Int64 {
    func key(_ f: Float) -> Int64 {
        let magnitude = Int64(f.bitPattern & 0x7fff_ffff)
        return f.sign == .minus ? -magnitude : magnitude
    }
    return Swift.abs(key(a) - key(b))
}

/// The worst error seen over a set of inputs, and where.
struct ErrorSummary: CustomStringConvertible {
    var maxUlps = 0.0
    var worstInput: [Float] = []
    var worstResult: Float = 0
    var worstExact = 0.0
    var count = 0

    mutating func record(_ result: Float, exact: Double, input: [Float]) {
        count += 1
        let error = ulpError(result, exact: exact)
        if error > maxUlps {
            maxUlps = error
            worstInput = input
            worstResult = result
            worstExact = exact
        }
    }

    mutating func merge(_ other: ErrorSummary) {
        if other.maxUlps > maxUlps { self = ErrorSummary(maxUlps: other.maxUlps, worstInput: other.worstInput,
                                                         worstResult: other.worstResult, worstExact: other.worstExact,
                                                         count: count) }
        count += other.count
    }

    var description: String {
        let at = worstInput.map { "\($0) (0x\(String($0.bitPattern, radix: 16)))" }.joined(separator: ", ")
        return "max \(String(format: "%.3f", maxUlps)) ulp over \(count) results; worst at \(at): got \(worstResult), exact \(worstExact)"
    }
}

enum MathInputs {
    /// Every `stride`-th float bit pattern: the whole float line, both signs, denormals,
    /// infinities and NaNs included (an odd stride varies the low mantissa bits too).
    static func bitPatternSweep(stride: Int) -> [Float] {
        Swift.stride(from: UInt64(0), to: 1 << 32, by: stride).map { Float(bitPattern: UInt32($0)) }
    }

    /// `count` floats evenly spaced in bit-pattern order from `lo` to `hi` (same sign), so every
    /// binade in between gets its share, as a float-by-float walk would.
    static func bitPatternRange(_ lo: Float, _ hi: Float, count: Int) -> [Float] {
        precondition(lo.sign == hi.sign && count > 1, "a bit-pattern range stays on one side of zero")
        let a = Double(lo.bitPattern), b = Double(hi.bitPattern)
        return (0..<count).map { Float(bitPattern: UInt32((a + (b - a) * Double($0) / Double(count - 1)).rounded())) }
    }

    /// `count` floats evenly spaced in value from `lo` to `hi`.
    static func valueRange(_ lo: Float, _ hi: Float, count: Int) -> [Float] {
        (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) }
    }

    /// The `radius` floats on each side of `center`, and `center` itself.
    static func around(_ center: Float, radius: Int = 2048) -> [Float] {
        var below: [Float] = [], above: [Float] = [center]
        var down = center, up = center
        for _ in 0..<radius {
            down = down.nextDown
            up = up.nextUp
            below.append(down)
            above.append(up)
        }
        return below.reversed() + above
    }

    /// ±0, ±inf, NaN, the extreme normals and denormals: inputs every routine must get right.
    static let specials: [Float] = [
        0, -0.0, .infinity, -.infinity, .nan, -.nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNormalMagnitude, -.leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        Float.leastNormalMagnitude.nextDown, -Float.leastNormalMagnitude.nextDown, 1, -1,
    ]

    /// A deterministic pseudo-random float in [lo, hi) for each index (64-bit LCG).
    static func uniform(_ count: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return lo + (hi - lo) * Float(state >> 40) / Float(1 << 24)
        }
    }
}

/// Measures a one-operand routine against `exact` on `inputs`, for both code paths, counting only
/// the inputs `include` accepts.
func measure(_ kernel: MathKernel, _ inputs: [Float], where include: (Float) -> Bool = { _ in true },
             exact: (Double) -> Double) -> ErrorSummary {
    var summary = ErrorSummary()
    let chunk = 1 << 20
    for start in Swift.stride(from: 0, to: inputs.count, by: chunk) {
        let x = Array(inputs[start..<min(start + chunk, inputs.count)])
        let (vector, scalar) = kernel.run(x)
        for i in x.indices where include(x[i]) {
            let reference = exact(Double(x[i]))
            summary.record(vector[i], exact: reference, input: [x[i]])
            summary.record(scalar[i], exact: reference, input: [x[i]])
        }
    }
    return summary
}

/// Measures a two-operand routine against `exact` on the pairs `(x[i], y[i])`, for both code paths.
func measure(_ kernel: MathKernel, _ x: [Float], _ y: [Float], exact: (Double, Double) -> Double) -> ErrorSummary {
    var summary = ErrorSummary()
    let (vector, scalar) = kernel.run(x, y)
    for i in x.indices {
        let reference = exact(Double(x[i]), Double(y[i]))
        summary.record(vector[i], exact: reference, input: [x[i], y[i]])
        summary.record(scalar[i], exact: reference, input: [x[i], y[i]])
    }
    return summary
}

/// Whether two floats are the same value: both NaN, or the same bits (so the sign of zero counts).
func sameFloat(_ a: Float, _ b: Float) -> Bool { (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern }

/// The special-value cases whose result (from either code path) is not exactly the one expected.
func specialMismatches(_ kernel: MathKernel, _ cases: [(Float, Float)]) -> [String] {
    let (vector, scalar) = kernel.run(cases.map(\.0))
    return cases.indices.flatMap { i -> [String] in
        [vector[i], scalar[i]].filter { !sameFloat($0, cases[i].1) }.map { "f(\(cases[i].0)) = \($0), expected \(cases[i].1)" }
    }
}
