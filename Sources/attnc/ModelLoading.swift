import ArgumentParser
import Foundation
import GraphIR

/// Reads a model file into a verified graph, choosing the reader by extension.
func loadModel(_ path: String) throws -> Graph {
    let text = try readText(path)
    guard path.hasSuffix(".gir") else {
        throw Diagnostic(.error, "unsupported model file; attnc reads .gir text files", file: path)
    }
    let graph = try parseGraph(text, path: path)
    try verifyOrThrow(graph)
    return graph
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
    @Argument(help: "The model: a .gir file.")
    var model: String
}
