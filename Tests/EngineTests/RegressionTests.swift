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
        let url = TestPaths.regressions.appendingPathComponent(file)
        let graphs = try parseCases(url)
        #expect(!graphs.isEmpty, "\(file) holds no graph")
        // A file can opt out of NaN and inf inputs (it says why).
        let finiteOnly = try String(contentsOf: url, encoding: .utf8).contains("differential: finite inputs only")
        for (i, graph) in graphs.enumerated() {
            for seed in UInt64(1)...2 {
                let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: seed, specialValues: seed == 2 && !finiteOnly),
                                             weights: randomWeights(for: graph, seed: seed))
                #expect(result.allProblems.isEmpty, "\(file) case \(i) seed \(seed):\n\(result.allProblems.joined(separator: "\n"))")
            }
        }
    }
}
