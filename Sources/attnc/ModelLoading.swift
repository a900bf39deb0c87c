import ArgumentParser
import Foundation
import GraphIR
import ONNXImport

/// Reads a model file into a verified graph, choosing the reader by extension.
func loadModel(_ path: String) throws -> Graph {
    try loadModelAndWeights(path).graph
}

/// Reads a model file into a verified graph and the weights that come with it: none for a `.gir`
/// file (they are bound with `--weights`), the initializers for an `.onnx` file.
func loadModelAndWeights(_ path: String) throws -> (graph: Graph, weights: [String: TensorData]) {
    if path.hasSuffix(".onnx") {
        let model = try importONNX(path: path)
        return (model.graph, model.weights)
    }
    let text = try readText(path)
    guard path.hasSuffix(".gir") else {
        throw Diagnostic(.error, "unsupported model file; attnc reads .gir text files and .onnx models", file: path)
    }
    let graph = try parseGraph(text, path: path)
    try verifyOrThrow(graph)
    return (graph, [:])
}

/// A file's contents as UTF-8 text, with an error naming the file when it cannot be read.
func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        throw Diagnostic(.error, exists ? (isDirectory.boolValue ? "is a directory, not a file" : "cannot be read (permissions?)") : "no such file", file: path)
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw Diagnostic(.error, "is not UTF-8 text", file: path)
    }
    return text
}

/// The `MODEL` argument shared by every command that reads a model.
struct ModelArgument: ParsableArguments {
    @Argument(help: "The model: a .gir file or an .onnx model.")
    var model: String
}
