import GraphIR

/// What an ONNX value name stands for while the graph is imported: a tensor known at import
/// time (an initializer, a `Constant`, or shape arithmetic folded over them), or a value the
/// graph computes at run time.
enum ImportValue {
    case known(KnownTensor)
    case runtime(ValueID)
}

/// A tensor whose values the importer knows.
struct KnownTensor {
    var data: TensorData
    /// The ONNX name it had, used when it has to be placed in the graph.
    var name: String
    /// Set for an initializer: placed in the graph, it becomes a weight of this name.
    var isInitializer = false
}

extension TensorData {
    /// The values as integers (floats truncated toward zero, booleans as 0 and 1).
    var integers: [Int64] {
        switch storage {
        case .integers(let v): return v
        case .floats(let v): return v.map { TensorData.integer(fromDouble: Double($0)) }
        case .booleans(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// C-style conversion: toward zero, saturating, NaN to 0.
    static func integer(fromDouble value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 9.223372036854775807e18 { return .max }
        if value <= -9.223372036854775808e18 { return .min }
        return Int64(value.rounded(.towardZero))
    }

    /// The same values under another shape of equal element count.
    func reshaped(_ shape: [Int]) -> TensorData {
        TensorData(elementType, shape: shape, storage: storage)
    }

    /// True when every element is equal (and there is at least one).
    var isSplat: Bool {
        switch storage {
        case .floats(let v): return v.first.map { f in v.allSatisfy { $0.bitPattern == f.bitPattern } } ?? false
        case .integers(let v): return v.first.map { f in v.allSatisfy { $0 == f } } ?? false
        case .booleans(let v): return v.first.map { f in v.allSatisfy { $0 == f } } ?? false
        }
    }
}
