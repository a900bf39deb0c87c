import GraphIR

/// A tensor as the interpreter holds it: row-major doubles, whatever the element type. Every op
/// rounds its results to its element type, so values are exactly what an f32 (or integer)
/// tensor could hold, while sums inside an op accumulate in double.
struct ReferenceTensor {
    var elementType: ElementType
    var shape: [Int]
    var data: [Double]

    init(_ elementType: ElementType, _ shape: [Int], _ data: [Double]) {
        precondition(data.count == shape.reduce(1, *), "\(data.count) values for shape \(shape)")
        self.elementType = elementType
        self.shape = shape
        self.data = data
    }

    init(_ tensor: TensorData) {
        self.init(tensor.elementType, tensor.shape, tensor.doubles)
    }

    var count: Int { data.count }
    var rank: Int { shape.count }

    /// Row-major strides.
    var strides: [Int] { rowMajorStrides(shape) }

    var tensorData: TensorData { TensorData(elementType, shape: shape, doubles: data) }

    /// The values rounded to what `elementType` can hold.
    func rounded() -> ReferenceTensor {
        ReferenceTensor(elementType, shape, data.map { roundToElementType($0, elementType) })
    }
}

/// Rounds `x` as storing it in a tensor of `type` would.
func roundToElementType(_ x: Double, _ type: ElementType) -> Double {
    switch type {
    case .f32: return Double(Float(x))
    case .f64: return x
    case .f16, .bf16: return Double(Float(x))
    case .i1: return x != 0 ? 1 : 0
    case .i64, .i32, .i8, .u8: return Double(TensorData(type, shape: [], doubles: [x]).doubles[0])
    }
}

func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var running = 1
    for i in shape.indices.reversed() {
        strides[i] = running
        running *= shape[i]
    }
    return strides
}

/// Calls `body` with every multi-index of `shape`, in row-major order.
func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
    if shape.contains(0) { return }
    var index = Array(repeating: 0, count: shape.count)
    while true {
        body(index)
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { break }
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

/// Strides for reading `shape` as if broadcast to `target` (0 along broadcast dims).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = rowMajorStrides(shape)
    let offset = target.count - shape.count
    return target.indices.map { i in
        let j = i - offset
        return j < 0 || shape[j] == 1 ? 0 : own[j]
    }
}
