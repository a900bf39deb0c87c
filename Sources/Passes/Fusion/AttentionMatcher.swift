import GraphIR

/// Recognises softmax attention by what it computes, not how it is spelled: starting from a
/// softmax, it walks the scores back to a score function of a query and a key (a dot product, or
/// `w·tanh(q + k)` written as a projection of a sum or of a concat), collecting scales, additive
/// masks and `select(p, c, x)` masks (`masked_fill`, c any constant) in order on the way, and walks the probabilities forward to a weighted
/// sum of values (a matmul over the key axis, or a multiply and a sum over it). Views that only
/// add or drop size-1 dims, transposes folded into matmul flags, and any placement of the scale
/// are seen through; every dim gets a role (batch, query, key, feature), which fixes the layout
/// of each operand.
struct AttentionMatcher {
    let graph: Graph
    let users: [[NodeID]]

    init(_ graph: Graph) {
        self.graph = graph
        users = graph.users()
    }

    // MARK: Entry

    func match(softmax id: NodeID) throws(AttentionMiss) -> AttentionMatch {
        let softmax = graph[id]
        guard case .softmax(let axis) = softmax.op else { preconditionFailure("not a softmax") }
        let scores = softmax.operands[0]
        let rank = graph.type(of: scores).rank
        let keyAxis = axis < 0 ? axis + rank : axis
        var walk = ScoreWalk(matcher: self, keyAxis: keyAxis)
        try walk.descend(scores, dims: Array(0..<rank).map { Optional($0) }, multiplier: 1)
        guard let terminal = walk.terminal else {
            throw AttentionMiss(node: graph.producer(of: scores), reason: "no score function of a query and a key feeds the softmax")
        }
        // Roles of the scores' dims, from the score function's.
        var roles = Array(repeating: DimRole.unit, count: rank)
        for (terminalDim, scoreDim) in terminal.scoreDims.enumerated() {
            if let scoreDim { roles[scoreDim] = terminal.roles[terminalDim] }
        }
        guard roles[keyAxis] == .key else {
            throw AttentionMiss(node: softmax, reason: "the softmax axis \(axis) is not the key axis of the scores")
        }
        let probabilities = RoledValue(value: softmax.results[0], roles: roles)
        let sum = try weightedSum(of: probabilities)
        var masks: [AttentionMatch.Mask] = walk.layers.map { layer in
            let roled = RoledValue(value: layer.value, roles: rolesFromScores(layer.scoreDims, roles))
            switch layer.kind {
            case .add(let multiplier): return .add(roled, multiplier: multiplier)
            case .select(let negated, let fill): return .select(roled, negated: negated, fill: fill)
            }
        }
        if let bias = terminal.extraMask {
            // A bias on the single score: broadcast over every dim (a scalar per score).
            masks.append(.add(RoledValue(value: bias, roles: Array(repeating: .unit, count: graph.type(of: bias).rank)),
                              multiplier: walk.terminalMultiplier))
        }
        let (rest, causal) = separateCausal(masks)
        var match = AttentionMatch(
            softmax: id, weightedSum: sum.node, score: terminal.score, scale: walk.scale, query: terminal.query,
            key: terminal.key, value: sum.value, scoreWeight: terminal.scoreWeight, masks: rest, causal: causal,
            output: sum.output, probabilities: nil, batchSizes: terminal.batchSizes,
            absorbed: walk.absorbed + ["softmax"] + sum.absorbed)
        // Anyone else reading the probabilities gets them as the op's second result.
        let others = users[probabilities.value.index].filter { !sum.path.contains($0) }
        if !others.isEmpty || graph.outputs.contains(probabilities.value) {
            guard others.allSatisfy({ $0 > sum.node }) else {
                throw AttentionMiss(node: graph[others[0]], reason: "the probabilities are read before the weighted sum is computed")
            }
            match.probabilities = probabilities
        }
        match.skipped = [id] + sum.path
        return match
    }

    private func rolesFromScores(_ scoreDims: [Int?], _ roles: [DimRole]) -> [DimRole] {
        scoreDims.map { $0.map { roles[$0] } ?? .unit }
    }

    // MARK: The weighted sum

    private struct WeightedSum {
        var node: NodeID
        var value: RoledValue
        var output: RoledValue
        /// Nodes from the softmax to the weighted sum's result (views, the product, the sum).
        var path: [NodeID]
        var absorbed: [String]
    }

    /// Follows the probabilities through size-1 views to a product summed over the key axis.
    private func weightedSum(of start: RoledValue) throws(AttentionMiss) -> WeightedSum {
        var p = start
        var path: [NodeID] = []
        var absorbed: [String] = []
        while true {
            let readers = users[p.value.index]
            // The first reader that continues the chain; others are handled as extra users.
            guard let next = readers.first(where: { isContinuation(graph[$0], of: p.value) }) else {
                throw AttentionMiss(node: readers.first.map { graph[$0] },
                                    reason: "the probabilities are not summed against values over the key axis")
            }
            let node = graph[next]
            switch node.op {
            case .reshape:
                guard let roles = mapThroughView(p.roles, from: graph.type(of: p.value).shape, to: graph.type(of: node.results[0]).shape) else {
                    throw AttentionMiss(node: node, reason: "the view merges or splits dims")
                }
                path.append(next)
                absorbed.append("reshape")
                p = RoledValue(value: node.results[0], roles: roles)
            case .matmul(let transposeA, let transposeB):
                let probabilitiesFirst = node.operands[0] == p.value
                let otherIndex = probabilitiesFirst ? 1 : 0
                guard node.operands[0] != node.operands[1] else { throw AttentionMiss(node: node, reason: "the probabilities multiply themselves") }
                let pRank = p.roles.count
                let contracted = probabilitiesFirst ? (transposeA ? pRank - 2 : pRank - 1) : (transposeB ? pRank - 1 : pRank - 2)
                guard p.roles[contracted] == .key else {
                    throw AttentionMiss(node: node, reason: "the product does not contract the key axis")
                }
                let otherMatrix = probabilitiesFirst ? (transposeA ? pRank - 1 : pRank - 2) : (transposeB ? pRank - 2 : pRank - 1)
                let queryRole = p.roles[otherMatrix] == .query ? DimRole.query : .unit
                let v = node.operands[otherIndex]
                let vRank = graph.type(of: v).rank
                let transposeV = probabilitiesFirst ? transposeB : transposeA
                // Value dims: batch dims aligned with the probabilities', then [keys, features] in some order.
                var vRoles = batchRoles(of: v, alignedWith: p)
                let (vKey, vFeature) = probabilitiesFirst ? (transposeV ? (vRank - 1, vRank - 2) : (vRank - 2, vRank - 1))
                                                          : (transposeV ? (vRank - 2, vRank - 1) : (vRank - 1, vRank - 2))
                vRoles[vKey] = .key
                vRoles[vFeature] = .feature
                let result = node.results[0]
                let rRank = graph.type(of: result).rank
                var rRoles = batchRoles(of: result, alignedWith: p)
                rRoles[rRank - 2] = probabilitiesFirst ? queryRole : .feature
                rRoles[rRank - 1] = probabilitiesFirst ? .feature : queryRole
                return WeightedSum(node: next, value: RoledValue(value: v, roles: vRoles), output: RoledValue(value: result, roles: rRoles),
                                   path: path + [next], absorbed: absorbed + ["matmul"])
            case .binary(.mul):
                let v = node.operands[0] == p.value ? node.operands[1] : node.operands[0]
                let productUsers = users[node.results[0].index]
                guard productUsers.count == 1, !graph.outputs.contains(node.results[0]),
                      case .reduce(.sum, let axes?, let keepDims) = graph[productUsers[0]].op else {
                    throw AttentionMiss(node: node, reason: "the product of probabilities and values is not summed")
                }
                let product = node.results[0]
                let shape = graph.type(of: product).shape
                let pShape = graph.type(of: p.value).shape, vShape = graph.type(of: v).shape
                let offsetP = shape.count - pShape.count, offsetV = shape.count - vShape.count
                var productRoles = Array(repeating: DimRole.unit, count: shape.count)
                var vRoles = Array(repeating: DimRole.unit, count: vShape.count)
                var featureDims = 0
                for d in shape.indices {
                    let pRole = d >= offsetP && pShape[d - offsetP] != 1 ? p.roles[d - offsetP] : DimRole.unit
                    let vSize = d >= offsetV ? vShape[d - offsetV] : 1
                    var role = pRole
                    if pRole == .unit && vSize != 1 {
                        role = .feature
                        featureDims += 1
                    }
                    productRoles[d] = role
                    if d >= offsetV && vSize != 1 { vRoles[d - offsetV] = role }
                }
                guard featureDims <= 1 else { throw AttentionMiss(node: node, reason: "the values have more than one feature dim") }
                let keyDims = productRoles.indices.filter { productRoles[$0] == .key }
                let summed = axes.map { $0 < 0 ? $0 + shape.count : $0 }
                guard summed == keyDims else {
                    throw AttentionMiss(node: graph[productUsers[0]], reason: "the sum is not over exactly the key axis")
                }
                let result = graph[productUsers[0]].results[0]
                let rRoles = keepDims ? productRoles.map { $0 == .key ? DimRole.unit : $0 } : productRoles.filter { $0 != .key }
                return WeightedSum(node: productUsers[0], value: RoledValue(value: v, roles: vRoles),
                                   output: RoledValue(value: result, roles: rRoles),
                                   path: path + [next, productUsers[0]], absorbed: absorbed + ["mul", "sum"])
            default:
                preconditionFailure("isContinuation admitted \(node.op.mnemonic)")
            }
        }
    }

    private func isContinuation(_ node: Node, of value: ValueID) -> Bool {
        switch node.op {
        case .reshape, .matmul: return true
        case .binary(.mul): return true
        default: return false
        }
    }

    /// Roles for `value`'s dims: batch roles where its dims line up (from the right, numpy style)
    /// with `reference`'s batch dims, unit elsewhere.
    func batchRoles(of value: ValueID, alignedWith reference: RoledValue) -> [DimRole] {
        let rank = graph.type(of: value).rank
        let shape = graph.type(of: value).shape
        var roles = Array(repeating: DimRole.unit, count: rank)
        let referenceBatch = reference.roles.dropLast(2)
        let valueBatch = rank - 2
        for j in 0..<max(0, valueBatch) {
            let r = referenceBatch.count - valueBatch + j
            if r >= 0, case .batch = referenceBatch[referenceBatch.startIndex + r], shape[j] != 1 {
                roles[j] = referenceBatch[referenceBatch.startIndex + r]
            }
        }
        return roles
    }

    /// Roles across a reshape that only adds or drops size-1 dims; nil if it merges or splits.
    func mapThroughView(_ roles: [DimRole], from source: [Dim], to target: [Dim]) -> [DimRole]? {
        let sourceDims = source.indices.filter { source[$0] != 1 }
        let targetDims = target.indices.filter { target[$0] != 1 }
        guard sourceDims.map({ source[$0] }) == targetDims.map({ target[$0] }) else { return nil }
        var result = Array(repeating: DimRole.unit, count: target.count)
        for (s, t) in zip(sourceDims, targetDims) { result[t] = roles[s] }
        return result
    }

    // MARK: Causal masks

    /// The masks without the one that makes the attention causal, and whether there was one.
    ///
    /// A select that fills -inf exactly where the key comes after the query is `causal=true`
    /// when only other -inf selects are outside it: the fused op applies causality last, and
    /// what an outer finite fill or an outer addend does to those scores would be lost. This is
    /// exact, NaN and inf scores included.
    ///
    /// An additive mask that is -inf exactly where the key comes after the query and 0 elsewhere
    /// (a constant, or a select of 0 and -inf on such a predicate) is `causal=true` too when no
    /// select with a finite fill is outside it. This one is exact but for scores that are NaN or
    /// +inf at masked keys: adding -inf keeps them (NaN, and the row is NaN), `causal` drops them,
    /// as a select would and as PyTorch's fused kernels do. It is what lets the kernel skip the
    /// masked key tiles (docs/IR.md, "Numerics").
    func separateCausal(_ masks: [AttentionMatch.Mask]) -> (masks: [AttentionMatch.Mask], causal: Bool) {
        var rest: [AttentionMatch.Mask] = []
        var causal = false
        // What the masks outside the current one allow.
        var onlyInfiniteSelectsOutside = true, noFiniteSelectOutside = true
        for mask in masks {
            switch mask {
            case .select(let predicate, let negated, let fill):
                if fill == -.infinity && onlyInfiniteSelectsOutside && isCausal(predicate, negated: negated) {
                    causal = true
                    continue
                }
                if fill != -.infinity { noFiniteSelectOutside = false; onlyInfiniteSelectsOutside = false }
            case .add(let value, let multiplier):
                if multiplier > 0 && noFiniteSelectOutside && isAdditiveCausal(value) {
                    causal = true
                    continue
                }
                onlyInfiniteSelectsOutside = false
            }
            rest.append(mask)
        }
        return (rest, causal)
    }

    /// Whether a mask predicate masks exactly the keys after the query: it is "key after query"
    /// (j > i), or when `negated` (`select(keep, x, -inf)`: the mask holds where the predicate
    /// does not) "key at or before query" (j <= i); written with iotas and comparisons (see
    /// `IndexPredicate`), whatever the sizes, or computed from constants (see `evaluateMask`),
    /// possibly broadcast.
    func isCausal(_ predicate: RoledValue, negated: Bool = false) -> Bool {
        let predicate = throughBroadcasts(predicate)
        guard let query = predicate.roles.firstIndex(of: .query), let key = predicate.roles.firstIndex(of: .key) else { return false }
        if let form = IndexPredicate(graph: graph, value: predicate.value, rank: predicate.roles.count) {
            let expected = AffineComparison.keyAfterQuery(queryDim: query, keyDim: key, rank: predicate.roles.count)
            return (negated ? form.negated : form) == .halfPlane(expected)
        }
        guard let values = evaluateMask(graph, predicate.value)?.doubles else { return false }
        return everyElement(of: predicate, values, query: query, key: key) { value, future in ((value != 0) != negated) == future }
    }

    /// Whether an additive mask is -inf exactly where the key comes after the query and 0
    /// elsewhere: `select(p, -inf, 0)` or `select(p, 0, -inf)` of splat constants on a causal
    /// predicate (how `triu(full(-inf), 1)` and ONNX's causal Attention bias import), or a mask
    /// computed from constants (a constant tensor; see `evaluateMask`), possibly broadcast.
    func isAdditiveCausal(_ mask: RoledValue) -> Bool {
        let mask = throughBroadcasts(mask)
        guard let query = mask.roles.firstIndex(of: .query), let key = mask.roles.firstIndex(of: .key),
              let node = graph.producer(of: mask.value) else { return false }
        if case .select = node.op, let a = graph.constantValue(node.operands[1]), let b = graph.constantValue(node.operands[2]) {
            let predicate = RoledValue(value: node.operands[0], roles: alignedRoles(of: node.operands[0], in: mask))
            if a == -.infinity && b == 0 { return isCausal(predicate) }
            if a == 0 && b == -.infinity { return isCausal(predicate, negated: true) }
            return false
        }
        guard let values = evaluateMask(graph, mask.value)?.doubles else { return false }
        return everyElement(of: mask, values, query: query, key: key) { value, future in future ? value == -.infinity : value == 0 }
    }

    /// Broadcasts are seen through (the ONNX importer writes a 4-d Trilu mask as
    /// `broadcast(gt(iota, iota), shape=[1,1,S,S])`); a dim broadcast from size 1 has no role.
    private func throughBroadcasts(_ value: RoledValue) -> RoledValue {
        var value = value
        while let node = graph.producer(of: value.value), case .broadcast = node.op {
            value = RoledValue(value: node.operands[0], roles: alignedRoles(of: node.operands[0], in: value))
        }
        return value
    }

    /// Roles of an operand broadcast (aligned to the right) into `result`.
    private func alignedRoles(of operand: ValueID, in result: RoledValue) -> [DimRole] {
        let shape = graph.type(of: operand).shape
        return zip(shape, result.roles.suffix(shape.count)).map { size, role in size == 1 ? DimRole.unit : role }
    }

    /// Whether `holds(element, key after query)` for every element of a constant.
    private func everyElement(of constant: RoledValue, _ values: [Double], query: Int, key: Int,
                              _ holds: (Double, Bool) -> Bool) -> Bool {
        guard let shape = graph.type(of: constant.value).staticShape else { return false }
        let strides = rowMajorElementStrides(shape)
        var index = Array(repeating: 0, count: shape.count)
        for flat in values.indices {
            var rest = flat
            for d in shape.indices { index[d] = rest / strides[d]; rest %= strides[d] }
            if !holds(values[flat], index[key] > index[query]) { return false }
        }
        return true
    }
}

func rowMajorElementStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var running = 1
    for i in shape.indices.reversed() {
        strides[i] = running
        running *= shape[i]
    }
    return strides
}
