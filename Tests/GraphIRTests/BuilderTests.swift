import GraphIR
import Testing

@Suite struct BuilderTests {
    @Test func attentionReadsLikeTheMathAndPrintsAsExpected() throws {
        let b = GraphBuilder("sdpa")
        let q = b.input("q", f32[1, 2, 8, 4]), k = b.input("k", f32[1, 2, 8, 4]), v = b.input("v", f32[1, 2, 8, 4])
        let scores = (q.matmul(k, transposeB: true) * 0.5).named("scores")
        b.output(scores.softmax(axis: -1).matmul(v), as: "out")
        #expect(printGraph(try b.finish()) == """
            graph sdpa(%q: f32[1,2,8,4], %k: f32[1,2,8,4], %v: f32[1,2,8,4]) {
              %0 = matmul(%q, %k, transpose_b=true) : f32[1,2,8,8]
              %scores = mul(%0, 0.5) : f32[1,2,8,8]
              %2 = softmax(%scores) : f32[1,2,8,8]
              %out = matmul(%2, %v) : f32[1,2,8,4]
              return %out
            }

            """)
    }

    @Test func symbolicDimsFlowThroughTheBuilder() throws {
        let b = GraphBuilder("symbolic")
        let x = b.input("x", f32["B", "S", 64])
        let heads = x.reshape(["B", "S", 4, -1]).transpose([0, 2, 1, 3])
        #expect(heads.type == f32["B", 4, "S", 16])
        b.output(heads, as: "heads")
        let graph = try b.finish()
        #expect(graph.symbols == ["B", "S"])
        let bound = try graph.specialized(["B": 2, "S": 5])
        #expect(bound.type(of: bound.outputs[0]) == f32[2, 4, 5, 16])
    }
}
