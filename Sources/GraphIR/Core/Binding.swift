/// Checks the tensors a caller supplies against a graph's inputs and weights, and binds the
/// graph's symbolic dims from the input shapes.
///
/// Errors name the input or weight and say what the graph expects.
public struct GraphBindings: Sendable {
    /// Size of every symbolic dim, taken from the inputs.
    public let symbols: [String: Int]
    /// Input tensors in the graph's input order.
    public let inputs: [TensorData]
    /// Weight tensors in the graph's weight order.
    public let weights: [TensorData]

    /// Binds inputs by name and weights by name. `weightsFile` names the weights' source in
    /// messages. Every weight the graph declares must be supplied, and every supplied weight
    /// must be declared (as `load_state_dict(strict=True)` does).
    public init(graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                weightsFile: String? = nil) throws(Diagnostic) {
        var symbols: [String: Int] = [:]
        var boundInputs: [TensorData] = []
        for id in graph.inputs {
            let name = graph[id].name ?? ""
            guard let tensor = inputs[name] else {
                throw Diagnostic(.error, "missing input '\(name)' (\(graph.type(of: id))); the graph's inputs are \(graph.inputs.map { graph[$0].name ?? "" }.joined(separator: ", "))")
            }
            try GraphBindings.match(tensor, graph.type(of: id), what: "input '\(name)'", symbols: &symbols)
            boundInputs.append(tensor)
        }
        let inputNames = Set(graph.inputs.compactMap { graph[$0].name })
        if let extra = inputs.keys.sorted().first(where: { !inputNames.contains($0) }) {
            throw Diagnostic(.error, "'\(extra)' is not an input of graph '\(graph.name)'; its inputs are \(graph.inputs.map { graph[$0].name ?? "" }.joined(separator: ", "))")
        }

        var boundWeights: [TensorData] = []
        let source = weightsFile.map { " in \($0)" } ?? ""
        for id in graph.weights {
            let name = graph[id].name ?? ""
            guard let tensor = weights[name] else {
                let hint = weightsFile == nil && weights.isEmpty ? " (pass --weights FILE.safetensors)" : ""
                throw Diagnostic(.error, "missing weight '\(name)' (\(graph.type(of: id)))\(hint); it is not\(source.isEmpty ? " supplied" : source)", file: nil)
            }
            try GraphBindings.match(tensor, graph.type(of: id), what: "weight '\(name)'\(source)", symbols: &symbols)
            boundWeights.append(tensor)
        }
        let declared = Set(graph.weights.compactMap { graph[$0].name })
        let unused = weights.keys.filter { !declared.contains($0) }.sorted()
        if !unused.isEmpty {
            throw Diagnostic(.error, "unused weight\(unused.count == 1 ? "" : "s")\(source): \(unused.map { "'\($0)'" }.joined(separator: ", ")) \(unused.count == 1 ? "is" : "are") not declared by graph '\(graph.name)'")
        }
        self.symbols = symbols
        self.inputs = boundInputs
        self.weights = boundWeights
    }

    private static func match(_ tensor: TensorData, _ type: TensorType, what: String,
                              symbols: inout [String: Int]) throws(Diagnostic) {
        let actual = "\(tensor.elementType.rawValue)[\(tensor.shape.map(String.init).joined(separator: ","))]"
        guard tensor.elementType == type.elementType || (tensor.elementType.isInteger && type.elementType.isInteger) else {
            throw Diagnostic(.error, "\(what) is \(actual) but the graph declares \(type)")
        }
        guard tensor.shape.count == type.rank else {
            throw Diagnostic(.error, "\(what) has shape \(actual) but the graph declares \(type)")
        }
        for (dim, size) in zip(type.shape, tensor.shape) {
            switch dim {
            case .known(let n) where n != size:
                throw Diagnostic(.error, "\(what) has shape \(actual) but the graph declares \(type)")
            case .symbol(let s):
                if let bound = symbols[s], bound != size {
                    throw Diagnostic(.error, "\(what) has shape \(actual), which binds \(s) = \(size), but \(s) = \(bound) already")
                }
                symbols[s] = size
            default:
                break
            }
        }
    }
}
