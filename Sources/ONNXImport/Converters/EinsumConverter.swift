import GraphIR

/// `Einsum` lowered to transposes, reshapes, reductions and batched matmuls: the forms attention
/// uses (`bhid,bhjd->bhij`, `bhij,bhjd->bhid`, `bid,bjd->bij`, ...) and, more generally, any
/// equation without a repeated label inside one operand (diagonals and traces are not supported).
///
///     bhid,bhjd->bhij   becomes   matmul(%q, %k, transpose_b=true)
///
/// Operands are contracted left to right. For each pair, labels in both operands that are kept
/// are batch dims, labels in both that are not kept are contracted, and the rest are free; each
/// operand is brought to `batch, free, contracted` order (or read transposed by the matmul when it
/// already is in `batch, contracted, free` order) and its free and contracted dims merged.
func convertEinsum(_ c: NodeContext) throws(ImportProblem) -> [ImportValue] {
    guard let equation = try c.attributes.string("equation") else { throw ImportProblem("needs the attribute 'equation'") }
    var operands: [Term] = []
    let parsed = try EinsumEquation(equation, ranks: (0..<c.inputs.count).map { i throws(ImportProblem) in try c.type(i).rank })
    for (i, labels) in parsed.inputs.enumerated() {
        operands.append(Term(value: try c.value(i), labels: labels))
    }
    let output = parsed.output
    // Labels used by one operand only and not by the output are summed away first.
    for i in operands.indices {
        let others = operands.indices.filter { $0 != i }.flatMap { operands[$0].labels } + output
        operands[i] = try operands[i].summing(over: operands[i].labels.filter { !others.contains($0) }, c)
    }
    var result = operands[0]
    for (k, next) in operands.enumerated().dropFirst() {
        let keep = Set(output + operands[(k + 1)...].flatMap(\.labels))
        result = try contract(result, next, keep: keep, c)
    }
    result = try result.summing(over: result.labels.filter { !output.contains($0) }, c)
    return single(try c.transpose(result.value, output.map { result.labels.firstIndex(of: $0)! }))
}

/// An operand and the label of each of its dims.
private struct Term {
    var value: ValueID
    var labels: [Character]

    func summing(over removed: [Character], _ c: NodeContext) throws(ImportProblem) -> Term {
        guard !removed.isEmpty else { return self }
        let axes = removed.map { labels.firstIndex(of: $0)! }
        return Term(value: try c.emit(.reduce(.sum, axes: axes, keepDims: false), [value]), labels: labels.filter { !removed.contains($0) })
    }
}

private func contract(_ a: Term, _ b: Term, keep: Set<Character>, _ c: NodeContext) throws(ImportProblem) -> Term {
    let a = try a.summing(over: a.labels.filter { !b.labels.contains($0) && !keep.contains($0) }, c)
    let b = try b.summing(over: b.labels.filter { !a.labels.contains($0) && !keep.contains($0) }, c)
    let batch = a.labels.filter { b.labels.contains($0) && keep.contains($0) }
    let contracted = a.labels.filter { b.labels.contains($0) && !keep.contains($0) }
    let freeA = a.labels.filter { !b.labels.contains($0) }
    let freeB = b.labels.filter { !a.labels.contains($0) }
    let shapeA = try c.staticShape(of: a.value), shapeB = try c.staticShape(of: b.value)
    func size(_ labels: [Character], _ term: Term, _ shape: [Int]) -> Int {
        labels.map { shape[term.labels.firstIndex(of: $0)!] }.reduce(1, *)
    }
    func dims(_ labels: [Character], _ term: Term, _ shape: [Int]) -> [Int] {
        labels.map { shape[term.labels.firstIndex(of: $0)!] }
    }
    let (m, k, n) = (size(freeA, a, shapeA), size(contracted, a, shapeA), size(freeB, b, shapeB))

    // Each side either is transposed into matmul order or, when already in the transposed order,
    // is read transposed by the matmul.
    let transposeA = a.labels == batch + contracted + freeA && !(freeA.isEmpty || contracted.isEmpty)
    let orderA = transposeA ? batch + contracted + freeA : batch + freeA + contracted
    var left = try c.transpose(a.value, orderA.map { a.labels.firstIndex(of: $0)! })
    left = try c.reshape(left, dims(batch, a, shapeA) + (transposeA ? [k, m] : [m, k]))
    let transposeB = b.labels == batch + freeB + contracted && !(freeB.isEmpty || contracted.isEmpty)
    let orderB = transposeB ? batch + freeB + contracted : batch + contracted + freeB
    var right = try c.transpose(b.value, orderB.map { b.labels.firstIndex(of: $0)! })
    right = try c.reshape(right, dims(batch, b, shapeB) + (transposeB ? [n, k] : [k, n]))

    let product = try c.emit(.matmul(transposeA: transposeA, transposeB: transposeB), [left, right])
    let batchDims = Array(try c.staticShape(of: product).dropLast(2))
    let result = try c.reshape(product, batchDims + dims(freeA, a, shapeA) + dims(freeB, b, shapeB))
    return Term(value: result, labels: batch + freeA + freeB)
}

/// A parsed equation: each input's labels and the output's, with `...` expanded to labels that
/// stand for the broadcast dims (right-aligned across operands).
private struct EinsumEquation {
    var inputs: [[Character]]
    var output: [Character]

    init(_ text: String, ranks: [Int]) throws(ImportProblem) {
        let equation = text.filter { !$0.isWhitespace }
        let sides = equation.components(separatedBy: "->")
        guard sides.count <= 2 else { throw ImportProblem("equation '\(text)' has more than one '->'") }
        let terms = sides[0].components(separatedBy: ",")
        guard terms.count == ranks.count else {
            throw ImportProblem("equation '\(text)' names \(terms.count) operands but the node has \(ranks.count)")
        }
        var explicit: [[Character]] = []
        var ellipsisRanks: [Int] = []
        for (term, rank) in zip(terms, ranks) {
            let (letters, hasEllipsis) = try EinsumEquation.letters(term, text)
            let ellipsisRank = rank - letters.filter { $0 != "." }.count
            guard hasEllipsis ? ellipsisRank >= 0 : ellipsisRank == 0 else {
                throw ImportProblem("equation term '\(term)' does not match an operand of rank \(rank)")
            }
            explicit.append(letters)
            ellipsisRanks.append(hasEllipsis ? ellipsisRank : 0)
        }
        let broadcastRank = ellipsisRanks.max() ?? 0
        // Private-use characters stand for the broadcast dims, numbered from the left of the widest.
        let broadcastLabels = (0..<broadcastRank).map { Character(Unicode.Scalar(0xE000 + $0)!) }
        inputs = zip(explicit, ellipsisRanks).map { letters, rank in
            letters.flatMap { $0 == "." ? Array(broadcastLabels.suffix(rank)) : [$0] }
        }
        for labels in inputs {
            if let repeated = labels.first(where: { l in labels.filter { $0 == l }.count > 1 }) {
                throw ImportProblem("equation '\(text)' repeats '\(repeated)' within one operand (a diagonal or trace), which attnc does not support")
            }
        }
        if sides.count == 2 {
            let (letters, _) = try EinsumEquation.letters(sides[1], text)
            output = letters.flatMap { $0 == "." ? broadcastLabels : [$0] }
        } else {
            let all = inputs.flatMap { $0 }
            let once = Set(all.filter { l in !broadcastLabels.contains(l) && all.filter { $0 == l }.count == 1 })
            output = broadcastLabels + once.sorted()
        }
        for label in output where !inputs.contains(where: { $0.contains(label) }) {
            throw ImportProblem("equation '\(text)' outputs '\(label)', which no operand has")
        }
        guard Set(output).count == output.count else { throw ImportProblem("equation '\(text)' repeats a label in its output") }
    }

    /// The letters of a term, with `...` as one "." entry.
    private static func letters(_ term: String, _ text: String) throws(ImportProblem) -> ([Character], Bool) {
        var result: [Character] = []
        var hasEllipsis = false
        var rest = Substring(term)
        while let first = rest.first {
            if rest.hasPrefix("...") {
                guard !hasEllipsis else { throw ImportProblem("equation '\(text)' has two '...' in one term") }
                hasEllipsis = true
                result.append(".")
                rest = rest.dropFirst(3)
            } else {
                guard first.isASCII && first.isLetter else { throw ImportProblem("equation '\(text)' has the character '\(first)', which is not a label") }
                result.append(first)
                rest = rest.dropFirst()
            }
        }
        return (result, hasEllipsis)
    }
}
