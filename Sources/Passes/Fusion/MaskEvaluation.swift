import GraphIR
import Reference

/// The elements of a mask computed from constants and iotas alone (no input, no weight), by the
/// reference interpreter. fold-constants leaves a large mask as ops (`maximumElements`), and a
/// causal mask read from a constant buffer — nanoGPT's `tril` buffer sliced to the sequence and
/// compared, `eq(slice(%tril, …), 0)` — has no iota to reason about: its elements are the proof.
///
/// Nil when the value reads an input or a weight, has a symbolic dim, goes through an op that is
/// not elementwise or a view, or anything on the way holds more than `limit` elements.
func evaluateMask(_ graph: Graph, _ value: ValueID, limit: Int = 1 << 22) -> TensorData? {
    var known: [ValueID: TensorData] = [:]
    func evaluate(_ id: ValueID) -> TensorData? {
        if let data = known[id] { return data }
        let type = graph.type(of: id)
        guard let node = graph.producer(of: id), let shape = type.staticShape, shape.reduce(1, *) <= limit,
              node.results.count == 1, isMaskOp(node.op) else { return nil }
        var operands: [TensorData] = []
        for operand in node.operands {
            guard let data = evaluate(operand) else { return nil }
            operands.append(data)
        }
        let data: TensorData
        switch node.op {
        case .constant(.splat(let x)): data = TensorData(type.elementType, shape: shape, repeating: x)
        case .constant(.elements(let xs)): data = TensorData(type.elementType, shape: shape, doubles: xs)
        default: data = ReferenceInterpreter.evaluate(node.op, operands: operands, resultTypes: [type])[0]
        }
        known[id] = data
        return data
    }
    return evaluate(value)
}

/// Ops a mask is built with: cheap per element, nothing that reduces or multiplies matrices.
private func isMaskOp(_ op: Op) -> Bool {
    switch op {
    case .constant, .iota, .unary, .binary, .select, .cast, .elementwise, .reshape, .transpose, .slice, .broadcast,
         .squeeze, .unsqueeze, .concat:
        return true
    default:
        return false
    }
}
