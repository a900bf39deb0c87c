import Foundation
import GraphIR
import Passes
import Testing

/// The pipeline's own guarantees: a fixpoint group that never settles is a thrown `InternalError`
/// naming the group (a compiler must not hang or crash), and the standard simplify group
/// settles on graphs that once made two of its passes undo each other.
@Suite struct PipelineTests {
    /// Renames one value back and forth, so it reports a change every time it runs.
    private struct Flip: Pass {
        let name = "flip"

        func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
            let id = graph.outputs[0]
            graph[id].name = graph[id].name == "a" ? "b" : "a"
            return true
        }
    }

    @Test func aFixpointGroupThatNeverSettlesThrowsNamingIt() throws {
        let original = try parseGraph("""
            graph t(%x: f32[2]) {
              %a = relu(%x) : f32[2]
              return %a
            }
            """)
        var graph = original
        var pipeline = PassPipeline([.fixpoint("ping-pong", [EliminateDeadCode(), Flip()])])
        pipeline.maximumRounds = 7
        do {
            try pipeline.run(&graph, context: PassContext(), options: .init(verifyEachPass: true))
            Issue.record("the pipeline returned although the group never settles")
        } catch let error as InternalError {
            #expect(error.stage == "fixpoint group ping-pong")
            #expect(error.problem == "it did not converge: after 7 rounds flip still changed the graph")
            #expect(error.description.hasPrefix("internal error in fixpoint group ping-pong: it did not converge"))
            // The graph of the last round is in the file the error names.
            let saved = try #require(error.irFile)
            #expect(try String(contentsOfFile: saved, encoding: .utf8).hasPrefix("graph t(%x: f32[2]) {"))
            try? FileManager.default.removeItem(atPath: saved)
        }
    }

    /// fold-constants once turned `identity(%a)` (an output naming a constant a second time) into
    /// a copy of the constant, and CSE merged the copy back into an identity, forever.
    @Test func simplifySettlesOnOutputsThatAreOneConstant() throws {
        var graph = try parseGraph("""
            graph t(%x: f32[1]) {
              %a = constant(value=3.0) : f32[1]
              %b = identity(%a) : f32[1]
              %c = add(%a, 0.0) : f32[1]
              return %a, %b, %c
            }
            """)
        var events: [String] = []
        try PassPipeline.standard(fuse: false).run(&graph, context: PassContext(), options: .init(verifyEachPass: true)) {
            if $0.changed { events.append($0.pass) }
        }
        #expect(printGraph(graph) == """
            graph t(%x: f32[1]) {
              %a = constant(value=3.0) : f32[1]
              %b = identity(%a) : f32[1]
              %c = identity(%b) : f32[1]
              return %a, %b, %c
            }

            """)
        #expect(events.count <= 4, "the simplify group took many rounds: \(events)")
    }
}
