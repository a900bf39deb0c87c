import Foundation
import GraphIR
import RandomGraphs
import Testing

/// Graphs the fusion passes must rewrite into one fused op — `FusedCases/NAME.gir` holds cases
/// for the op NAME (`attention`, `channel_gate`, `spatial_gate`), separated by `// -----` — at
/// the fused kernels' edges (panel and tile remainders, masks, layouts). Each runs unfused and
/// fused against the interpreter, and must actually fuse.
@Suite struct FusedCaseTests {
    static let directory = TestPaths.packageRoot.appendingPathComponent("Tests/EngineTests/FusedCases")
    static let files = TestPaths.files(in: directory, ending: ".gir").map(\.lastPathComponent)

    @Test(arguments: files)
    func fusedCaseMatchesTheInterpreter(file: String) throws {
        let op = String(file.dropLast(".gir".count))
        for (i, graph) in try parseCases(Self.directory.appendingPathComponent(file)).enumerated() {
            let result = runDifferential(graph, inputs: randomInputs(for: graph, seed: 3), weights: randomWeights(for: graph, seed: 3))
            #expect(result.allProblems.isEmpty, "\(file) case \(i) \(graph.name):\n\(result.allProblems.joined(separator: "\n"))")
            if let optimized = result.optimizedText {
                #expect(optimized.contains(" \(op)("), "\(file) case \(i) \(graph.name) was not fused into \(op):\n\(optimized)")
            }
        }
    }
}
