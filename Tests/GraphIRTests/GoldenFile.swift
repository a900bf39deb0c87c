import Foundation
import GraphIR

/// Paths of the package and the shared folder beside it.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = packageRoot.appendingPathComponent("Tests/GraphIRTests/Golden")
    static let samples = packageRoot.appendingPathComponent("samples")

    static func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    static func sampleFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: samples, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "gir" }.sorted { $0.path < $1.path }
    }
}

/// One case of a golden file split at `// -----` lines.
struct GoldenCase {
    /// The case's text, exactly as in the file.
    let text: String
    /// The file line its first line is on (1-based).
    let firstLine: Int

    /// The text preceded by blank lines so that parse locations match lines in the whole file.
    var textAtFileLines: String { String(repeating: "\n", count: firstLine - 1) + text }

    static func split(_ text: String) -> [GoldenCase] {
        var cases: [GoldenCase] = []
        var current: [Substring] = []
        var first = 1
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() {
            if line == "// -----" {
                cases.append(GoldenCase(text: current.joined(separator: "\n") + "\n", firstLine: first))
                current = []
                first = i + 2
            } else {
                current.append(line)
            }
        }
        // The file's final newline leaves an empty last element.
        if current.last == "" { current.removeLast() }
        cases.append(GoldenCase(text: current.joined(separator: "\n") + "\n", firstLine: first))
        return cases
    }
}

/// Compares `actual` with the snapshot file, or rewrites the file when ATTNC_RECORD=1.
func matchSnapshot(_ actual: String, _ url: URL) throws -> Bool {
    if ProcessInfo.processInfo.environment["ATTNC_RECORD"] == "1" {
        try actual.write(to: url, atomically: true, encoding: .utf8)
        return true
    }
    return try Paths.read(url) == actual
}
