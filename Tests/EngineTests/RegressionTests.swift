import Foundation
import GraphIR
import RandomGraphs
import Testing

/// Graphs that once made the JIT disagree with the interpreter, one `.gir` file per bug in
/// `Regressions/` (cases separated by `// -----`), each run on random inputs and weights (the
/// second seed with NaN and ±inf among the inputs), unoptimised and optimised.
/// The file's leading comment says what was wrong and where it was fixed.
@Suite struct RegressionTests {
    static let files = TestPaths.files(in: TestPaths.regressions, ending: ".gir").map(\.lastPathComponent)

    @Test(arguments: files)
    func regressionCaseMatchesTheInterpreter(file: String) throws {
        let graphs = try parseCases(TestPaths.regressions.appendingPathComponent(file))
        #expect(!graphs.isEmpty, "\(file) holds no graph")
        for (i, graph) in graphs.enumerated() {
            for seed in UInt64(1)...2 {
                for optimized in [false, true] {
                    let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: seed, specialValues: seed == 2),
                                                 weights: randomWeights(for: graph, seed: seed), optimized: optimized)
                    #expect(result.problems.isEmpty,
                            "\(file) case \(i) seed \(seed)\(optimized ? " optimized" : ""):\n\(result.problems.joined(separator: "\n"))")
                }
            }
        }
    }
}
