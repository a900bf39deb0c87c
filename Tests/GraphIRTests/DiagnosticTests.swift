import Foundation
import GraphIR
import Testing

/// Pins every parser diagnostic in Golden/invalid.gir: message, line, and (through the rendered
/// snapshot invalid.gir.expected) column and caret.
@Suite struct DiagnosticTests {
    struct Expectation {
        let line: Int
        let message: String
    }

    static func expectations(in golden: GoldenCase) -> [Expectation] {
        var found: [Expectation] = []
        for (i, line) in golden.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let marker = line.range(of: "// expected-error @+") else { continue }
            let rest = line[marker.upperBound...]
            guard let open = rest.range(of: " {{"), let close = rest.range(of: "}}", options: .backwards),
                  let offset = Int(rest[..<open.lowerBound]) else { continue }
            found.append(Expectation(line: golden.firstLine + i + offset, message: String(rest[open.upperBound..<close.lowerBound])))
        }
        return found
    }

    @Test func everyInvalidCaseGivesItsExpectedError() throws {
        let cases = GoldenCase.split(try Paths.read(Paths.golden.appendingPathComponent("invalid.gir")))
        #expect(cases.count >= 30)
        for golden in cases {
            let expected = Self.expectations(in: golden)
            try #require(expected.count == 1, "case at line \(golden.firstLine) needs exactly one expected-error")
            do {
                let graph = try parseGraph(golden.textAtFileLines, path: "invalid.gir")
                Issue.record("case at line \(golden.firstLine) parsed; verifier says \(verify(graph))")
            } catch {
                #expect(error.location?.line == expected[0].line, "case at line \(golden.firstLine): \(error)")
                #expect(error.message.contains(expected[0].message), "case at line \(golden.firstLine): got \(error.message)")
            }
        }
    }

    @Test func renderedDiagnosticsMatchTheSnapshot() throws {
        let cases = GoldenCase.split(try Paths.read(Paths.golden.appendingPathComponent("invalid.gir")))
        var rendered = ""
        for golden in cases {
            do {
                _ = try parseGraph(golden.textAtFileLines, path: "invalid.gir")
            } catch {
                rendered += error.description + "\n"
            }
        }
        let snapshot = Paths.golden.appendingPathComponent("invalid.gir.expected")
        #expect(try matchSnapshot(rendered, snapshot), "rendered diagnostics differ from invalid.gir.expected; re-record with ATTNC_RECORD=1 after checking the change")
    }

    /// An empty file has no case in invalid.gir, whose every case holds at least its
    /// expected-error line. (A file that is not UTF-8 never reaches the parser: `attnc` refuses
    /// it, `BadInputTests.aModelFileThatIsNotUTF8`.)
    @Test func anEmptyFileIsAnErrorAtItsStart() throws {
        let error = try #require(throws: Diagnostic.self) { try parseGraph("", path: "empty.gir") }
        #expect(error.location?.line == 1)
        #expect(error.location?.column == 1)
        #expect(error.message == "a graph must start with 'graph NAME(...)'")
    }

    @Test func aDiagnosticShowsTheLineAndACaretUnderTheColumn() throws {
        let text = "graph g(%x: f32[2]) {\n  %y = relu(%q) : f32[2]\n  return %y\n}\n"
        let error = try #require(throws: Diagnostic.self) { try parseGraph(text, path: "model.gir") }
        #expect(error.description == """
            model.gir:2:13: error: use of undefined value '%q'
              %y = relu(%q) : f32[2]
                        ^
            """)
    }
}
