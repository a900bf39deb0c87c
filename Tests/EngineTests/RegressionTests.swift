import Foundation
import GraphIR
import RandomGraphs
import Testing

/// Graphs that once made the JIT disagree with the interpreter, one `.gir` file per bug in
/// `Regressions/` (cases separated by `// -----`), each run on random inputs and weights.
/// The file's leading comment says what was wrong and where it was fixed.
@Suite struct RegressionTests {
    static let files = TestPaths.files(in: TestPaths.regressions, ending: ".gir").map(\.lastPathComponent)

    @Test(arguments: files)
    func regressionCaseMatchesTheInterpreter(file: String) throws {
        let graphs = try parseCases(TestPaths.regressions.appendingPathComponent(file))
        #expect(!graphs.isEmpty, "\(file) holds no graph")
        for (i, graph) in graphs.enumerated() {
            for seed in UInt64(1)...2 {
                let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: seed),
                                             weights: randomWeights(for: graph, seed: seed))
                #expect(result.problems.isEmpty, "\(file) case \(i) seed \(seed):\n\(result.problems.joined(separator: "\n"))")
            }
        }
    }
}
