import GraphIR

/// Replaces every softmax attention, however it is written, by one `attention` op (see
/// `AttentionMatcher` for what is recognised). The fused op computes what the chain did, NaN and
/// inf included: selects on the scores stay selects (`select=true`), additive masks stay addends,
/// and only masks that are exactly the causal pattern become `causal=true` (see
/// `AttentionMatcher.separateCausal` for the one documented difference). Operands are brought to the op's layout with
/// transposes and reshapes the code generator reads through; results are brought back to the
/// layout the graph used. A softmax that is not attention gets a remark naming the node that
/// stopped the match.
///
/// ```
/// %s = matmul(%q, %k, transpose_b=true) : f32[1,8,512,512]
/// %t = mul(%s, 0.125) : f32[1,8,512,512]
/// %p = softmax(%t) : f32[1,8,512,512]                →   %o = attention(%q, %k, %v, scale=0.125) : f32[1,8,512,64]
/// %o = matmul(%p, %v) : f32[1,8,512,64]
/// ```
public struct FuseAttention: Pass {
    public let name = "fuse-attention"

    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        let matcher = AttentionMatcher(graph)
        var matches: [AttentionMatch] = []
        var claimed: Set<NodeID> = []
        for (n, node) in graph.nodes.enumerated() {
            guard case .softmax = node.op else { continue }
            do {
                let match = try matcher.match(softmax: NodeID(n))
                guard claimed.isDisjoint(with: match.skipped) else { continue }
                claimed.formUnion(match.skipped)
                matches.append(match)
            } catch {
                let stopper = error.node.map { " at \($0.op.mnemonic)\($0.results.first.flatMap { graph[$0].name }.map { " %" + $0 } ?? "")" } ?? ""
                context.remark(.missed, name, "softmax %\(node.results.first.flatMap { graph[$0].name } ?? "") not fused as attention\(stopper): \(error.reason)",
                               at: error.node?.location ?? node.location)
            }
        }
        guard !matches.isEmpty else { return false }

        var rebuilder = GraphRebuilder(graph)
        let skipped = Set(matches.flatMap(\.skipped))
        for (n, node) in graph.nodes.enumerated() {
            if let match = matches.first(where: { $0.skipped.max() == NodeID(n) }) {
                build(match, in: &rebuilder, graph: graph)
                context.remark(.fused, name, "attention (\(match.score.rawValue) score\(match.causal ? ", causal" : "")\(match.masks.isEmpty ? "" : ", masked")) absorbed \(match.absorbed.joined(separator: ", "))",
                               at: graph[match.softmax].location)
                continue
            }
            if skipped.contains(NodeID(n)) { continue }
            rebuilder.copy(node)
        }
        graph = rebuilder.finish()
        return true
    }

    /// Emits the fused op and the views that put its results where the graph expects them.
    private func build(_ match: AttentionMatch, in rebuilder: inout GraphRebuilder, graph: Graph) {
        let batchCount = match.batchSizes.count
        let query = sum(match.query, position: .query, batchCount: batchCount, &rebuilder)
        let key = sum(match.key, position: .key, batchCount: batchCount, &rebuilder)
        let value = rebuilder.canonical(mapped(match.value, rebuilder), batchCount: batchCount, trailing: [.key, .feature])
        var operands = [query, key, value]
        if let weight = match.scoreWeight {
            var w = rebuilder.value(weight)
            let type = rebuilder.type(w)
            let count = type.elementCount ?? 0
            if type.shape != [.known(count)] {
                w = rebuilder.add(.reshape(shape: [.known(count)]), [w], types: [TensorType(type.elementType, [.known(count)])])[0]
            }
            operands.append(w)
        }
        let masks = maskOperands(match.masks, batchCount: batchCount, &rebuilder)
        if let mask = masks.mask { operands.append(mask) }
        if let select = masks.select { operands += [select.predicate, select.fill] }
        let attributes = AttentionAttributes(score: match.score, scale: match.scale, causal: match.causal, weights: match.probabilities != nil,
                                             select: masks.select != nil)
        let op = Op.attention(attributes)
        guard let types = try? inferResultTypes(op, operands: operands.map(rebuilder.type), declared: nil) else {
            preconditionFailure("fused attention operands do not type: \(operands.map { rebuilder.type($0) })")
        }
        let results = rebuilder.add(op, operands, types: types, location: graph[match.softmax].location)
        let output = rebuilder.fromCanonical(results[0], batchCount: batchCount, trailing: [.query, .feature], to: match.output.roles,
                                             shape: graph.type(of: match.output.value).shape, name: graph[match.output.value].name)
        rebuilder.replace(match.output.value, with: output)
        if let probabilities = match.probabilities {
            let p = rebuilder.fromCanonical(results[1], batchCount: batchCount, trailing: [.query, .key], to: probabilities.roles,
                                            shape: graph.type(of: probabilities.value).shape, name: graph[probabilities.value].name)
            rebuilder.replace(probabilities.value, with: p)
        }
    }

    /// A query or key operand: its terms, each in `[batch…, position, feature]` form, added.
    private func sum(_ terms: [AttentionMatch.Term], position: DimRole, batchCount: Int, _ rebuilder: inout GraphRebuilder) -> ValueID {
        var total: ValueID?
        for term in terms {
            let roled: RoledValue
            switch term {
            case .value(let v):
                roled = mapped(v, rebuilder)
            case .projected(let part, let weight, let range, let linear, let roles):
                // part · W[range] (matmul weight [in, out]) or part · W[:, range]ᵀ (linear weight [out, in]).
                let w = rebuilder.value(weight)
                let wType = rebuilder.type(w)
                var sliced = wType.shape
                sliced[linear ? 1 : 0] = .known(range.count)
                let slice = rebuilder.add(.slice(axes: [linear ? 1 : 0], starts: [range.lowerBound], ends: [range.upperBound], steps: [1]),
                                          [w], types: [TensorType(wType.elementType, sliced)])[0]
                let x = rebuilder.value(part.value)
                let op: Op = linear ? .linear : .matmul(transposeA: false, transposeB: false)
                let resultType = try! inferResultTypes(op, operands: [rebuilder.type(x), rebuilder.type(slice)], declared: nil)[0]
                let projected = rebuilder.add(op, [x, slice], types: [resultType])[0]
                roled = RoledValue(value: projected, roles: roles)
            }
            let canonical = rebuilder.canonical(roled, batchCount: batchCount, trailing: [position, .feature])
            total = total.map { combine(.add, $0, canonical, &rebuilder) } ?? canonical
        }
        return total!
    }

    /// The masks as the fused op takes them, `s = predicate ? fill : s + mask`. Going from the
    /// innermost mask out: an addend joins `mask`, and the fill of any select below it, since
    /// `(p ? f : s) + m = p ? f + m : s + m`; a select joins the predicate by `or` and the fill by
    /// a select, since `p ? f : (P ? F : s) = (p or P) ? (p ? f : F) : s`. Each step computes what
    /// the graph did, so the fused scores are the unfused ones (NaN and inf included).
    private func maskOperands(_ masks: [AttentionMatch.Mask], batchCount: Int, _ rebuilder: inout GraphRebuilder)
        -> (mask: ValueID?, select: (predicate: ValueID, fill: ValueID)?) {
        var mask: ValueID?
        var select: (predicate: ValueID, fill: ValueID)?
        for layer in masks.reversed() {
            switch layer {
            case .add(let term, let multiplier):
                var m = rebuilder.canonical(mapped(term, rebuilder), batchCount: batchCount, trailing: [.query, .key])
                if multiplier != 1 {
                    m = rebuilder.add(.binary(.mul), [m, rebuilder.literal(multiplier, .f32)], types: [rebuilder.type(m)])[0]
                }
                mask = mask.map { combine(.add, $0, m, &rebuilder) } ?? m
                if let (predicate, fill) = select { select = (predicate, combine(.add, fill, m, &rebuilder)) }
            case .select(let predicate, let negated, let fill):
                var p = rebuilder.canonical(mapped(predicate, rebuilder), batchCount: batchCount, trailing: [.query, .key])
                if negated { p = rebuilder.add(.unary(.not), [p], types: [rebuilder.type(p)])[0] }
                let f = rebuilder.literal(fill, .f32)
                guard let inner = select else {
                    select = (p, f)
                    continue
                }
                let sameFill = rebuilder.graph.constantValue(inner.fill).map { $0 == fill || ($0.isNaN && fill.isNaN) } ?? false
                    && rebuilder.type(inner.fill).rank == 0
                let combinedFill = sameFill ? f : combineSelect(p, f, inner.fill, &rebuilder)
                select = (combine(.or, p, inner.predicate, &rebuilder), combinedFill)
            }
        }
        return (mask, select)
    }

    private func combine(_ f: BinaryFunction, _ a: ValueID, _ b: ValueID, _ rebuilder: inout GraphRebuilder) -> ValueID {
        let type = try! inferResultTypes(.binary(f), operands: [rebuilder.type(a), rebuilder.type(b)], declared: nil)[0]
        return rebuilder.add(.binary(f), [a, b], types: [type])[0]
    }

    private func combineSelect(_ p: ValueID, _ a: ValueID, _ b: ValueID, _ rebuilder: inout GraphRebuilder) -> ValueID {
        let type = try! inferResultTypes(.select, operands: [rebuilder.type(p), rebuilder.type(a), rebuilder.type(b)], declared: nil)[0]
        return rebuilder.add(.select, [p, a, b], types: [type])[0]
    }

    private func mapped(_ v: RoledValue, _ rebuilder: GraphRebuilder) -> RoledValue {
        RoledValue(value: rebuilder.value(v.value), roles: v.roles)
    }
}
