/// The computation of a fused elementwise op, evaluated at every point of its result: a tree of
/// elementwise functions over the op's operands (broadcast to the result's shape), literals and
/// the point's index along a result dim.
///
/// Text form (the op's `expr` attribute): `$0`, `$1`… for operands, numbers, `iota(D)` for the
/// index along result dim D (`iota<i32>(D)` when not i64), and calls named like the ops:
/// `add(mul($0, 0.5), sigmoid($1))`, `select(gt(iota(3), iota(2)), -inf, $0)`, `cast<i32>($0)`,
/// `gelu_tanh($0)`. A literal takes the type of the value it meets (`f32` next to `$0: f32`).
public indirect enum ElementwiseExpression: Hashable, Sendable, CustomStringConvertible {
    case operand(Int)
    case constant(Double, ElementType)
    /// The point's index along result dim `dim`.
    case iota(dim: Int, ElementType)
    case unary(UnaryFunction, ElementwiseExpression)
    case binary(BinaryFunction, ElementwiseExpression, ElementwiseExpression)
    case select(ElementwiseExpression, ElementwiseExpression, ElementwiseExpression)
    case cast(ElementwiseExpression, to: ElementType)

    public var description: String {
        switch self {
        case .operand(let i): return "$\(i)"
        case .constant(let x, let t): return t.isFloat ? formatFloat(x) : String(TensorData.truncatingToInteger(x))
        case .iota(let d, let t): return t == .i64 ? "iota(\(d))" : "iota<\(t.rawValue)>(\(d))"
        case .unary(let f, let x): return "\(f.rawValue)(\(x))"
        case .binary(let f, let a, let b): return "\(f.rawValue)(\(a), \(b))"
        case .select(let c, let a, let b): return "select(\(c), \(a), \(b))"
        case .cast(let x, let t): return "cast<\(t.rawValue)>(\(x))"
        }
    }

    /// Operand indices the expression reads.
    public var operands: Set<Int> {
        switch self {
        case .operand(let i): return [i]
        case .constant, .iota: return []
        case .unary(_, let x), .cast(let x, _): return x.operands
        case .binary(_, let a, let b): return a.operands.union(b.operands)
        case .select(let c, let a, let b): return c.operands.union(a.operands).union(b.operands)
        }
    }

    /// Functions applied per point, as the cost model counts them (casts and identity are free).
    public var operationCount: Int {
        switch self {
        case .operand, .constant, .iota: return 0
        case .cast(let x, _), .unary(.identity, let x): return x.operationCount
        case .unary(_, let x): return 1 + x.operationCount
        case .binary(_, let a, let b): return 1 + a.operationCount + b.operationCount
        case .select(let c, let a, let b): return 1 + c.operationCount + a.operationCount + b.operationCount
        }
    }

    /// Result dims read by `iota`.
    public var iotaDims: [Int] {
        var dims: [Int] = []
        _ = map { leaf in
            if case .iota(let d, _) = leaf { dims.append(d) }
            return nil
        }
        return dims
    }

    /// The expression with operand `i` replaced by `replacement(i)`.
    public func substituting(_ replacement: (Int) -> ElementwiseExpression) -> ElementwiseExpression {
        map { if case .operand(let i) = $0 { return replacement(i) } else { return nil } }
    }

    /// The expression with leaves rewritten where `leaf` returns a replacement.
    public func map(_ leaf: (ElementwiseExpression) -> ElementwiseExpression?) -> ElementwiseExpression {
        switch self {
        case .operand, .constant, .iota: return leaf(self) ?? self
        case .unary(let f, let x): return .unary(f, x.map(leaf))
        case .cast(let x, let t): return .cast(x.map(leaf), to: t)
        case .binary(let f, let a, let b): return .binary(f, a.map(leaf), b.map(leaf))
        case .select(let c, let a, let b): return .select(c.map(leaf), a.map(leaf), b.map(leaf))
        }
    }

    /// The element type the expression produces, checking every function's operand types.
    public func elementType(operands: [ElementType]) throws(TypeRuleError) -> ElementType {
        switch self {
        case .operand(let i):
            guard i >= 0 && i < operands.count else {
                throw TypeRuleError("expression reads $\(i) but the op has \(operands.count) operand\(operands.count == 1 ? "" : "s")")
            }
            return operands[i]
        case .constant(_, let t), .iota(_, let t):
            return t
        case .unary(let f, let x):
            let t = try x.elementType(operands: operands)
            if f == .not && t != .i1 { throw TypeRuleError("not needs i1, got \(t.rawValue)") }
            if ![.not, .neg, .abs, .identity].contains(f) && !t.isFloat {
                throw TypeRuleError("\(f.rawValue) needs a floating-point value, got \(t.rawValue)")
            }
            return t
        case .binary(let f, let a, let b):
            let (ta, tb) = (try a.elementType(operands: operands), try b.elementType(operands: operands))
            guard ta == tb else { throw TypeRuleError("\(f.rawValue) of \(ta.rawValue) and \(tb.rawValue)") }
            if f.isLogical && ta != .i1 { throw TypeRuleError("\(f.rawValue) needs i1, got \(ta.rawValue)") }
            return f.isComparison ? .i1 : ta
        case .select(let c, let a, let b):
            let tc = try c.elementType(operands: operands)
            guard tc == .i1 else { throw TypeRuleError("select needs an i1 condition, got \(tc.rawValue)") }
            let (ta, tb) = (try a.elementType(operands: operands), try b.elementType(operands: operands))
            guard ta == tb else { throw TypeRuleError("select of \(ta.rawValue) and \(tb.rawValue)") }
            return ta
        case .cast(let x, let t):
            _ = try x.elementType(operands: operands)
            return t
        }
    }
}
