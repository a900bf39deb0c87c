import GraphIR
import Reference

/// Evaluates ops whose operands are all constants, at compile time, with the reference
/// interpreter. Results larger than `maximumElements` stay ops (a 2048×2048 mask is cheaper to
/// compute than to embed); `iota` is not folded, since fusions read masks in that form.
/// `identity` is not folded either: it computes nothing, and the ones left in a graph are there
/// to give an output its own name (CSE writes `%b = identity(%a)` when two outputs are one
/// value), so replacing one by a copy of the constant would only undo CSE, forever.
///
/// ```
/// %inv = div(1.0, 8.0) : f32[]        →   %inv = constant(value=0.125) : f32[]
/// ```
public struct FoldConstants: Pass {
    public let name = "fold-constants"
    public var maximumElements = 4096

    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        var rebuilder = GraphRebuilder(graph)
        var constants: [ValueID: TensorData] = [:]
        var changed = false
        for node in graph.nodes {
            if case .constant(let value) = node.op, let type = graph.type(of: node.results[0]).staticShape {
                let t = graph.type(of: node.results[0])
                switch value {
                case .splat(let x): constants[node.results[0]] = TensorData(t.elementType, shape: type, repeating: x)
                case .elements(let xs): constants[node.results[0]] = TensorData(t.elementType, shape: type, doubles: xs)
                }
                rebuilder.copy(node)
                continue
            }
            let types = node.results.map { graph.type(of: $0) }
            let operands = node.operands.compactMap { constants[$0] }
            if node.op == .unary(.identity), let operand = operands.first {
                // Known to later folds, but not replaced (see the doc comment).
                constants[node.results[0]] = operand
                rebuilder.copy(node)
                continue
            }
            guard !node.operands.isEmpty, operands.count == node.operands.count,
                  types.allSatisfy({ ($0.elementCount ?? .max) <= maximumElements }) else {
                rebuilder.copy(node)
                continue
            }
            let results = ReferenceInterpreter.evaluate(node.op, operands: operands, resultTypes: types)
            for (id, data) in zip(node.results, results) {
                let values = data.doubles
                let value: ConstantValue = values.allSatisfy({ $0 == values.first || ($0.isNaN && values.first!.isNaN) }) && !values.isEmpty
                    ? .splat(values[0]) : .elements(values)
                let name = graph[id].name
                let type = graph.type(of: id)
                let new: ValueID
                if name == nil, type.rank == 0, case .splat(let x) = value {
                    new = rebuilder.literal(x, type.elementType)
                } else {
                    new = rebuilder.add(.constant(value), [], types: [type], names: [name], location: node.location, trivia: node.trivia)[0]
                }
                rebuilder.replace(id, with: new)
                constants[id] = data
            }
            changed = true
        }
        guard changed else { return false }
        graph = rebuilder.finish()
        return true
    }
}
