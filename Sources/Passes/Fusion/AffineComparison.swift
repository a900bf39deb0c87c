import GraphIR

/// A mask predicate of the form `Σ c_d · index_d + c > 0` over the dims of a tensor, read from
/// iotas, integer constants, additions, subtractions, constant multiples, casts and one
/// comparison. It tells a causal mask however it is written: `gt(col, row)`, `lt(row, col)`,
/// `ge(col, row + 1)`, `triu(…, 1)` as an importer spells it.
struct AffineComparison {
    var coefficients: [Int]
    var constant: Int

    init?(graph: Graph, value: ValueID) {
        let rank = graph.type(of: value).rank
        guard let node = graph.producer(of: value), case .binary(let f) = node.op, f.isComparison,
              let a = Affine(graph: graph, value: node.operands[0], rank: rank),
              let b = Affine(graph: graph, value: node.operands[1], rank: rank) else { return nil }
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

    /// Whether the predicate is exactly `index[keyDim] > index[queryDim]`.
    func isKeyAfterQuery(queryDim: Int, keyDim: Int, rank: Int) -> Bool {
        var expected = Array(repeating: 0, count: rank)
        expected[keyDim] = 1
        expected[queryDim] = -1
        return coefficients == expected && constant == 0
    }

    /// Whether the predicate is exactly `index[keyDim] <= index[queryDim]`, i.e.
    /// `index[queryDim] - index[keyDim] + 1 > 0`: the complement of "key after query", which
    /// `select(keep, x, -inf)` spells a causal mask with.
    func isKeyAtOrBeforeQuery(queryDim: Int, keyDim: Int, rank: Int) -> Bool {
        var expected = Array(repeating: 0, count: rank)
        expected[keyDim] = -1
        expected[queryDim] = 1
        return coefficients == expected && constant == 1
    }
}

/// `Σ c_d · index_d + c` over the dims of a rank-`rank` iteration space (operands aligned right).
private struct Affine {
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
        case .cast, .unary(.identity):
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
