import GraphIR

/// A fused elementwise op, evaluated point by point exactly as the chain of ops it replaces:
/// every function's result is rounded to its element type, as storing it in a tensor would.
func evaluateElementwise(_ expression: ElementwiseExpression, _ operands: [ReferenceTensor], _ type: TensorType) -> ReferenceTensor {
    let shape = type.staticShape!
    let strides = operands.map { broadcastStrides($0.shape, to: shape) }
    let operandTypes = operands.map(\.elementType)
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    forEachIndex(shape) { index in
        func value(_ e: ElementwiseExpression) -> (Double, ElementType) {
            switch e {
            case .operand(let i):
                var offset = 0
                for d in index.indices { offset += index[d] * strides[i][d] }
                return (operands[i].data[offset], operandTypes[i])
            case .constant(let x, let t):
                return (roundToElementType(x, t), t)
            case .iota(let d, let t):
                return (Double(index[d]), t)
            case .unary(let f, let x):
                let (v, t) = value(x)
                return (roundToElementType(applyUnary(f, v), t), t)
            case .binary(let f, let a, let b):
                let (va, t) = value(a)
                let (vb, _) = value(b)
                let result = f.isComparison ? ElementType.i1 : t
                return (roundToElementType(applyBinary(f, va, vb, integer: t.isInteger), result), result)
            case .select(let c, let a, let b):
                return value(c).0 != 0 ? value(a) : value(b)
            case .cast(let x, let t):
                return (roundToElementType(value(x).0, t), t)
            }
        }
        out.append(value(expression).0)
    }
    return ReferenceTensor(type.elementType, shape, out)
}
