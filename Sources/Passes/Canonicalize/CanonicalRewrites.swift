import GraphIR

/// The canonicalisation table, tried in order on every node. A replacement node built for a
/// node keeps that node's name and place in the source.
let canonicalRewrites: [Rewrite] = [
    // mul(x, 1) -> x, mul(1, x) -> x, div(x, 1) -> x, add(x, 0) -> x, add(0, x) -> x, sub(x, 0) -> x
    Rewrite(name: "identity-element") { node, operands, rebuilder in
        guard case .binary(let f) = node.op else { return .notApplicable("not a binary op") }
        let resultType = rebuilder.old.type(of: node.results[0])
        for (side, other) in [(1, 0), (0, 1)] {
            guard let c = rebuilder.scalarConstant(operands[side]), rebuilder.type(operands[other]) == resultType else { continue }
            let neutral: Bool
            switch f {
            case .mul: neutral = c == 1
            case .div: neutral = c == 1 && side == 1
            case .add: neutral = c == 0
            case .sub: neutral = c == 0 && side == 1
            default: neutral = false
            }
            if neutral { return .replaced([operands[other]]) }
        }
        return .notApplicable("no neutral constant operand")
    },

    // div(x, c) -> mul(x, 1/c)
    Rewrite(name: "divide-by-constant") { node, operands, rebuilder in
        guard node.op == .binary(.div), let c = rebuilder.scalarConstant(operands[1]), c != 0,
              rebuilder.type(operands[1]).elementType.isFloat else { return .notApplicable("not a division by a float constant") }
        let reciprocal = rebuilder.literal(1 / c, rebuilder.type(operands[1]).elementType)
        return .replaced(rebuilder.add(.binary(.mul), [operands[0], reciprocal], types: [rebuilder.old.type(of: node.results[0])],
                                       names: [rebuilder.old[node.results[0]].name], location: node.location, trivia: node.trivia))
    },

    // mul(mul(x, c1), c2) -> mul(x, c1·c2)
    Rewrite(name: "fold-scales") { node, operands, rebuilder in
        guard node.op == .binary(.mul), let c2 = rebuilder.scalarConstant(operands[1]),
              let inner = rebuilder.producer(operands[0]), inner.op == .binary(.mul), let c1 = rebuilder.scalarConstant(inner.operands[1]),
              rebuilder.type(inner.operands[0]) == rebuilder.old.type(of: node.results[0]) else {
            return .notApplicable("not a scale of a scale")
        }
        let product = rebuilder.literal(c1 * c2, rebuilder.type(operands[1]).elementType)
        return .replaced(rebuilder.add(.binary(.mul), [inner.operands[0], product], types: [rebuilder.old.type(of: node.results[0])],
                                       names: [rebuilder.old[node.results[0]].name], location: node.location, trivia: node.trivia))
    },

    // neg(neg(x)) -> x
    Rewrite(name: "double-negation") { node, operands, rebuilder in
        guard node.op == .unary(.neg), let inner = rebuilder.producer(operands[0]), inner.op == .unary(.neg) else {
            return .notApplicable("not a negated negation")
        }
        return .replaced([inner.operands[0]])
    },

    // squeeze(x) -> reshape(x), unsqueeze(x) -> reshape(x): one spelling for every view
    Rewrite(name: "views-as-reshape") { node, operands, rebuilder in
        switch node.op {
        case .squeeze, .unsqueeze: break
        default: return .notApplicable("not a squeeze or unsqueeze")
        }
        let type = rebuilder.old.type(of: node.results[0])
        return .replaced(rebuilder.add(.reshape(shape: type.shape), operands, types: [type], names: [rebuilder.old[node.results[0]].name],
                                       location: node.location, trivia: node.trivia))
    },

    // reshape(reshape(x)) -> reshape(x); reshape(x) to x's own shape -> x
    Rewrite(name: "collapse-reshapes") { node, operands, rebuilder in
        guard case .reshape = node.op else { return .notApplicable("not a reshape") }
        let type = rebuilder.old.type(of: node.results[0])
        var source = operands[0]
        while let inner = rebuilder.producer(source), case .reshape = inner.op { source = inner.operands[0] }
        if rebuilder.type(source) == type { return .replaced([source]) }
        guard source != operands[0] else { return .notApplicable("already one reshape") }
        return .replaced(rebuilder.add(.reshape(shape: type.shape), [source], types: [type], names: [rebuilder.old[node.results[0]].name],
                                       location: node.location, trivia: node.trivia))
    },

    // transpose(x, identity) -> x; transpose(transpose(x, p), q) -> transpose(x, p∘q)
    Rewrite(name: "collapse-transposes") { node, operands, rebuilder in
        guard case .transpose(let q) = node.op else { return .notApplicable("not a transpose") }
        var permutation = q
        var source = operands[0]
        if let inner = rebuilder.producer(source), case .transpose(let p) = inner.op {
            permutation = q.map { p[$0] }
            source = inner.operands[0]
        }
        if permutation == Array(permutation.indices) { return .replaced([source]) }
        guard source != operands[0] else { return .notApplicable("a single transpose") }
        return .replaced(rebuilder.add(.transpose(permutation: permutation), [source], types: [rebuilder.old.type(of: node.results[0])],
                                       names: [rebuilder.old[node.results[0]].name], location: node.location, trivia: node.trivia))
    },

    // matmul(transpose(a, swap last two), b) -> matmul(a, b, transpose_a), and the same for b
    Rewrite(name: "transpose-into-matmul") { node, operands, rebuilder in
        guard case .matmul(var transposeA, var transposeB) = node.op else { return .notApplicable("not a matmul") }
        var newOperands = operands
        for side in 0..<2 {
            guard let inner = rebuilder.producer(operands[side]), case .transpose(let p) = inner.op,
                  p.count >= 2, p == Array(0..<(p.count - 2)) + [p.count - 1, p.count - 2] else { continue }
            newOperands[side] = inner.operands[0]
            if side == 0 { transposeA.toggle() } else { transposeB.toggle() }
        }
        guard newOperands != operands else { return .notApplicable("no operand is a transpose of its last two dims") }
        return .replaced(rebuilder.add(.matmul(transposeA: transposeA, transposeB: transposeB), newOperands,
                                       types: [rebuilder.old.type(of: node.results[0])], names: [rebuilder.old[node.results[0]].name],
                                       location: node.location, trivia: node.trivia))
    },

    // max_pool2d(x, kernel = its whole plane) -> amax(x, axes=[2,3], keepdims=true); avg_pool2d likewise -> mean
    Rewrite(name: "global-pooling") { node, operands, rebuilder in
        guard case .pool2d(let kind, let a) = node.op else { return .notApplicable("not a pooling") }
        let shape = rebuilder.type(operands[0]).shape
        guard shape.count == 4, a.kernel.map({ Dim.known($0) }) == Array(shape[2...]), a.padding == .zero, a.dilation == [1, 1] else {
            return .notApplicable("the window is not the whole plane")
        }
        let op = Op.reduce(kind == .max ? .amax : .mean, axes: [2, 3], keepDims: true)
        return .replaced(rebuilder.add(op, operands, types: [rebuilder.old.type(of: node.results[0])], names: [rebuilder.old[node.results[0]].name],
                                       location: node.location, trivia: node.trivia))
    },

    // cast(x: T, to: T) -> x; broadcast(x, x.shape) -> x
    Rewrite(name: "no-op-conversions") { node, operands, rebuilder in
        switch node.op {
        case .cast, .broadcast:
            return rebuilder.type(operands[0]) == rebuilder.old.type(of: node.results[0]) ? .replaced([operands[0]]) : .notApplicable("changes the type")
        default:
            return .notApplicable("not a cast or broadcast")
        }
    },
]
