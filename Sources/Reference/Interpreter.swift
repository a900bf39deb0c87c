import GraphIR

/// The reference interpreter: runs any graph op by op in plain loops, accumulating in double.
/// It is the oracle every compiled and fused path is compared against, so it favours being
/// obviously right over being fast.
public enum ReferenceInterpreter {
    /// Runs `graph` on named inputs and weights; returns the outputs in the graph's order.
    public static func run(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                           weightsFile: String? = nil) throws -> [(name: String, tensor: TensorData)] {
        let bindings = try GraphBindings(graph: graph, inputs: inputs, weights: weights, weightsFile: weightsFile)
        return try run(graph, bindings: bindings)
    }

    /// Runs `graph` on checked bindings.
    public static func run(_ graph: Graph, bindings: GraphBindings) throws -> [(name: String, tensor: TensorData)] {
        let graph = try graph.specialized(bindings.symbols)
        var values = [ReferenceTensor?](repeating: nil, count: graph.values.count)
        for (id, tensor) in zip(graph.inputs, bindings.inputs) { values[id.index] = ReferenceTensor(tensor) }
        for (id, tensor) in zip(graph.weights, bindings.weights) {
            values[id.index] = ReferenceTensor(tensor)
            values[id.index]!.elementType = graph.type(of: id).elementType
        }
        for node in graph.nodes {
            let operands = node.operands.map { values[$0.index]! }
            let resultTypes = node.results.map { graph.type(of: $0) }
            let results = evaluate(node.op, operands, resultTypes: resultTypes)
            for (i, id) in node.results.enumerated() {
                precondition(results[i].shape == resultTypes[i].staticShape!,
                             "\(node.op.mnemonic) produced shape \(results[i].shape), typed \(resultTypes[i])")
                values[id.index] = results[i].rounded()
            }
        }
        return graph.outputs.map { (graph[$0].name ?? "", values[$0.index]!.tensorData) }
    }

    /// Evaluates one op on concrete operands.
    static func evaluate(_ op: Op, _ x: [ReferenceTensor], resultTypes: [TensorType]) -> [ReferenceTensor] {
        let type = resultTypes[0]
        let shape = type.staticShape!
        switch op {
        case .elementwise(let expression):
            return [evaluateElementwise(expression, x, type)]
        case .attention(let attributes):
            return evaluateAttention(attributes, x, resultTypes)
        case .channelGate(let attributes):
            return [evaluateChannelGate(attributes, x)]
        case .spatialGate(let attributes):
            return [evaluateSpatialGate(attributes, x)]
        case .constant(.splat(let v)):
            return [ReferenceTensor(type.elementType, shape, Array(repeating: v, count: shape.reduce(1, *)))]
        case .constant(.elements(let values)):
            return [ReferenceTensor(type.elementType, shape, values)]
        case .iota(let axis):
            return [iota(type.elementType, shape, axis: axis < 0 ? axis + shape.count : axis)]
        case .unary(let f):
            return [ReferenceTensor(type.elementType, shape, x[0].data.map { applyUnary(f, $0) })]
        case .binary(let f):
            return [elementwise(x, type) { applyBinary(f, $0[0], $0[1], integer: x[0].elementType.isInteger) }]
        case .select:
            return [elementwise(x, type) { $0[0] != 0 ? $0[1] : $0[2] }]
        case .cast:
            return [ReferenceTensor(type.elementType, shape, x[0].data)]
        case .reduce(let f, let axes, _):
            return [reduce(x[0], f, axes: axes.map { $0.map { $0 < 0 ? $0 + x[0].rank : $0 } } ?? Array(0..<x[0].rank), type)]
        case .matmul(let ta, let tb):
            return [matmul(x[0], x[1], transposeA: ta, transposeB: tb, type)]
        case .linear:
            return [linear(x[0], x[1], x.count > 2 ? x[2] : nil, type)]
        case .conv2d(let a):
            return [conv2d(x[0], x[1], x.count > 2 ? x[2] : nil, a, type)]
        case .convTranspose2d(let a):
            return [convTranspose2d(x[0], x[1], x.count > 2 ? x[2] : nil, a, type)]
        case .pool2d(let kind, let a):
            return [pool2d(x[0], kind, a, type)]
        case .reshape, .squeeze, .unsqueeze:
            return [ReferenceTensor(type.elementType, shape, x[0].data)]
        case .transpose(let permutation):
            return [transpose(x[0], permutation)]
        case .concat(let axis):
            return [concat(x, axis: axis < 0 ? axis + x[0].rank : axis, type)]
        case .slice(let axes, let starts, let ends, let steps):
            return [slice(x[0], axes: axes, starts: starts, ends: ends, steps: steps, type)]
        case .gather(let axis):
            return [gather(x[0], x[1], axis: axis < 0 ? axis + x[0].rank : axis, type)]
        case .split(let axis, let sizes):
            let a = axis < 0 ? axis + x[0].rank : axis
            var start = 0
            return zip(sizes, resultTypes).map { size, resultType in
                defer { start += size }
                return slice(x[0], axes: [a], starts: [start], ends: [start + size], steps: [1], resultType)
            }
        case .broadcast:
            return [elementwise(x, type) { $0[0] }]
        case .softmax(let axis):
            return [softmax(x[0], axis: axis < 0 ? axis + x[0].rank : axis)]
        case .layerNorm(let axis, let eps):
            return [layerNorm(x[0], scale: x.count > 1 ? x[1] : nil, bias: x.count > 2 ? x[2] : nil,
                              axis: axis < 0 ? axis + x[0].rank : axis, epsilon: eps)]
        case .batchNorm(let eps):
            return [batchNorm(x[0], scale: x[1], bias: x[2], mean: x[3], variance: x[4], epsilon: eps)]
        }
    }
}

extension ReferenceInterpreter {
    /// One op on concrete operands: what constant folding computes at compile time.
    public static func evaluate(_ op: Op, operands: [TensorData], resultTypes: [TensorType]) -> [TensorData] {
        evaluate(op, operands.map(ReferenceTensor.init), resultTypes: resultTypes).map { $0.rounded().tensorData }
    }
}
