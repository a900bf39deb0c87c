import Foundation
import GraphIR

/// Whole-file reads and writes whose failures are diagnostics naming the file.
enum FileBytes {
    /// The contents of the file at `path`.
    static func read(path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Diagnostic(.error, "no such file", file: path)
        }
        guard !isDirectory.boolValue else {
            throw Diagnostic(.error, "is a directory, expected a file", file: path)
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw Diagnostic(.error, "cannot read the file: \(error.localizedDescription)", file: path)
        }
    }

    /// Replaces (or creates) the file at `path` with `bytes`.
    static func write(_ bytes: [UInt8], path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw Diagnostic(.error, "cannot write the file: \(error.localizedDescription)", file: path)
        }
    }
}
