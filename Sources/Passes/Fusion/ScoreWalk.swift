import GraphIR

/// The score function found at the bottom of the scores: its kind, operands and dim roles.
struct ScoreTerminal {
    var score: AttentionScore
    /// Roles of the terminal's result dims.
    var roles: [DimRole]
    /// For each terminal result dim, the scores dim it becomes (nil: a broadcast size-1 dim).
    var scoreDims: [Int?]
    var query: [AttentionMatch.Term]
    var key: [AttentionMatch.Term]
    var scoreWeight: ValueID?
    var batchSizes: [Dim]
    /// Scales peeled off the operands (`mul(q, c)` feeding the product).
    var operandScale: Double
    /// A bias added after the score projection (`linear(…, bias)`): an additive term.
    var extraMask: ValueID?
}

/// One mask on the way from the softmax to the score function.
struct ScoreLayer {
    enum Kind {
        /// `x + multiplier · value`.
        case add(multiplier: Double)
        /// `value ? fill : x`, or with `negated` `value ? x : fill` (`fill` already times the
        /// scales above the select).
        case select(negated: Bool, fill: Double)
    }

    var kind: Kind
    var value: ValueID
    /// For each dim of `value`, the scores dim it lines up with (nil: broadcast).
    var scoreDims: [Int?]
}

/// Walks from the softmax's input down to the score function, through views, scalar scales,
/// additive masks and `select(pred, c, x)` masks (c any scalar constant: -inf, -1e9, …).
struct ScoreWalk {
    let matcher: AttentionMatcher
    let keyAxis: Int
    private(set) var terminal: ScoreTerminal?
    private(set) var terminalMultiplier = 1.0
    /// The masks, outermost (nearest the softmax) first; their order matters (a select replaces
    /// what the masks below it made).
    private(set) var layers: [ScoreLayer] = []
    private(set) var absorbed: [String] = []

    private var graph: Graph { matcher.graph }

    init(matcher: AttentionMatcher, keyAxis: Int) {
        self.matcher = matcher
        self.keyAxis = keyAxis
    }

    /// The scale of the score function: multipliers on the way down times those on its operands.
    var scale: Double { terminalMultiplier * (terminal?.operandScale ?? 1) }

    /// Descends into `value`, whose dim d is scores dim `dims[d]`.
    mutating func descend(_ value: ValueID, dims: [Int?], multiplier: Double) throws(AttentionMiss) {
        guard let node = graph.producer(of: value) else {
            throw AttentionMiss(node: nil, reason: "the scores come straight from a graph input")
        }
        switch node.op {
        case .reshape:
            let source = node.operands[0]
            guard let mapped = mapDims(dims, from: graph.type(of: value).shape, to: graph.type(of: source).shape) else {
                throw AttentionMiss(node: node, reason: "a view on the scores merges or splits dims")
            }
            absorbed.append("reshape")
            try descend(source, dims: mapped, multiplier: multiplier)
        case .binary(.mul):
            for (side, other) in [(1, 0), (0, 1)] {
                if let c = scalarConstant(node.operands[side]) {
                    absorbed.append("mul")
                    try descend(node.operands[other], dims: aligned(node.operands[other], to: value, dims), multiplier: multiplier * c)
                    return
                }
            }
            throw AttentionMiss(node: node, reason: "the scores are multiplied by a tensor, not a scalar")
        case .binary(.add), .binary(.sub):
            let (a, b) = (node.operands[0], node.operands[1])
            let (aScores, bScores) = (reachesScoreFunction(a), reachesScoreFunction(b))
            guard aScores != bScores else {
                throw AttentionMiss(node: node, reason: aScores ? "both addends of the scores contain a score function"
                                                                : "neither addend of the scores is a score function")
            }
            let sign = node.op == .binary(.sub) ? -1.0 : 1.0
            absorbed.append(node.op.mnemonic)
            if aScores {
                layers.append(ScoreLayer(kind: .add(multiplier: multiplier * sign), value: b, scoreDims: aligned(b, to: value, dims)))
                try descend(a, dims: aligned(a, to: value, dims), multiplier: multiplier)
            } else {
                layers.append(ScoreLayer(kind: .add(multiplier: multiplier), value: a, scoreDims: aligned(a, to: value, dims)))
                try descend(b, dims: aligned(b, to: value, dims), multiplier: multiplier * sign)
            }
        case .select:
            // select(p, c, x) or select(p, x, c): masked_fill with any constant c. Scales above
            // the select scale c too (mul(select(p, -1e9, x), 0.5) fills -5e8).
            let (predicate, a, b) = (node.operands[0], node.operands[1], node.operands[2])
            let negated: Bool, fill: Double, scores: ValueID
            if let c = splatFill(a, besides: b), reachesScoreFunction(b) {
                (negated, fill, scores) = (false, c, b)
            } else if let c = splatFill(b, besides: a), reachesScoreFunction(a) {
                (negated, fill, scores) = (true, c, a)
            } else {
                throw AttentionMiss(node: node, reason: "a select on the scores whose other operand is not a constant")
            }
            layers.append(ScoreLayer(kind: .select(negated: negated, fill: multiplier == 1 ? fill : multiplier * fill),
                                     value: predicate, scoreDims: aligned(predicate, to: value, dims)))
            absorbed.append("select")
            try descend(scores, dims: aligned(scores, to: value, dims), multiplier: multiplier)
        case .matmul, .linear:
            terminalMultiplier = multiplier
            terminal = try scoreFunction(node, dims: dims)
        default:
            throw AttentionMiss(node: node, reason: "the scores pass through \(node.op.mnemonic)")
        }
    }

    /// Whether the walk would find a score function below `value` (without committing to it).
    private func reachesScoreFunction(_ value: ValueID) -> Bool {
        guard let node = graph.producer(of: value) else { return false }
        switch node.op {
        case .matmul, .linear: return true
        case .reshape, .binary(.mul): return node.operands.contains(where: reachesScoreFunction)
        case .binary(.add), .binary(.sub): return node.operands.contains(where: reachesScoreFunction)
        case .select: return reachesScoreFunction(node.operands[1]) || reachesScoreFunction(node.operands[2])
        default: return false
        }
    }

    // MARK: Score functions

    private func scoreFunction(_ node: Node, dims: [Int?]) throws(AttentionMiss) -> ScoreTerminal {
        if let additive = try additiveScore(node, dims: dims) { return additive }
        guard case .matmul(let transposeA, let transposeB) = node.op else {
            throw AttentionMiss(node: node, reason: "a linear layer whose output is not a single score")
        }
        let shape = graph.type(of: node.results[0]).shape
        let rank = shape.count
        let (m, n) = (rank - 2, rank - 1)
        let keyOnRight: Bool
        if dims[n] == keyAxis { keyOnRight = true } else if dims[m] == keyAxis { keyOnRight = false } else {
            throw AttentionMiss(node: node, reason: "the product's rows and columns are not queries and keys")
        }
        var roles = (0..<(rank - 2)).map { DimRole.batch($0) } + [DimRole.query, .query]
        roles[keyOnRight ? n : m] = .key
        var operandScale = 1.0
        let a = peelScale(node.operands[0], &operandScale), b = peelScale(node.operands[1], &operandScale)
        let aRank = graph.type(of: a).rank, bRank = graph.type(of: b).rank
        var aRoles = batchRoles(a, batchCount: rank - 2)
        var bRoles = batchRoles(b, batchCount: rank - 2)
        // A is [rows, contracted] (or transposed), B is [contracted, columns] (or transposed).
        aRoles[transposeA ? aRank - 1 : aRank - 2] = keyOnRight ? .query : .key
        aRoles[transposeA ? aRank - 2 : aRank - 1] = .feature
        bRoles[transposeB ? bRank - 2 : bRank - 1] = keyOnRight ? .key : .query
        bRoles[transposeB ? bRank - 1 : bRank - 2] = .feature
        let query = keyOnRight ? RoledValue(value: a, roles: aRoles) : RoledValue(value: b, roles: bRoles)
        let key = keyOnRight ? RoledValue(value: b, roles: bRoles) : RoledValue(value: a, roles: aRoles)
        return ScoreTerminal(score: .dot, roles: roles, scoreDims: dims, query: [.value(query)], key: [.value(key)],
                             scoreWeight: nil, batchSizes: Array(shape.prefix(rank - 2)), operandScale: operandScale, extraMask: nil)
    }

    /// `w·tanh(Y)` as `matmul(tanh(Y), W[U,1])` or `linear(tanh(Y), W[1,U], b?)`, where Y sums
    /// query-side and key-side terms (or projects a concat of them).
    private func additiveScore(_ node: Node, dims: [Int?]) throws(AttentionMiss) -> ScoreTerminal? {
        let shape = graph.type(of: node.results[0]).shape
        guard shape.last == 1, let tanhNode = graph.producer(of: node.operands[0]), tanhNode.op == .unary(.tanh) else { return nil }
        let weight = node.operands[1]
        let weightShape = graph.type(of: weight).shape
        switch node.op {
        case .matmul(false, false): guard weightShape.count == 2, weightShape[1] == 1 else { return nil }
        case .linear: guard weightShape.count == 2, weightShape[0] == 1 else { return nil }
        default: return nil
        }
        let hidden = tanhNode.operands[0]
        let hiddenShape = graph.type(of: hidden).shape
        let rank = hiddenShape.count
        guard let keyDim = dims.firstIndex(of: keyAxis), keyDim < rank - 1 else {
            throw AttentionMiss(node: node, reason: "the key axis is the projected one")
        }
        // Every dim but the key and the hidden one is a batch dim (several queries are batched too).
        var roles: [DimRole] = []
        var batchCount = 0
        for d in 0..<(rank - 1) {
            if d == keyDim { roles.append(.key) } else { roles.append(.batch(batchCount)); batchCount += 1 }
        }
        let hiddenRoles = roles + [.feature]
        var queryTerms: [AttentionMatch.Term] = [], keyTerms: [AttentionMatch.Term] = []
        for term in try hiddenTerms(hidden, roles: hiddenRoles) {
            if term.keySized { keyTerms.append(term.term) } else { queryTerms.append(term.term) }
        }
        guard !keyTerms.isEmpty, !queryTerms.isEmpty else {
            throw AttentionMiss(node: tanhNode, reason: "the tanh's input does not add a query part and a key part")
        }
        var terminal = ScoreTerminal(score: .additive, roles: roles + [.unit], scoreDims: dims, query: queryTerms, key: keyTerms,
                                     scoreWeight: weight, batchSizes: roles.indices.filter { roles[$0] != .key }.map { shape[$0] },
                                     operandScale: 1, extraMask: nil)
        if case .linear = node.op, node.operands.count > 2 {
            terminal.extraMask = node.operands[2]
        }
        return terminal
    }

    /// The addends of the tanh's input, each marked by whether it varies along the keys. `roles`
    /// are `value`'s dims' roles.
    private func hiddenTerms(_ value: ValueID, roles: [DimRole]) throws(AttentionMiss) -> [(term: AttentionMatch.Term, keySized: Bool)] {
        let shape = graph.type(of: value).shape
        func roled(_ id: ValueID) -> (RoledValue, Bool) {
            let own = graph.type(of: id).shape
            let offset = shape.count - own.count
            var r = Array(repeating: DimRole.unit, count: own.count)
            for j in own.indices where own[j] != 1 || j == own.count - 1 { r[j] = roles[j + offset] }
            return (RoledValue(value: id, roles: r), r.contains(.key))
        }
        guard let node = graph.producer(of: value) else {
            let (r, keySized) = roled(value)
            return [(.value(r), keySized)]
        }
        switch node.op {
        case .binary(.add):
            let a = node.operands[0], b = node.operands[1]
            return try hiddenTerms(a, roles: Array(roles.suffix(graph.type(of: a).rank)))
                + hiddenTerms(b, roles: Array(roles.suffix(graph.type(of: b).rank)))
        case .matmul(false, false), .linear:
            // A projection of a concat along the features: split it into one projection per part.
            guard let concatNode = graph.producer(of: node.operands[0]), case .concat(let axis) = concatNode.op,
                  axis == -1 || axis == graph.type(of: node.operands[0]).rank - 1,
                  node.operands.count == 2 else { break }
            let linear = node.op == .linear
            var start = 0
            var terms: [(AttentionMatch.Term, Bool)] = []
            for part in concatNode.operands {
                var source = part
                // A part broadcast along the keys is computed once and broadcast after projecting.
                if let b = graph.producer(of: part), case .broadcast = b.op { source = b.operands[0] }
                let width = graph.type(of: part).shape.last!.value!
                let (r, keySized) = roled(source)
                terms.append((.projected(part: r, weight: node.operands[1], range: start..<(start + width), linear: linear, roles: r.roles),
                              keySized))
                start += width
            }
            return terms
        default:
            break
        }
        let (r, keySized) = roled(value)
        return [(.value(r), keySized)]
    }

    // MARK: Helpers

    private func peelScale(_ value: ValueID, _ scale: inout Double) -> ValueID {
        guard let node = graph.producer(of: value), node.op == .binary(.mul) else { return value }
        for (side, other) in [(1, 0), (0, 1)] {
            if let c = scalarConstant(node.operands[side]), graph.type(of: node.operands[other]) == graph.type(of: value) {
                scale *= c
                return peelScale(node.operands[other], &scale)
            }
        }
        return value
    }

    /// Batch roles for an operand of a product with `batchCount` batch dims (aligned from the right).
    private func batchRoles(_ value: ValueID, batchCount: Int) -> [DimRole] {
        let shape = graph.type(of: value).shape
        let own = shape.count - 2
        var roles = Array(repeating: DimRole.unit, count: shape.count)
        for j in 0..<max(0, own) where shape[j] != 1 { roles[j] = .batch(batchCount - own + j) }
        return roles
    }

    /// The value of a splat constant `fill` that does not widen the select it fills (its shape
    /// broadcasts into `other`'s).
    private func splatFill(_ fill: ValueID, besides other: ValueID) -> Double? {
        let (own, full) = (graph.type(of: fill).shape, graph.type(of: other).shape)
        guard own.count <= full.count, zip(own.reversed(), full.reversed()).allSatisfy({ $0 == 1 || $0 == $1 }) else { return nil }
        return graph.constantValue(fill)
    }

    private func scalarConstant(_ value: ValueID) -> Double? {
        guard graph.type(of: value).elementCount == 1 else { return nil }
        return graph.constantValue(value)
    }

    /// Dims of an operand broadcast into `result` (aligned from the right): the scores dim of the
    /// result dim it lines up with, nil where it is broadcast.
    private func aligned(_ operand: ValueID, to result: ValueID, _ dims: [Int?]) -> [Int?] {
        let own = graph.type(of: operand).shape, full = graph.type(of: result).shape
        let offset = full.count - own.count
        return own.indices.map { j in own[j] == full[j + offset] && own[j] != 1 ? dims[j + offset] : nil }
    }

    /// Dims across a reshape that only adds or drops size-1 dims.
    private func mapDims(_ dims: [Int?], from result: [Dim], to source: [Dim]) -> [Int?]? {
        let resultDims = result.indices.filter { result[$0] != 1 }
        let sourceDims = source.indices.filter { source[$0] != 1 }
        guard resultDims.map({ result[$0] }) == sourceDims.map({ source[$0] }) else { return nil }
        var mapped = [Int?](repeating: nil, count: source.count)
        for (r, s) in zip(resultDims, sourceDims) { mapped[s] = dims[r] }
        return mapped
    }
}
