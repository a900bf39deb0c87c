/// A tensor's values held in memory: what weights, constants, inputs and outputs carry.
///
/// Floating-point tensors store `Float` (f32 is the only float storage attnc reads and writes
/// today); integer tensors store `Int64` and booleans store `Bool`, whatever their declared width.
public struct TensorData: Equatable, Sendable {
    /// The values, in row-major (C) order.
    public enum Storage: Equatable, Sendable {
        case floats([Float])
        case integers([Int64])
        case booleans([Bool])

        public var count: Int {
            switch self {
            case .floats(let v): return v.count
            case .integers(let v): return v.count
            case .booleans(let v): return v.count
            }
        }
    }

    public let elementType: ElementType
    public let shape: [Int]
    public let storage: Storage

    /// Creates a tensor; the storage kind must suit the element type and hold `shape`'s count.
    public init(_ elementType: ElementType, shape: [Int], storage: Storage) {
        precondition(storage.count == shape.reduce(1, *), "storage holds \(storage.count) values for shape \(shape)")
        switch storage {
        case .floats: precondition(elementType.isFloat, "float storage for \(elementType)")
        case .integers: precondition(elementType.isInteger, "integer storage for \(elementType)")
        case .booleans: precondition(elementType == .i1, "boolean storage for \(elementType)")
        }
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
    }

    /// An f32 tensor.
    public init(shape: [Int], floats: [Float]) {
        self.init(.f32, shape: shape, storage: .floats(floats))
    }

    /// A tensor of `type`'s (static) shape whose values are converted from doubles.
    public init(_ elementType: ElementType, shape: [Int], doubles: [Double]) {
        let storage: Storage
        if elementType.isFloat {
            storage = .floats(doubles.map { Float($0) })
        } else if elementType == .i1 {
            storage = .booleans(doubles.map { $0 != 0 })
        } else {
            storage = .integers(doubles.map(TensorData.truncatingToInteger))
        }
        self.init(elementType, shape: shape, storage: storage)
    }

    /// Every element of `shape` set to `value`.
    public init(_ elementType: ElementType, shape: [Int], repeating value: Double) {
        self.init(elementType, shape: shape, doubles: Array(repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { storage.count }

    /// C-style conversion: toward zero, saturating at the Int64 range, NaN to 0.
    public static func truncatingToInteger(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 9.223372036854775807e18 { return .max }
        if value <= -9.223372036854775808e18 { return .min }
        return Int64(value.rounded(.towardZero))
    }

    /// The tensor's type (static shape).
    public var type: TensorType { TensorType(elementType, dims: shape) }

    /// The values widened to `Double` (booleans as 0 and 1).
    public var doubles: [Double] {
        switch storage {
        case .floats(let v): return v.map(Double.init)
        case .integers(let v): return v.map(Double.init)
        case .booleans(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// The values as `Float` (integers and booleans converted).
    public var floats: [Float] {
        if case .floats(let v) = storage { return v }
        return doubles.map(Float.init)
    }
}
