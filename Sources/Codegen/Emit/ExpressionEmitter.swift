import CLLVM
import GraphIR

/// Emits a `ScalarExpression` for `lanes` consecutive points along the innermost dim (a vector
/// when `lanes > 1`, a scalar when 1). Loads and index values come from the caller, which knows
/// the loop structure.
struct ExpressionEmitter {
    let emit: EmitContext
    let lanes: Int
    /// The value of a load at the current points.
    let load: (Access, ElementType) throws -> IRValue
    /// The value of `index(dim)` at the current points (as i64 lanes).
    let index: (Int) -> IRValue

    private var b: IRBuilder { emit.builder }
    private var c: IRContext { emit.context }

    func evaluate(_ expression: ScalarExpression) throws -> IRValue {
        switch expression {
        case .load(let access, let type):
            return try load(access, type)
        case .constant(let x, let type):
            let register = try emit.registerType(type).vector(lanes)
            if type == .i1 { return c.constant(x != 0 ? 1 : 0, register) }
            return type.isFloat ? c.constant(x, register) : c.constant(Int(TensorData.truncatingToInteger(x)), register)
        case .index(let dim, let type):
            return try convert(index(dim), from: .i64, to: type)
        case .unary(let f, let x):
            return try unary(f, try evaluate(x), x.elementType)
        case .binary(let f, let x, let y):
            if f == .pow, case .constant(let exponent, _) = y, let special = try power(try evaluate(x), exponent) { return special }
            return try binary(f, try evaluate(x), try evaluate(y), x.elementType)
        case .select(let condition, let x, let y):
            return b.select(try evaluate(condition), try evaluate(x), try evaluate(y))
        case .cast(let x, let type):
            return try convert(try evaluate(x), from: x.elementType, to: type)
        }
    }

    private func unary(_ f: UnaryFunction, _ x: IRValue, _ type: ElementType) throws -> IRValue {
        if type.isFloat {
            let zero = c.constant(0.0, x.type), one = c.constant(1.0, x.type)
            switch f {
            case .neg: return b.fneg(x)
            case .abs: return b.intrinsic("fabs", [x])
            case .exp: return VectorMath.exp(x, b)
            case .log: return VectorMath.log(x, b)
            case .sqrt: return b.intrinsic("sqrt", [x])
            case .rsqrt: return b.fdiv(one, b.intrinsic("sqrt", [x]))
            case .reciprocal: return b.fdiv(one, x)
            case .tanh: return VectorMath.tanh(x, b)
            case .sigmoid: return VectorMath.sigmoid(x, b)
            // NaN stays NaN, as torch.relu.
            case .relu: return b.select(b.fcmp(LLVMRealOLT, x, zero), zero, x)
            case .silu: return VectorMath.silu(x, b)
            case .erf: return VectorMath.erf(x, b)
            case .gelu: return VectorMath.gelu(x, b)
            case .geluTanh: return VectorMath.geluTanh(x, b)
            case .identity: return x
            case .not: break
            }
        } else {
            switch f {
            case .not: return b.xor(x, c.constant(1, x.type))
            case .neg: return b.sub(c.constant(0, x.type), x)
            case .abs: return b.select(b.icmp(LLVMIntSLT, x, c.constant(0, x.type)), b.sub(c.constant(0, x.type), x), x)
            case .identity: return x
            default: break
            }
        }
        throw PlanError("the code generator cannot apply \(f.rawValue) to \(type.rawValue)")
    }

    private func binary(_ f: BinaryFunction, _ x: IRValue, _ y: IRValue, _ type: ElementType) throws -> IRValue {
        if type.isFloat {
            switch f {
            case .add: return b.fadd(x, y)
            case .sub: return b.fsub(x, y)
            case .mul: return b.fmul(x, y)
            case .div: return b.fdiv(x, y)
            case .pow: return VectorMath.pow(x, y, b)
            // llvm.maximum/minimum propagate NaN, as torch.maximum does.
            case .maximum: return b.intrinsic("maximum", [x, y])
            case .minimum: return b.intrinsic("minimum", [x, y])
            case .fmod: return b.frem(x, y)
            case .mod:
                // Python's remainder takes the divisor's sign.
                let r = b.frem(x, y)
                let zero = c.constant(0.0, x.type)
                let adjust = b.and(b.fcmp(LLVMRealONE, r, zero),
                                   b.xor(b.fcmp(LLVMRealOLT, r, zero), b.fcmp(LLVMRealOLT, y, zero)))
                return b.select(adjust, b.fadd(r, y), r)
            case .eq: return b.fcmp(LLVMRealOEQ, x, y)
            case .ne: return b.fcmp(LLVMRealUNE, x, y)
            case .lt: return b.fcmp(LLVMRealOLT, x, y)
            case .le: return b.fcmp(LLVMRealOLE, x, y)
            case .gt: return b.fcmp(LLVMRealOGT, x, y)
            case .ge: return b.fcmp(LLVMRealOGE, x, y)
            case .and, .or, .xor: break
            }
        } else {
            let zero = c.constant(0, x.type)
            // An i1 true is -1 as a signed number: order booleans unsigned (false < true), as
            // the interpreter does, or maximum(false, true) gives false and true < false holds.
            let unsigned = type == .i1
            let (less, lessOrEqual, greater, greaterOrEqual) = unsigned
                ? (LLVMIntULT, LLVMIntULE, LLVMIntUGT, LLVMIntUGE) : (LLVMIntSLT, LLVMIntSLE, LLVMIntSGT, LLVMIntSGE)
            switch f {
            case .add: return b.add(x, y)
            case .sub: return b.sub(x, y)
            case .mul: return b.mul(x, y)
            case .div, .mod, .fmod:
                // Division by zero gives 0, as the reference interpreter defines it.
                let isZero = b.icmp(LLVMIntEQ, y, zero)
                let safe = b.select(isZero, c.constant(1, x.type), y)
                var result = f == .div ? b.sdiv(x, safe) : b.srem(x, safe)
                if f == .mod {
                    let adjust = b.and(b.icmp(LLVMIntNE, result, zero),
                                       b.xor(b.icmp(LLVMIntSLT, result, zero), b.icmp(LLVMIntSLT, safe, zero)))
                    result = b.select(adjust, b.add(result, safe), result)
                }
                return b.select(isZero, zero, result)
            case .pow:
                let float = c.f32.vector(lanes)
                return b.floatToSigned(VectorMath.pow(b.signedToFloat(x, float), b.signedToFloat(y, float), b), x.type)
            case .maximum: return b.select(b.icmp(greater, x, y), x, y)
            case .minimum: return b.select(b.icmp(less, x, y), x, y)
            case .eq: return b.icmp(LLVMIntEQ, x, y)
            case .ne: return b.icmp(LLVMIntNE, x, y)
            case .lt: return b.icmp(less, x, y)
            case .le: return b.icmp(lessOrEqual, x, y)
            case .gt: return b.icmp(greater, x, y)
            case .ge: return b.icmp(greaterOrEqual, x, y)
            case .and: return b.and(x, y)
            case .or: return b.or(x, y)
            case .xor: return b.xor(x, y)
            }
        }
        throw PlanError("the code generator cannot apply \(f.rawValue) to \(type.rawValue)")
    }

    /// `x ** exponent` for exponents that are cheaper as products or roots.
    private func power(_ x: IRValue, _ exponent: Double) throws -> IRValue? {
        guard x.type.isFloat else { return nil }
        switch exponent {
        case 1: return x
        case 2: return b.fmul(x, x)
        case 3: return b.fmul(b.fmul(x, x), x)
        // pow(-inf, 0.5) is +inf where sqrt(-inf) is NaN (C's pow, and the interpreter); every
        // other input, -0 included up to its sign, agrees.
        case 0.5:
            let minusInfinity = b.fcmp(LLVMRealOEQ, x, c.constant(-Double.infinity, x.type))
            return b.select(minusInfinity, c.constant(Double.infinity, x.type), b.intrinsic("sqrt", [x]))
        case -1: return b.fdiv(c.constant(1.0, x.type), x)
        default: return nil
        }
    }

    /// Converts between element types as `cast` defines it: float to integer truncates and
    /// saturates (NaN to 0), anything to i1 is `!= 0`.
    func convert(_ x: IRValue, from: ElementType, to: ElementType) throws -> IRValue {
        if from == to { return x }
        let target = try emit.registerType(to).vector(lanes)
        switch (from.isFloat, to.isFloat) {
        case (true, true): return x
        case (true, false):
            if to == .i1 { return b.fcmp(LLVMRealUNE, x, c.constant(0.0, x.type)) }
            let name = "llvm.fptosi.sat.\(IRBuilder.mangle(target)).\(IRBuilder.mangle(x.type))"
            return b.call(b.module.intrinsic(name, returning: target, [x.type]), [x])
        case (false, true):
            return from == .i1 ? b.unsignedToFloat(x, target) : b.signedToFloat(x, target)
        case (false, false):
            if to == .i1 { return b.icmp(LLVMIntNE, x, c.constant(0, x.type)) }
            if from == .i1 { return b.zeroExtend(x, target) }
            return b.resizeInteger(x, target)
        }
    }
}
