import GraphIR

/// A mask predicate of the form `Σ c_d · index_d + c > 0` over the dims of a tensor, read from
/// iotas, integer constants, additions, subtractions, constant multiples, casts and one
/// comparison (see `IndexPredicate` for what else is seen through). It tells a causal mask
/// however it is written: `gt(col, row)`, `lt(row, col)`, `ge(col, row + 1)`, `triu(…, 1)` as an
/// importer spells it.
struct AffineComparison: Equatable {
    var coefficients: [Int]
    var constant: Int

    init(coefficients: [Int], constant: Int) {
        self.coefficients = coefficients
        self.constant = constant
    }

    /// `a > b` (or `<`, `>=`, `<=`) of two affine forms, as `form > 0`.
    fileprivate init?(_ f: BinaryFunction, _ a: Affine, _ b: Affine) {
        switch f {
        case .gt: self.init(a.minus(b), plus: 0)
        case .lt: self.init(b.minus(a), plus: 0)
        case .ge: self.init(a.minus(b), plus: 1)
        case .le: self.init(b.minus(a), plus: 1)
        default: return nil
        }
    }

    private init(_ form: Affine, plus extra: Int) {
        coefficients = form.coefficients
        constant = form.constant + extra
    }

    /// The complement: `not (x > 0)` is `-x + 1 > 0`, exactly, since every term is an integer.
    var negated: AffineComparison { AffineComparison(coefficients: coefficients.map { -$0 }, constant: 1 - constant) }

    /// `index[keyDim] > index[queryDim]`: the keys a causal mask hides.
    static func keyAfterQuery(queryDim: Int, keyDim: Int, rank: Int) -> AffineComparison {
        var coefficients = Array(repeating: 0, count: rank)
        coefficients[keyDim] = 1
        coefficients[queryDim] = -1
        return AffineComparison(coefficients: coefficients, constant: 0)
    }
}

/// What an i1 value built from indices says at every point: always the same, or a half-plane.
/// Besides one comparison of affine forms it reads through `not`, `identity`, broadcasts, i1
/// selects of constants, and a comparison of an indicator with a constant — `eq(tril, 0)` where
/// `tril = select(p, 1, 0)` (or `cast(p)`) is `not p` — which is how `torch.tril(ones)` then
/// `mask == 0` reaches the graph.
enum IndexPredicate: Equatable {
    case always(Bool)
    case halfPlane(AffineComparison)

    var negated: IndexPredicate {
        switch self {
        case .always(let x): return .always(!x)
        case .halfPlane(let form): return .halfPlane(form.negated)
        }
    }

    /// The predicate `value` (i1, aligned to the right in a rank-`rank` space).
    init?(graph: Graph, value: ValueID, rank: Int) {
        let type = graph.type(of: value)
        guard type.rank <= rank, let node = graph.producer(of: value) else { return nil }
        switch node.op {
        case .constant(.splat(let x)):
            self = .always(x != 0)
        case .unary(.identity), .broadcast:
            // A broadcast keeps the dims aligned to the right; the iotas below know their own sizes.
            self.init(graph: graph, value: node.operands[0], rank: rank)
        case .unary(.not):
            guard let inner = IndexPredicate(graph: graph, value: node.operands[0], rank: rank) else { return nil }
            self = inner.negated
        case .select:
            // An i1 select of two constants is its predicate, its complement or a constant.
            guard let whenTrue = graph.constantValue(node.operands[1]), let whenFalse = graph.constantValue(node.operands[2]),
                  let inner = IndexPredicate(graph: graph, value: node.operands[0], rank: rank) else { return nil }
            self.init(inner, whenTrue: whenTrue != 0, whenFalse: whenFalse != 0)
        case .cast(let to) where to == .i1:
            guard let indicator = Indicator(graph: graph, value: node.operands[0], rank: rank) else { return nil }
            self.init(indicator.predicate, whenTrue: indicator.whenTrue != 0, whenFalse: indicator.whenFalse != 0)
        case .binary(let f) where f.isComparison:
            let (a, b) = (node.operands[0], node.operands[1])
            if let x = Affine(graph: graph, value: a, rank: rank), let y = Affine(graph: graph, value: b, rank: rank),
               let form = AffineComparison(f, x, y) {
                self = .halfPlane(form)
                return
            }
            // An indicator compared with a constant, either way round.
            for (indicatorSide, constantSide) in [(a, b), (b, a)] {
                guard let indicator = Indicator(graph: graph, value: indicatorSide, rank: rank),
                      let c = graph.constantValue(constantSide),
                      let whenTrue = compare(f, indicatorSide == a ? (indicator.whenTrue, c) : (c, indicator.whenTrue)),
                      let whenFalse = compare(f, indicatorSide == a ? (indicator.whenFalse, c) : (c, indicator.whenFalse)) else { continue }
                self.init(indicator.predicate, whenTrue: whenTrue, whenFalse: whenFalse)
                return
            }
            return nil
        default:
            return nil
        }
    }

    /// `p ? whenTrue : whenFalse` for constant outcomes.
    private init(_ p: IndexPredicate, whenTrue: Bool, whenFalse: Bool) {
        switch (whenTrue, whenFalse) {
        case (true, false): self = p
        case (false, true): self = p.negated
        case (let x, _): self = .always(x)
        }
    }
}

/// A value that is one constant where a predicate holds and another where it does not:
/// `select(p, a, b)` of constants, or `cast(p)` (1 and 0).
private struct Indicator {
    var predicate: IndexPredicate
    var whenTrue: Double
    var whenFalse: Double

    init(predicate: IndexPredicate, whenTrue: Double, whenFalse: Double) {
        self.predicate = predicate
        self.whenTrue = whenTrue
        self.whenFalse = whenFalse
    }

    init?(graph: Graph, value: ValueID, rank: Int) {
        guard let node = graph.producer(of: value) else { return nil }
        switch node.op {
        case .select:
            guard let a = graph.constantValue(node.operands[1]), let b = graph.constantValue(node.operands[2]),
                  let p = IndexPredicate(graph: graph, value: node.operands[0], rank: rank) else { return nil }
            self = Indicator(predicate: p, whenTrue: a, whenFalse: b)
        case .cast where graph.type(of: node.operands[0]).elementType == .i1:
            guard let p = IndexPredicate(graph: graph, value: node.operands[0], rank: rank) else { return nil }
            self = Indicator(predicate: p, whenTrue: 1, whenFalse: 0)
        case .unary(.identity), .broadcast:
            self.init(graph: graph, value: node.operands[0], rank: rank)
        default:
            return nil
        }
    }
}

/// A comparison of two constants; nil for the ones that are not comparisons.
private func compare(_ f: BinaryFunction, _ operands: (Double, Double)) -> Bool? {
    let (x, y) = operands
    switch f {
    case .eq: return x == y
    case .ne: return x != y
    case .lt: return x < y
    case .le: return x <= y
    case .gt: return x > y
    case .ge: return x >= y
    default: return nil
    }
}

/// `Σ c_d · index_d + c` over the dims of a rank-`rank` iteration space (operands aligned right).
fileprivate struct Affine {
    var coefficients: [Int]
    var constant: Int

    init(coefficients: [Int], constant: Int) {
        self.coefficients = coefficients
        self.constant = constant
    }

    init?(graph: Graph, value: ValueID, rank: Int) {
        let type = graph.type(of: value)
        let offset = rank - type.rank
        guard let node = graph.producer(of: value), offset >= 0 else { return nil }
        switch node.op {
        case .iota(let axis):
            let a = axis < 0 ? axis + type.rank : axis
            var c = Array(repeating: 0, count: rank)
            if type.shape[a] != 1 { c[a + offset] = 1 }
            self.init(coefficients: c, constant: 0)
        case .constant(.splat(let x)):
            guard x == x.rounded(), abs(x) < 1e9 else { return nil }
            self.init(coefficients: Array(repeating: 0, count: rank), constant: Int(x))
        case .cast(let to):
            // Indices are exact in these; a cast to i1 or a byte is not the identity on them.
            guard [.i32, .i64, .f32, .f64].contains(to) else { return nil }
            self.init(graph: graph, value: node.operands[0], rank: rank)
        case .unary(.identity), .broadcast:
            self.init(graph: graph, value: node.operands[0], rank: rank)
        case .binary(.add), .binary(.sub):
            guard let a = Affine(graph: graph, value: node.operands[0], rank: rank),
                  let b = Affine(graph: graph, value: node.operands[1], rank: rank) else { return nil }
            self = node.op == .binary(.add) ? a.plus(b) : a.minus(b)
        case .binary(.mul):
            guard let a = Affine(graph: graph, value: node.operands[0], rank: rank),
                  let b = Affine(graph: graph, value: node.operands[1], rank: rank) else { return nil }
            if a.coefficients.allSatisfy({ $0 == 0 }) { self = b.times(a.constant) } else if b.coefficients.allSatisfy({ $0 == 0 }) {
                self = a.times(b.constant)
            } else { return nil }
        default:
            return nil
        }
    }

    func plus(_ other: Affine) -> Affine {
        Affine(coefficients: zip(coefficients, other.coefficients).map(+), constant: constant + other.constant)
    }

    func minus(_ other: Affine) -> Affine {
        Affine(coefficients: zip(coefficients, other.coefficients).map(-), constant: constant - other.constant)
    }

    func times(_ k: Int) -> Affine { Affine(coefficients: coefficients.map { $0 * k }, constant: constant * k) }
}
