import Foundation
import GraphIR
import Passes
import Testing

/// Where the test inputs live.
enum TestPaths {
    /// The package root: this file is `<root>/Tests/PassesTests/Support/TestGraph.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = packageRoot.appendingPathComponent("Tests/PassesTests/Golden")
    static let spellings = packageRoot.appendingPathComponent("Tests/PassesTests/Spellings")
    static let samples = packageRoot.appendingPathComponent("samples")

    /// The `.gir` files of `directory`, sorted by name.
    static func girFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".gir") }.sorted().map { directory.appendingPathComponent($0) }
    }
}

/// One test graph with its expectations: a case of a golden file (cases are split at
/// `// -----` lines), a spelling file or a sample.
struct TestGraph: Sendable, CustomTestStringConvertible {
    let file: URL
    /// The file line the case starts on (1-based).
    let firstLine: Int
    /// The case's IR text, directive lines taken out.
    let text: String
    let directives: [Directive]

    var fileName: String { file.lastPathComponent }
    /// The name of a golden file's pass (the file is `PASS.gir`).
    var passName: String { file.deletingPathExtension().lastPathComponent }
    var testDescription: String { firstLine == 1 ? fileName : "\(fileName):\(firstLine)" }

    func has(_ kind: Directive.Kind) -> Bool { directives.contains { $0.kind == kind } }
    var knownIssue: String? { directives.first { $0.kind == .knownIssue }?.text }

    /// Reads a file; `split` cuts it into cases at `// -----` lines.
    static func load(_ file: URL, split: Bool) -> [TestGraph] {
        guard let contents = try? String(contentsOf: file, encoding: .utf8) else {
            preconditionFailure("cannot read \(file.path)")
        }
        var graphs: [TestGraph] = []
        var lines: [Substring] = []
        var directives: [Directive] = []
        var first = 1
        func flush() {
            // The file's final newline leaves an empty last line.
            if lines.last == "" { lines.removeLast() }
            graphs.append(TestGraph(file: file, firstLine: first, text: lines.joined(separator: "\n") + "\n", directives: directives))
        }
        for (i, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if split && line == "// -----" {
                flush()
                lines = []
                directives = []
                first = i + 2
            } else if let directive = Directive.parse(line, at: i + 1) {
                directives.append(directive)
            } else {
                lines.append(line)
            }
        }
        flush()
        return graphs
    }

    static func goldenCases() -> [TestGraph] {
        TestPaths.girFiles(in: TestPaths.golden).flatMap { load($0, split: true) }
    }

    static func spellings() -> [TestGraph] {
        TestPaths.girFiles(in: TestPaths.spellings).flatMap { load($0, split: false) }
    }

    static func samples() -> [TestGraph] {
        TestPaths.girFiles(in: TestPaths.samples).flatMap { load($0, split: false) }
    }

    /// The parsed graph; its printed form must be the case's text exactly (every test file is
    /// canonical IR, so the golden files also prove the text round-trips).
    func parse() throws -> Graph {
        let graph = try parseGraph(text, path: fileName)
        let problems = verify(graph)
        if !problems.isEmpty { record("the input does not verify:\n\(problems.map(\.description).joined(separator: "\n"))") }
        let printed = printGraph(graph)
        if printed != text { record("the input is not canonical IR; it prints as:\n\(printed)") }
        return graph
    }

    /// Records an issue at a line of the test file (the case's first line by default).
    func record(_ message: String, line: Int? = nil) {
        Issue.record(Comment(rawValue: message), sourceLocation: Testing.SourceLocation(
            fileID: "PassesTests/\(fileName)", filePath: file.path, line: line ?? firstLine, column: 1))
    }

    /// Checks `output` and `remarks` against the case's CHECK and REMARK directives, each failure
    /// reported at its directive's line, with the whole output to compare against. With a
    /// KNOWN-ISSUE directive, `extra` expectations are checked too and all of them are expected
    /// to fail.
    func expectDirectives(output: String, remarks: [Remark], extra: () -> [String] = { [] }) {
        let rendered = remarks.map { "\($0.kind.rawValue): \($0.message)" }
        func check() {
            let failures = matchChecks(directives, against: output) + matchRemarks(directives, against: rendered, caseLine: firstLine)
            for failure in failures {
                record("\(failure.message)\n--- output:\n\(output)--- remarks:\n\(rendered.joined(separator: "\n"))", line: failure.line)
            }
            for problem in extra() { record(problem) }
        }
        if let knownIssue {
            withKnownIssue(Comment(rawValue: knownIssue)) { check() }
        } else {
            check()
        }
    }
}

/// Every pass a golden file may name, by name.
enum PassRegistry {
    static var all: [any Pass] {
        [Canonicalize(), FoldConstants(), EliminateCommonSubexpressions(), EliminateDeadCode(),
         FuseAttention(), FuseChannelGate(), FuseSpatialGate(), FuseElementwise()]
    }

    static func pass(named name: String) -> (any Pass)? { all.first { $0.name == name } }
}

extension Op {
    /// Whether the op is the fused attention.
    var isAttention: Bool {
        if case .attention = self { return true }
        return false
    }

    var isSoftmax: Bool {
        if case .softmax = self { return true }
        return false
    }
}
