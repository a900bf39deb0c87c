import Foundation
import GraphIR

/// Which node a message is about: its index and name, op type, domain and opset.
struct NodeInfo {
    let index: Int
    let name: String
    let opType: String
    let domain: String
    let opset: Int

    var description: String {
        let place = name.isEmpty ? "node \(index)" : "node \(index) '\(name)'"
        return "\(place) (\(opType), domain \(domain.isEmpty ? "ai.onnx" : domain), opset \(opset))"
    }
}

/// Imports one ONNX graph: declares initializers and inputs, converts the nodes in order (folding
/// what is known at import time), and names the outputs.
final class GraphImporter {
    let path: String
    let model: Onnx_ModelProto
    let options: ONNXImportOptions
    let opset: Int
    var graph: Graph
    var weights: [String: TensorData] = [:]
    /// What every ONNX value name defined so far stands for.
    private(set) var environment: [String: ImportValue] = [:]
    /// Known tensors already placed in the graph, by ONNX name.
    private var placed: [String: ValueID] = [:]
    /// The GraphIR name given to each ONNX value name, and every value name taken.
    private var valueNames: [String: String] = [:]
    private var takenValueNames: Set<String> = []
    /// Graph inputs whose values the caller gave (`ONNXImportOptions.inputValues`).
    private(set) var providedValues: [ValueID: TensorData] = [:]

    /// Known tensors with more elements than this become weights rather than printed constants.
    static let largestPrintedConstant = 256

    init(model: Onnx_ModelProto, path: String, options: ONNXImportOptions) throws(Diagnostic) {
        self.path = path
        self.model = model
        self.options = options
        self.opset = try defaultOpset(of: model, path: path)
        let name = model.graph.name.isEmpty ? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent : model.graph.name
        graph = Graph(name: name.isEmpty ? "model" : textSafe(name))
    }

    func importGraph() throws -> ImportedModel {
        try declareInitializers()
        try declareInputs()
        for (index, node) in model.graph.node.enumerated() { try importNode(node, index: index) }
        try declareOutputs()
        let problems = verify(graph)
        guard problems.isEmpty else {
            throw InternalError(stage: "the ONNX importer", problem: "the graph it built from \(path) does not verify: \(problems.map(\.message).joined(separator: "; "))",
                                ir: printGraph(graph), fileExtension: "gir")
        }
        return ImportedModel(graph: graph, weights: weights, opset: opset)
    }

    func fileError(_ message: String) -> Diagnostic { Diagnostic(.error, message, file: path) }

    // MARK: Declarations

    private func declareInitializers() throws {
        if let sparse = model.graph.sparseInitializer.first {
            throw fileError("sparse initializer '\(sparse.values.name)' is not supported; attnc reads dense initializers")
        }
        for proto in model.graph.initializer {
            guard !proto.name.isEmpty else { throw fileError("an initializer has no name") }
            guard environment[proto.name] == nil else { throw fileError("initializer '\(proto.name)' is defined twice") }
            do {
                environment[proto.name] = .known(KnownTensor(data: try decodeTensor(proto), name: proto.name, isInitializer: true))
            } catch {
                throw fileError("initializer '\(proto.name)': \(error.message)")
            }
        }
    }

    private func declareInputs() throws {
        var declared: Set<String> = []
        for info in model.graph.input where environment[info.name] == nil || declared.contains(info.name) {
            guard !info.name.isEmpty else { throw fileError("a graph input has no name") }
            guard declared.insert(info.name).inserted else { throw fileError("graph input '\(info.name)' is declared twice") }
            do throws(ImportProblem) {
                let value = options.inputValues[info.name]
                let type = try declaredType(info, shape: options.inputShapes[info.name] ?? value?.shape)
                let id = graph.addInput(uniqueValueName(for: info.name), type)
                environment[info.name] = .runtime(id)
                if let value {
                    guard value.shape == type.staticShape, value.elementType == type.elementType else {
                        throw ImportProblem("is declared \(type) but its given value is \(value.type)")
                    }
                    providedValues[id] = value
                }
            } catch {
                throw fileError("graph input '\(info.name)' \(error.message)")
            }
        }
        let inputNames = Set(model.graph.input.map(\.name))
        if let unknown = (Array(options.inputShapes.keys) + Array(options.inputValues.keys)).sorted().first(where: { !inputNames.contains($0) }) {
            throw fileError("a shape is given for '\(unknown)', which is not a graph input; the inputs are \(model.graph.input.map(\.name).joined(separator: ", "))")
        }
    }

    private func declareOutputs() throws {
        guard !model.graph.output.isEmpty else { throw fileError("the graph has no outputs") }
        for info in model.graph.output {
            guard let value = environment[info.name] else {
                throw fileError("graph output '\(info.name)' is not computed by any node, input or initializer")
            }
            if case .tensorType(let tensor)? = info.type.value, ONNXDataType.elementType(tensor.elemType) == nil {
                throw fileError("graph output '\(info.name)': dtype \(ONNXDataType.name(tensor.elemType)) is not supported; attnc imports \(ONNXDataType.supportedList) tensors")
            }
            var id: ValueID
            switch value {
            case .runtime(let v): id = v
            case .known(let k): id = place(k)
            }
            let wanted = uniqueValueName(for: info.name)
            if graph[id].name == nil, case .result = graph[id].definition {
                graph[id].name = wanted
            } else if graph[id].name != wanted || !isResult(id) || graph.outputs.contains(id) {
                let name = graph[id].name == wanted ? freshValueName(wanted + "_output") : wanted
                id = graph.addNode(.unary(.identity), operands: [id], results: [(name, graph.type(of: id))])[0]
            }
            graph.outputs.append(id)
        }
    }

    private func isResult(_ id: ValueID) -> Bool {
        if case .result = graph[id].definition { return true }
        return false
    }

    // MARK: Nodes

    private func importNode(_ proto: Onnx_NodeProto, index: Int) throws {
        let info = NodeInfo(index: index, name: proto.name, opType: proto.opType, domain: proto.domain, opset: opset)
        func fail(_ message: String) -> Diagnostic { fileError("\(info.description): \(message)") }
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw fail("ops of domain '\(proto.domain)' are not supported; attnc imports the default domain ai.onnx only")
        }
        let converter = converterTable[proto.opType]
        guard converter != nil || foldedONNXOps.contains(proto.opType) else {
            throw fail("unsupported op '\(proto.opType)'; attnc imports \(supportedONNXOps.joined(separator: ", "))")
        }
        var inputs: [ImportValue?] = []
        for name in proto.input {
            guard !name.isEmpty else { inputs.append(nil); continue }
            guard let value = environment[name] else {
                throw fail("input '\(name)' is not defined by an earlier node, a graph input or an initializer")
            }
            inputs.append(value)
        }
        let context = NodeContext(importer: self, proto: proto, info: info, inputs: inputs)
        let results: [ImportValue]
        do {
            if let folded = try foldConstant(context) {
                results = folded
            } else if let converter {
                context.attributes.resetUse()
                results = try converter(context)
            } else {
                // Ops that only the folder knows (Floor, Ceil, ReduceProd) have no run-time form.
                throw ImportProblem("unsupported op '\(proto.opType)' on inputs computed at run time (attnc folds it over inputs known at import time only); attnc imports \(supportedONNXOps.joined(separator: ", "))")
            }
            if let unread = context.attributes.unread.first {
                throw ImportProblem("attribute '\(unread)' is not supported (attnc reads \(context.attributes.used.filter(context.attributes.has).sorted().joined(separator: ", ").nonEmpty ?? "none"))")
            }
        } catch let problem as ImportProblem {
            throw fail(problem.message)
        }
        for (i, name) in proto.output.enumerated() where !name.isEmpty {
            guard i < results.count else { throw fail("output \(i) ('\(name)') is not supported") }
            guard environment[name] == nil else { throw fail("output '\(name)' is already defined") }
            if case .runtime(let id) = results[i], graph[id].name == nil { graph[id].name = uniqueValueName(for: name) }
            environment[name] = results[i]
        }
    }

    // MARK: Placing known tensors

    /// The graph value for a known tensor: a weight for an initializer or a large tensor, else a
    /// `constant` (unnamed when it is a scalar, so that it prints inline).
    func place(_ known: KnownTensor) -> ValueID {
        if let id = placed[known.name] { return id }
        let data = known.data
        let id: ValueID
        if known.isInitializer || (data.count > GraphImporter.largestPrintedConstant && !data.isSplat) {
            let name = freshWeightName(known.name)
            weights[name] = data
            id = graph.addWeight(name, data.type)
        } else {
            let value: ConstantValue = data.isSplat ? .splat(data.doubles[0]) : .elements(data.doubles)
            let name = data.shape.isEmpty ? nil : uniqueValueName(for: known.name)
            id = graph.addNode(.constant(value), operands: [], results: [(name, data.type)])[0]
        }
        placed[known.name] = id
        return id
    }

    /// A constant made up by a converter (not from the model): never cached, unnamed when scalar.
    func addConstant(_ data: TensorData) -> ValueID {
        let value: ConstantValue = data.isSplat || data.count == 0 ? .splat(data.count == 0 ? 0 : data.doubles[0]) : .elements(data.doubles)
        return graph.addNode(.constant(value), operands: [], results: [(nil, data.type)])[0]
    }

    // MARK: Names

    /// The GraphIR name for an ONNX value name: the same text with quotes and line breaks replaced,
    /// made unique.
    func uniqueValueName(for onnxName: String) -> String {
        if let name = valueNames[onnxName] { return name }
        let cleaned = textSafe(onnxName)
        let name = freshValueName(cleaned.isEmpty ? "value" : cleaned)
        valueNames[onnxName] = name
        return name
    }

    private func freshValueName(_ base: String) -> String {
        var name = base
        var counter = 1
        while takenValueNames.contains(name) {
            name = "\(base)_\(counter)"
            counter += 1
        }
        takenValueNames.insert(name)
        return name
    }

    private func freshWeightName(_ base: String) -> String {
        let cleaned = textSafe(base)
        var name = cleaned.isEmpty ? "weight" : cleaned
        var counter = 1
        while weights[name] != nil {
            name = "\(cleaned)_\(counter)"
            counter += 1
        }
        return name
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// `name` with the characters a quoted name in the text form cannot hold (`"` and line breaks)
/// replaced by `_`, so that every imported graph prints as text that parses back.
func textSafe(_ name: String) -> String {
    let safe = String(name.map { $0 == "\"" || $0.isNewline ? "_" : $0 })
    // The lexer reads characters (grapheme clusters): a name that starts with a combining mark, or
    // ends with a prepended one, fuses with its quote into a character that is not a quote. Such a
    // name is wrapped in `_`, which takes the mark instead.
    return "\"\(safe)\"".count == safe.count + 2 ? safe : "_\(safe)_"
}
