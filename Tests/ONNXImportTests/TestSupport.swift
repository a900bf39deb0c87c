import Foundation
import GraphIR
@testable import ONNXImport

/// Where the shared conformance cases live (beside the repository).
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let conformance = repository.deletingLastPathComponent().appendingPathComponent("shared/conformance")

    static var conformanceCases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: conformance.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: conformance.appendingPathComponent("\($0)/model.onnx").path) }.sorted()
    }
}

/// Small ONNX models written in Swift, for tests that need a model no exporter writes.
enum ModelBuilder {
    static func node(_ opType: String, _ inputs: [String], _ outputs: [String], name: String = "",
                     _ attributes: [Onnx_AttributeProto] = [], domain: String = "") -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.input = inputs
        node.output = outputs
        node.name = name
        node.attribute = attributes
        if !domain.isEmpty { node.domain = domain }
        return node
    }

    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }

    static func valueInfo(_ name: String, _ dataType: Int32, _ shape: [Int]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = dataType
        var dims = Onnx_TensorShapeProto()
        dims.dim = shape.map { n in
            var d = Onnx_TensorShapeProto.Dimension()
            d.dimValue = Int64(n)
            return d
        }
        tensor.shape = dims
        info.type.tensorType = tensor
        return info
    }

    static func tensor(_ name: String, _ data: TensorData) -> Onnx_TensorProto { encodeTensor(data, name: name) }

    /// A serialized model: float inputs and outputs unless given as `(name, dtype, shape)`.
    static func model(opset: Int = 17, nodes: [Onnx_NodeProto], inputs: [(String, [Int])], outputs: [String],
                      initializers: [Onnx_TensorProto] = [], inputTypes: [Int32]? = nil, graphName: String = "test") throws -> Data {
        var graph = Onnx_GraphProto()
        graph.name = graphName
        graph.node = nodes
        graph.input = inputs.enumerated().map { i, input in valueInfo(input.0, inputTypes?[i] ?? 1, input.1) }
        graph.output = outputs.map { name in
            var info = Onnx_ValueInfoProto()
            info.name = name
            return info
        }
        graph.initializer = initializers
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        model.graph = graph
        return try model.serializedData()
    }
}

/// Relative L2 distance `‖got − want‖ / ‖want‖`.
func relativeL2(_ got: [Float], _ want: [Float]) -> Double {
    var num = 0.0, den = 0.0
    for (g, w) in zip(got, want) {
        num += (Double(g) - Double(w)) * (Double(g) - Double(w))
        den += Double(w) * Double(w)
    }
    return den > 0 ? (num / den).squareRoot() : num.squareRoot()
}
