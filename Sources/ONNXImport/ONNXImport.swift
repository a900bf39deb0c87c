import Foundation
import GraphIR

/// An ONNX model imported as a GraphIR graph, with the tensors its weights bind to.
public struct ImportedModel: Sendable {
    /// The verified graph. ONNX graph inputs that are not initializers are its inputs, under their
    /// ONNX names; initializers that the computation reads at run time are its weights.
    public var graph: Graph
    /// A tensor for every weight the graph declares, by name: the initializers, and constants too
    /// large to print inline in the `.gir` text.
    public var weights: [String: TensorData]
    /// The version of the default (`ai.onnx`) operator set the model imports.
    public var opset: Int
}

/// Choices the caller can make about an import.
public struct ONNXImportOptions: Sendable {
    /// Sizes for graph inputs, by name. They replace symbolic or unknown dims (and must agree with
    /// known ones), so that shape arithmetic over those inputs folds at import time.
    public var inputShapes: [String: [Int]]
    /// Values of graph inputs, by name, for the places where the importer needs a value known at
    /// import time (a shape, axes, pads, a split): the graph is specialized to them. The inputs
    /// stay graph inputs and must be fed these same values when the graph runs. ONNX's node tests
    /// pass such operands as inputs; an exported model has them as constants.
    public var inputValues: [String: TensorData]

    public init(inputShapes: [String: [Int]] = [:], inputValues: [String: TensorData] = [:]) {
        self.inputShapes = inputShapes
        self.inputValues = inputValues
    }
}

/// Reads the ONNX model at `path` and imports it as a verified graph and its weights.
///
/// Errors are `Diagnostic`s naming the file; a problem with one node names the node (its index
/// and name), its op type, domain and opset, and what attnc supports instead.
public func importONNX(path: String, options: ONNXImportOptions = ONNXImportOptions()) throws -> ImportedModel {
    try importONNX(bytes: try readFileBytes(path), path: path, options: options)
}

/// Imports an ONNX model from its serialized bytes; `path` names it in messages.
public func importONNX(bytes: Data, path: String, options: ONNXImportOptions = ONNXImportOptions()) throws -> ImportedModel {
    let model = try decodeModel(bytes, path: path)
    let importer = try GraphImporter(model: model, path: path, options: options)
    return try importer.importGraph()
}

/// The ONNX op types attnc imports (default domain), sorted.
public var supportedONNXOps: [String] { converterTable.keys.sorted() }

/// The range of `ai.onnx` opset versions attnc imports.
public let supportedONNXOpsets: ClosedRange<Int> = 1...28

/// A serialized ONNX `TensorProto` file (`input_0.pb`, `output_0.pb` in ONNX's node tests).
public enum ONNXTensorFile {
    /// Reads the tensor and its name (empty when the file gives none).
    public static func read(path: String) throws -> (name: String, tensor: TensorData) {
        try decode(try readFileBytes(path), path: path)
    }

    /// Decodes a serialized `TensorProto`; `path` names it in messages.
    public static func decode(_ bytes: Data, path: String) throws -> (name: String, tensor: TensorData) {
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: bytes)
        } catch {
            throw Diagnostic(.error, "is not a serialized ONNX TensorProto (\(error))", file: path)
        }
        do {
            return (proto.name, try decodeTensor(proto))
        } catch {
            throw Diagnostic(.error, "tensor '\(proto.name)': \(error.message)", file: path)
        }
    }
}

/// What a model holds, read without importing it: enough for tools to decide what to run.
public struct ONNXModelSummary: Sendable {
    /// The `(domain, op type)` of every node, in node order (domain "" is ai.onnx).
    public var nodes: [(domain: String, opType: String)]
    /// The graph inputs that are not initializers, in order.
    public var inputNames: [String]
    public var outputNames: [String]
    public var opset: Int

    /// The op types the model uses that attnc does not import, sorted (other domains included, as `domain:Op`).
    public var unsupportedOps: [String] {
        let supported = Set(supportedONNXOps)
        return Set(nodes.compactMap { node -> String? in
            if node.domain.isEmpty || node.domain == "ai.onnx" { return supported.contains(node.opType) ? nil : node.opType }
            return "\(node.domain):\(node.opType)"
        }).sorted()
    }

    /// The ONNX data types of graph inputs, outputs, initializers and `Cast` targets that attnc
    /// does not import, sorted (`DOUBLE`, `FLOAT16`, ...).
    public var unsupportedDataTypes: [String]

    /// Reads the summary of the model at `path`.
    public init(path: String) throws {
        let model = try decodeModel(try readFileBytes(path), path: path)
        let initializers = Set(model.graph.initializer.map(\.name))
        nodes = model.graph.node.map { ($0.domain, $0.opType) }
        inputNames = model.graph.input.map(\.name).filter { !initializers.contains($0) }
        outputNames = model.graph.output.map(\.name)
        opset = try defaultOpset(of: model, path: path)
        var codes: [Int32] = model.graph.initializer.map(\.dataType)
        var kinds: Set<String> = []
        for info in model.graph.input + model.graph.output {
            switch info.type.value {
            case .tensorType(let t)?: codes.append(t.elemType)
            case .sequenceType?: kinds.insert("SEQUENCE")
            case .optionalType?: kinds.insert("OPTIONAL")
            case .mapType?: kinds.insert("MAP")
            default: break
            }
        }
        for node in model.graph.node where node.opType == "Cast" {
            codes += node.attribute.filter { $0.name == "to" }.map { Int32(clamping: $0.i) }
        }
        unsupportedDataTypes = kinds.union(codes.filter { ONNXDataType.elementType($0) == nil }.map(ONNXDataType.name)).sorted()
    }
}
