import Foundation
import GraphIR
import SwiftProtobuf

/// A file's bytes, with an error naming the file when it cannot be read.
func readFileBytes(_ path: String) throws(Diagnostic) -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        throw Diagnostic(.error, exists ? (isDirectory.boolValue ? "is a directory, not a file" : "cannot be read (permissions?)") : "no such file", file: path)
    }
    return data
}

/// Decodes and validates a serialized `ModelProto`: it must hold a graph and import a default
/// (`ai.onnx`) opset that attnc supports.
func decodeModel(_ bytes: Data, path: String) throws(Diagnostic) -> Onnx_ModelProto {
    guard !bytes.isEmpty else { throw Diagnostic(.error, "is empty, not an ONNX model", file: path) }
    let model: Onnx_ModelProto
    do {
        model = try Onnx_ModelProto(serializedBytes: bytes)
    } catch {
        throw Diagnostic(.error, "is not a valid ONNX model: the protobuf data is malformed or truncated (\(describe(error)))", file: path)
    }
    guard model.hasGraph else {
        throw Diagnostic(.error, "is not a valid ONNX model: it has no graph (truncated, or not an ONNX file?)", file: path)
    }
    guard model.hasIrVersion, model.irVersion >= 3 else {
        throw Diagnostic(.error, "is not a valid ONNX model: its IR version is \(model.hasIrVersion ? String(model.irVersion) : "missing"); attnc reads IR version 3 and later", file: path)
    }
    _ = try defaultOpset(of: model, path: path)
    return model
}

/// The version of the default operator set the model imports.
func defaultOpset(of model: Onnx_ModelProto, path: String) throws(Diagnostic) -> Int {
    guard let entry = model.opsetImport.first(where: { $0.domain == "" || $0.domain == "ai.onnx" }) else {
        throw Diagnostic(.error, "imports no ai.onnx operator set (opset_import lists \(model.opsetImport.map { "'\($0.domain)'" }.joined(separator: ", ")))", file: path)
    }
    guard supportedONNXOpsets.contains(Int(clamping: entry.version)) else {
        throw Diagnostic(.error, "uses ai.onnx opset \(entry.version); attnc imports opsets \(supportedONNXOpsets.lowerBound) to \(supportedONNXOpsets.upperBound)", file: path)
    }
    return Int(entry.version)
}

private func describe(_ error: Error) -> String {
    if let error = error as? BinaryDecodingError {
        switch error {
        case .truncated: return "the data ends in the middle of a field"
        case .malformedProtobuf: return "a field is malformed"
        case .invalidUTF8: return "a string field is not UTF-8"
        case .messageDepthLimit: return "messages nest too deeply"
        default: return String(describing: error)
        }
    }
    return String(describing: error)
}
