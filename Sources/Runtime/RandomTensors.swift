import Foundation
import GraphIR

/// A small deterministic generator (SplitMix64), so `--random-inputs SEED` gives the same
/// tensors on every machine and every run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// A tensor of `type` (static shape) with normal floats of standard deviation `scale`, or 0/1
/// for `i1` and small non-negative integers for integer types.
public func randomTensor(_ type: TensorType, using generator: inout SeededGenerator, scale: Double = 1) -> TensorData? {
    guard let shape = type.staticShape else { return nil }
    let count = shape.reduce(1, *)
    if type.elementType.isFloat {
        // Straight to floats: a [Double] first would double the peak memory of a large input.
        return TensorData(type.elementType, shape: shape, storage: .floats((0..<count).map { _ in Float(scale * generator.nextNormal()) }))
    }
    let values: [Double]
    if type.elementType == .i1 {
        values = (0..<count).map { _ in Double(generator.next() & 1) }
    } else {
        values = (0..<count).map { _ in Double(generator.next() % 16) }
    }
    return TensorData(type.elementType, shape: shape, doubles: values)
}
