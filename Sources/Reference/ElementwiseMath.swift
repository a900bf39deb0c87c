import Foundation
import GraphIR

/// The scalar meaning of every unary function, in double.
func applyUnary(_ f: UnaryFunction, _ x: Double) -> Double {
    switch f {
    case .neg: return -x
    case .abs: return Swift.abs(x)
    case .exp: return Foundation.exp(x)
    case .log: return Foundation.log(x)
    case .sqrt: return x.squareRoot()
    case .rsqrt: return 1 / x.squareRoot()
    case .reciprocal: return 1 / x
    case .tanh: return Foundation.tanh(x)
    case .sigmoid: return 1 / (1 + Foundation.exp(-x))
    case .relu: return x.isNaN ? x : Swift.max(x, 0)
    case .silu: return x / (1 + Foundation.exp(-x))
    case .erf: return Foundation.erf(x)
    case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
    case .geluTanh: return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    case .not: return x != 0 ? 0 : 1
    case .identity: return x
    }
}

/// The scalar meaning of every binary function. Integer division truncates toward zero, as C
/// and ONNX Runtime do; comparisons and logic give 0 or 1.
func applyBinary(_ f: BinaryFunction, _ a: Double, _ b: Double, integer: Bool) -> Double {
    switch f {
    case .add: return a + b
    case .sub: return a - b
    case .mul: return a * b
    case .div:
        if integer { return b == 0 ? 0 : (a / b).rounded(.towardZero) }
        return a / b
    case .pow: return Foundation.pow(a, b)
    // Integer remainders by zero give 0, as integer division by zero does here.
    case .mod:
        if integer && b == 0 { return 0 }
        let r = Foundation.fmod(a, b)
        return r != 0 && (r < 0) != (b < 0) ? r + b : r
    case .fmod:
        if integer && b == 0 { return 0 }
        return Foundation.fmod(a, b)
    // NaN propagates, as torch.maximum and torch.minimum do.
    case .maximum: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
    case .minimum: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
    case .eq: return a == b ? 1 : 0
    case .ne: return a != b ? 1 : 0
    case .lt: return a < b ? 1 : 0
    case .le: return a <= b ? 1 : 0
    case .gt: return a > b ? 1 : 0
    case .ge: return a >= b ? 1 : 0
    case .and: return a != 0 && b != 0 ? 1 : 0
    case .or: return a != 0 || b != 0 ? 1 : 0
    case .xor: return (a != 0) != (b != 0) ? 1 : 0
    }
}

/// Applies `f` to operands broadcast to `type`'s shape.
func elementwise(_ operands: [ReferenceTensor], _ type: TensorType, _ f: ([Double]) -> Double) -> ReferenceTensor {
    let shape = type.staticShape!
    let strides = operands.map { broadcastStrides($0.shape, to: shape) }
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    var arguments = Array(repeating: 0.0, count: operands.count)
    forEachIndex(shape) { index in
        for (k, operand) in operands.enumerated() {
            var offset = 0
            for d in index.indices { offset += index[d] * strides[k][d] }
            arguments[k] = operand.data[offset]
        }
        out.append(f(arguments))
    }
    return ReferenceTensor(type.elementType, shape, out)
}

func iota(_ elementType: ElementType, _ shape: [Int], axis: Int) -> ReferenceTensor {
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    forEachIndex(shape) { out.append(Double($0[axis])) }
    return ReferenceTensor(elementType, shape, out)
}
