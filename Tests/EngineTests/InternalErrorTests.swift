import Foundation
import GraphIR
import Passes
import Testing
@testable import Engine

/// A pass that breaks the verifier stops the optimiser with an `InternalError` that names the
/// pass and writes the graph the pass was given to a file (docs/RELIABILITY.md).
@Suite struct PassInternalErrorTests {
    /// Renames a result type without changing the op: the verifier's "produces ... but its
    /// results are typed" error.
    struct BreakingPass: Pass {
        var name: String { "break-types" }
        func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
            var broken = Graph(name: graph.name)
            let x = broken.addInput("x", TensorType(.f32, [2]))
            let y = broken.addNode(.unary(.neg), operands: [x], results: [(name: "y", type: TensorType(.f32, [3]))])[0]
            broken.outputs = [y]
            graph = broken
            return true
        }
    }

    @Test func aPassThatBreaksTheGraphIsAnInternalErrorNamingIt() throws {
        let text = "graph g(%x: f32[2]) {\n  %y = neg(%x) : f32[2]\n  return %y\n}\n"
        var graph = try parseGraph(text)
        let pipeline = PassPipeline([.pass(BreakingPass())]).verified
        let error = try #require(throws: InternalError.self) {
            try pipeline.run(&graph, context: PassContext(), options: PassPipeline.Options(verifyEachPass: false))
        }
        #expect(error.stage == "pass break-types")
        #expect(error.problem.hasPrefix("it left a graph the verifier rejects: "), "\(error.problem)")
        #expect(error.problem.contains("neg produces f32[2] but its results are typed f32[3]"), "\(error.problem)")
        let file = try #require(error.irFile)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let saved = try String(contentsOfFile: file, encoding: .utf8)
        #expect(saved.hasPrefix(text), "the file starts with the graph the pass was given:\n\(saved)")
        #expect(saved.contains("// What break-types made of it:\n// graph g(%x: f32[2]) {"), "\(saved)")
        // The saved input replays: it parses.
        #expect(throws: Never.self) { try parseGraph(saved) }
    }

    /// The standard pipeline is the verified one.
    @Test func theOptimizerVerifiesEveryPass() {
        for stage in Optimizer().pipeline.stages {
            switch stage {
            case .pass(let pass): #expect(pass is VerifiedPass, "\(pass.name)")
            case .fixpoint(_, let passes): for pass in passes { #expect(pass is VerifiedPass, "\(pass.name)") }
            }
        }
    }
}
