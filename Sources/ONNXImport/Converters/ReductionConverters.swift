import GraphIR

/// Reductions (`ReduceMean`, `ReduceSum`, ...) with axes as an attribute (older opsets) or as
/// an input (opset 13 for `ReduceSum`, 18 for the rest), and the global pools.
let reductionConverters: [String: NodeConverter] = [
    "ReduceMean": reduction(.mean, axesInputSince: 18),
    "ReduceMax": reduction(.amax, axesInputSince: 18),
    "ReduceMin": reduction(.amin, axesInputSince: 18),
    "ReduceSum": reduction(.sum, axesInputSince: 13),
    "ReduceSumSquare": reduction(.sum, axesInputSince: 18, before: { c, x throws(ImportProblem) in try c.emit(.binary(.mul), [x, x]) }),
    "ReduceL1": reduction(.sum, axesInputSince: 18, before: { c, x throws(ImportProblem) in try c.emit(.unary(.abs), [x]) }),
    "ReduceL2": reduction(.sum, axesInputSince: 18, before: { c, x throws(ImportProblem) in try c.emit(.binary(.mul), [x, x]) },
                          after: { c, x throws(ImportProblem) in try c.emit(.unary(.sqrt), [x]) }),
    "ReduceLogSum": reduction(.sum, axesInputSince: 18, after: { c, x throws(ImportProblem) in try c.emit(.unary(.log), [x]) }),
    "ReduceLogSumExp": reduction(.sum, axesInputSince: 18, before: { c, x throws(ImportProblem) in try c.emit(.unary(.exp), [x]) },
                                 after: { c, x throws(ImportProblem) in try c.emit(.unary(.log), [x]) }),
    "GlobalAveragePool": globalPool(.mean),
    "GlobalMaxPool": globalPool(.amax),
]

private typealias ValueMap = (NodeContext, ValueID) throws(ImportProblem) -> ValueID

private func reduction(_ f: ReduceFunction, axesInputSince: Int, before: ValueMap? = nil, after: ValueMap? = nil) -> NodeConverter {
    { c throws(ImportProblem) in
        let x = try c.value(0)
        let rank = c.type(of: x).rank
        let keepDims = try c.attributes.int("keepdims", default: 1) != 0
        var axes: [Int]?
        if c.opset >= axesInputSince {
            axes = try c.knownInts(1, "axes")
            let noop = try c.attributes.int("noop_with_empty_axes", default: 0) != 0
            if axes?.isEmpty ?? true {
                // No axes: reduce everything, or nothing at all when asked to.
                if noop { return single(x) }
                axes = nil
            }
        } else {
            axes = try c.attributes.ints("axes")
            if axes?.isEmpty == true { axes = nil }
        }
        let normalized = try axes.map { axes throws(ImportProblem) in
            var seen: [Int] = []
            for axis in axes { seen.append(try c.normalizedAxis(axis, rank: rank, "axes entry")) }
            return seen
        }
        var input = x
        if let before { input = try before(c, input) }
        var result = try c.emit(.reduce(f, axes: normalized, keepDims: keepDims), [input])
        if let after { result = try after(c, result) }
        return single(result)
    }
}

/// `GlobalAveragePool` and `GlobalMaxPool`: a reduction over every spatial dim, kept as size 1.
private func globalPool(_ f: ReduceFunction) -> NodeConverter {
    { c throws(ImportProblem) in
        let x = try c.value(0)
        let rank = c.type(of: x).rank
        guard rank >= 3 else { throw ImportProblem("needs an input of rank >= 3 (N, C, spatial...), got \(c.type(of: x))") }
        return single(try c.emit(.reduce(f, axes: Array(2..<rank), keepDims: true), [x]))
    }
}
