import Foundation
import GraphIR

/// Elementwise steps: unary and binary functions, masks and select, casts and integer chains.
extension GraphGenerator {
    /// Unary functions that keep an exact operand exact (one correctly rounded operation).
    static let exactUnary: Set<UnaryFunction> = [.neg, .abs, .relu, .identity, .sqrt, .reciprocal]
    /// Binary functions that keep exact operands exact.
    static let exactBinary: Set<BinaryFunction> = [.add, .sub, .mul, .div, .maximum, .minimum, .mod, .fmod]
    static let comparisons: [BinaryFunction] = [.eq, .ne, .lt, .le, .gt, .ge]

    func unaryStep() -> Bool {
        guard let x = pickFloat() else { return false }
        let functions = UnaryFunction.allCases.filter { $0 != .not && !options.excludedUnary.contains($0) }
        guard !functions.isEmpty else { return false }
        let f = random.pick(functions)
        let operand: TensorValue
        switch f {
        case .log, .sqrt, .rsqrt: operand = positive(x.value)
        case .reciprocal: operand = nonzero(x.value)
        // Bounded so that exp stays finite through a few more ops.
        case .exp: operand = binary(.minimum, x.value, scalar(20))
        default: operand = x.value
        }
        record(unary(f, operand), exact: x.exact && GraphGenerator.exactUnary.contains(f))
        return true
    }

    func binaryStep() -> Bool {
        guard let x = pickFloat() else { return false }
        let f = random.pick([BinaryFunction.add, .sub, .mul, .div, .pow, .maximum, .minimum, .add, .mul, .mod, .fmod])
        let (xShape, yShape) = broadcastPair(x.shape)
        var left = xShape == x.shape ? x : PoolEntry(value: must(.broadcast(shape: xShape.map { .known($0) }), [x.value]),
                                                     shape: xShape, elementType: .f32, exact: x.exact, bound: x.bound)
        let remainder = f == .mod || f == .fmod
        // Remainders jump, so they read exact values only.
        if remainder && !left.exact { return false }
        var right: PoolEntry
        // An inline scalar stays a literal operand: helper ops on it would have only literal
        // operands, which the text form cannot type.
        let scalarRight = random.chance(0.2)
        if scalarRight {
            right = PoolEntry(value: scalar(random.pick([2, -0.5, 1.5, 3, 0.25])), shape: [], elementType: .f32, exact: true, bound: 3)
        } else {
            right = operand(yShape, exact: remainder)
        }
        if random.chance(0.3) && !remainder && f != .pow { swap(&left, &right) }
        var y = right.value
        var xValue = left.value
        switch f {
        case .div, .mod, .fmod: if !(scalarRight && left.value.id == x.value.id) { y = nonzero(y) }
        case .pow:
            xValue = positive(xValue)
            if scalarRight || random.chance(0.5) { y = scalar(random.pick([2, 3, 0.5, -1, 1, 1.5, -0.5, 0])) } else { y = clamp(y, -2, 2) }
        default: break
        }
        guard let result = apply(.binary(f), [xValue, y]) else { return false }
        record(result[0], exact: left.exact && right.exact && GraphGenerator.exactBinary.contains(f))
        return true
    }

    /// Shapes of two operands under numpy broadcasting, the first derived from `shape`: one
    /// broadcasts into the other, or both broadcast into a larger result.
    func broadcastPair(_ shape: [Int]) -> ([Int], [Int]) {
        switch random.int(0...2) {
        case 0: return (shape, shape)
        case 1: return (shape, broadcastable(to: shape))
        default:
            let result = widened(shape)
            let offset = result.count - shape.count
            // The second operand supplies every dim the first lacks; elsewhere it may be 1.
            var other = result.indices.map { d -> Int in
                let own = d - offset
                return own < 0 || shape[own] != result[d] ? result[d] : (random.chance(0.4) ? 1 : result[d])
            }
            var drop = 0
            while drop < other.count && drop >= offset && shape[drop - offset] == result[drop] && random.chance(0.4) { drop += 1 }
            other.removeFirst(drop)
            return (shape, other)
        }
    }

    // MARK: Masks

    func selectStep() -> Bool {
        guard let a = pickFloat({ $0.rank >= 1 }) else { return false }
        guard let condition = mask(for: a.shape) else { return false }
        var other: PoolEntry
        if random.chance(0.5) {
            other = PoolEntry(value: scalar(random.pick([0, -1e9, -.infinity, 1.5, .infinity])), shape: [], elementType: .f32,
                              exact: true, bound: .infinity)
        } else {
            other = operand(broadcastable(to: a.shape))
        }
        var first = a
        if random.chance(0.3) { swap(&first, &other) }
        guard let result = apply(.select, [condition.value, first.value, other.value]) else { return false }
        record(result[0], exact: first.exact && other.exact)
        return true
    }

    /// An i1 value that broadcasts against `shape`: a comparison of exact values, an iota mask
    /// over the trailing dims, or an i1 pool value; sometimes negated or combined with another.
    func mask(for shape: [Int]) -> PoolEntry? {
        var result: PoolEntry
        switch random.int(0...3) {
        case 0, 1:
            guard let m = iotaMask(shape) else { return nil }
            result = m
        case 2:
            if let existing = pick({ $0.elementType == .i1 && (try? broadcastShapes($0.shape.map { .known($0) }, shape.map { .known($0) })) != nil }) {
                result = existing
            } else {
                result = operand(broadcastable(to: shape), .i1)
            }
        default:
            let x = operand(broadcastable(to: shape), exact: true)
            let y = random.chance(0.5) ? scalar(random.pick([0, 0.5, -0.5, 1])) : operand(broadcastable(to: shape), exact: true).value
            guard let compared = apply(.binary(random.pick(GraphGenerator.comparisons)), [x.value, y]) else { return nil }
            result = record(compared[0], exact: true, bound: 1)
        }
        if random.chance(0.2) { result = record(unary(.not, result.value), exact: true, bound: 1) }
        if random.chance(0.2), let other = iotaMask(shape),
           let combined = apply(.binary(random.pick([.and, .or, .xor])), [result.value, other.value]) {
            result = record(combined[0], exact: true, bound: 1)
        }
        return result
    }

    /// `compare(column + k, row)` over the last two dims of `shape` (or the last one against a
    /// constant): the causal and banded masks attention uses.
    func iotaMask(_ shape: [Int]) -> PoolEntry? {
        guard let last = shape.last else { return nil }
        let type: ElementType = random.pick([.i32, .i32, .f32, .i64])
        let compare = random.pick(GraphGenerator.comparisons)
        let offset = scalar(Double(random.int(-2...2)), type)
        let mask: TensorValue
        if shape.count >= 2 {
            let rows = shape[shape.count - 2]
            let full = random.chance(0.5)
            let row = builder.iota(TensorType(type, dims: full ? [rows, last] : [rows, 1]), axis: random.chance(0.5) ? 0 : -2)
            let column = builder.iota(TensorType(type, dims: full ? [rows, last] : [1, last]), axis: random.chance(0.5) ? 1 : -1)
            let shifted = random.chance(0.5) ? binary(.add, column, offset) : column
            mask = binary(compare, shifted, row)
        } else {
            mask = binary(compare, builder.iota(TensorType(type, dims: [last]), axis: 0), scalar(Double(random.int(0...last)), type))
        }
        return record(mask, exact: true, bound: 1)
    }

    // MARK: Casts and integers

    func castStep() -> Bool {
        guard let x = pick({ $0.exact || !$0.isFloat }) else { return false }
        let target: ElementType
        var source = x.value
        var bound = x.bound
        switch x.elementType {
        case .f32:
            target = random.pick([.i1, .i32, .i64])
            if target != .i1 {
                source = clamp(source, -1000, 1000)
                bound = 1000
            }
        case .i1: target = random.pick([.f32, .i32])
        default: target = random.pick([.f32, .i1, .i32, .i64])
        }
        guard let result = apply(.cast(to: target), [source]) else { return false }
        record(result[0], exact: true, bound: target == .i1 ? 1 : bound)
        return true
    }

    /// An integer (or i1) value through one integer op: arithmetic, a reduction, a comparison
    /// or a cast back to f32.
    func integerStep() -> Bool {
        let x = integerOperand()
        let y: PoolEntry
        if random.chance(0.5) {
            let c = Double(x.elementType == .i1 ? random.int(0...1) : random.int(-4...5))
            y = PoolEntry(value: scalar(c, x.elementType), shape: [], elementType: x.elementType, exact: true, bound: Swift.abs(c))
        } else {
            y = integerOperand(broadcastable(to: x.shape), x.elementType)
        }
        switch random.int(0...9) {
        case 0...3:
            // Arithmetic on i1 has no agreed meaning (the interpreter saturates, LLVM wraps); i1
            // takes maximum and minimum only.
            let f = x.elementType == .i1 ? random.pick([BinaryFunction.maximum, .minimum])
                : random.pick([BinaryFunction.add, .sub, .mul, .div, .mod, .fmod, .maximum, .minimum, .pow])
            var exponent = y
            let bound: Double
            switch f {
            case .mul: bound = x.bound * y.bound
            case .div, .mod, .fmod: bound = x.bound
            // Integer powers with small non-negative exponents (a negative one truncates to 0 or
            // divides by zero).
            case .pow:
                let e = random.int(0...3)
                exponent = PoolEntry(value: scalar(Double(e), x.elementType), shape: [], elementType: x.elementType, exact: true,
                                     bound: Double(e))
                bound = Foundation.pow(x.bound, Double(e))
            default: bound = x.bound + y.bound
            }
            guard bound <= 1e7, let result = apply(.binary(f), [x.value, exponent.value]) else { return false }
            record(result[0], exact: true, bound: bound)
        case 4:
            record(unary(x.elementType == .i1 ? .not : random.pick([.neg, .abs]), x.value), exact: true, bound: x.bound)
        case 5, 6:
            let f = random.pick([ReduceFunction.sum, .amax, .amin])
            let axes = randomAxes(rank: x.rank)
            guard x.bound * Double(x.count) <= 1e8,
                  let result = apply(.reduce(f, axes: axes, keepDims: random.chance(0.5)), [x.value]) else { return false }
            record(result[0], exact: true, bound: x.bound * Double(x.count))
        case 7:
            guard let result = apply(.binary(random.pick(GraphGenerator.comparisons)), [x.value, y.value]) else { return false }
            record(result[0], exact: true, bound: 1)
        default:
            record(must(.cast(to: .f32), [x.value]), exact: true)
        }
        return true
    }

    /// An integer or i1 value: a pool value, a cast of an exact float, or an iota.
    func integerOperand(_ shape: [Int]? = nil, _ type: ElementType? = nil) -> PoolEntry {
        let type = type ?? random.pick([.i32, .i32, .i64, .i1])
        if let shape {
            return operand(shape, type)
        }
        if let existing = pick({ $0.elementType == type && $0.bound <= 1e4 }), random.chance(0.6) { return existing }
        if type != .i1, let x = pickFloat({ $0.exact }), random.chance(0.7) {
            let scaled = random.chance(0.5) ? binary(.mul, x.value, scalar(4)) : x.value
            return record(must(.cast(to: type), [clamp(scaled, -1000, 1000)]), exact: true, bound: 1000)
        }
        return operand(randomShape(rank: random.int(1...3)), type)
    }
}
