import GraphIR
import Passes
import Testing

/// Every rewrite keeps the meaning: the reference interpreter gives the same outputs (relative L2
/// ≤ 1e-5, NaN and inf in the same places) for a graph before and after a pass, and before and
/// after the whole pipeline, on the same seeded random inputs and weights.
@Suite struct NumericalEquivalenceTests {
    /// Each golden case through its own pass.
    @Test(arguments: TestGraph.goldenCases())
    func passKeepsTheMeaning(_ golden: TestGraph) throws {
        guard let pass = PassRegistry.pass(named: golden.passName) else { return }
        let input = try parseGraph(golden.text, path: golden.fileName)
        var output = input
        _ = try pass.run(&output, context: PassContext())
        for problem in numericalDifferences(input, output) { golden.record("after \(pass.name): \(problem)\n\(printGraph(output))") }
    }

    /// Golden cases, spellings and samples through the standard pipeline, with and without fusion.
    @Test(arguments: TestGraph.goldenCases() + TestGraph.spellings() + TestGraph.samples())
    func pipelineKeepsTheMeaning(_ graph: TestGraph) throws {
        let input = try parseGraph(graph.text, path: graph.fileName)
        for fuse in [true, false] {
            var output = input
            try PassPipeline.standard(fuse: fuse).run(&output, context: PassContext(), options: .init(verifyEachPass: true))
            for problem in numericalDifferences(input, output) {
                graph.record("after the pipeline\(fuse ? "" : " without fusion"): \(problem)\n\(printGraph(output))")
            }
        }
    }

    @Test func differencesAreReported() {
        let x = TensorData(.f32, shape: [3], doubles: [1, 2, .nan])
        #expect(difference(x, from: x, tolerance: 0) == nil)
        #expect(difference(TensorData(.f32, shape: [3], doubles: [1, 2.001, .nan]), from: x, tolerance: 1e-5) != nil)
        #expect(difference(TensorData(.f32, shape: [3], doubles: [1, 2, 0]), from: x, tolerance: 1) != nil)
        #expect(difference(TensorData(.f32, shape: [3], doubles: [1, 2, -.infinity]), from: TensorData(.f32, shape: [3], doubles: [1, 2, .infinity]),
                           tolerance: 1) != nil)
        #expect(difference(TensorData(.i32, shape: [1], doubles: [1]), from: TensorData(.i32, shape: [1], doubles: [2]), tolerance: 1) != nil)
    }
}
