import Foundation

/// SplitMix64 with the helpers the generator draws from. It is the same generator as Runtime's
/// `SeededGenerator`, repeated here because RandomGraphs depends on GraphIR alone.
///
/// Made from bytes (a fuzzer's input), it returns those bytes eight at a time first, so that
/// every choice the generator makes is a choice the fuzzer can mutate; when they run out it goes
/// on as SplitMix64 seeded with their length.
struct GraphRandom: RandomNumberGenerator {
    private var state: UInt64
    private var bytes: [UInt8] = []
    private var position = 0

    init(seed: UInt64) { state = seed }

    init(bytes: [UInt8]) {
        state = UInt64(bytes.count)
        self.bytes = bytes
    }

    mutating func next() -> UInt64 {
        if position < bytes.count {
            let end = min(position + 8, bytes.count)
            defer { position = end }
            return bytes[position..<end].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }

    mutating func pick<T>(_ choices: [T]) -> T {
        precondition(!choices.isEmpty, "pick from no choices")
        return choices[int(0...(choices.count - 1))]
    }

    /// Picks index `i` with probability proportional to `weights[i]`.
    mutating func weightedIndex(_ weights: [Int]) -> Int {
        var draw = int(0...(weights.reduce(0, +) - 1))
        for (i, w) in weights.enumerated() {
            if draw < w { return i }
            draw -= w
        }
        return weights.count - 1
    }

    /// A standard normal sample (Box–Muller).
    mutating func normal() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
