import GraphIR
import Testing

/// The verifier on graphs no parser would produce: what a buggy pass could leave behind.
@Suite struct VerifierTests {
    func base() throws -> Graph {
        try parseGraph("""
            graph g(%x: f32[2,3]) {
              %y = relu(%x) : f32[2,3]
              %z = tanh(%y) : f32[2,3]
              return %z
            }
            """)
    }

    @Test func aWellFormedGraphHasNoProblems() throws {
        #expect(verify(try base()).isEmpty)
    }

    @Test func useBeforeDefinitionIsReported() throws {
        var graph = try base()
        graph.nodes[0].operands = [graph.nodes[1].results[0]]
        #expect(verify(graph).map(\.message).contains("relu uses %z before it is defined"))
    }

    @Test func aResultTypeThatDisagreesWithTheOpIsReported() throws {
        var graph = try base()
        graph.values[graph.nodes[0].results[0].index].type = f32[3, 2]
        let messages = verify(graph).map(\.message)
        #expect(messages.contains("relu produces f32[2,3] but its results are typed f32[3,2]"))
    }

    @Test func duplicateNamesAndOutputsAreReported() throws {
        var graph = try base()
        graph.values[graph.nodes[1].results[0].index].name = "y"
        graph.outputs.append(graph.outputs[0])
        let messages = verify(graph).map(\.message)
        #expect(messages.contains("'%y' is defined twice"))
        #expect(messages.contains("%y is returned twice"))
    }

    @Test func aGraphWithoutOutputsIsReported() throws {
        var graph = try base()
        graph.outputs = []
        #expect(verify(graph).map(\.message) == ["graph 'g' has no outputs"])
    }

    @Test func builderErrorsSurfaceAtFinish() throws {
        let b = GraphBuilder("bad")
        let x = b.input("x", f32[2, 3])
        let y = b.input("y", f32[4, 5])
        b.output(x.matmul(y), as: "out")
        #expect(throws: Diagnostic.self) { try b.finish() }
    }
}
