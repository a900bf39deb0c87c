import Foundation
import GraphIR
import RandomGraphs

/// The JIT against the interpreter: the input bytes choose a small random graph (every choice
/// `randomGraph` makes comes from them) and whether its inputs hold NaN and ±inf; the graph runs
/// through `runDifferential` (as built and through the pass pipeline with fusion, on 1, 2 and 3
/// threads). Any disagreement is a finding. A pass that breaks the verifier is printed and
/// skipped unless `ATTNC_FUZZ_PASS_FAILURES=crash`: those are pinned in
/// `PassRegressionTests` and fixed separately, and a campaign that stops at the first one finds
/// nothing else.
func fuzzDifferential(_ bytes: [UInt8]) {
    guard let flags = bytes.first else { return }
    var options = RandomGraphOptions()
    options.maxSteps = 6
    options.maxElements = 4_096
    options.maxSourceElements = 2_048
    options.maxMultiplyAdds = 100_000
    let graph = randomGraph(bytes: Array(bytes.dropFirst().prefix(512)), options: options)
    let seed = bytes.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    let inputs = randomInputs(for: graph, seed: seed, specialValues: flags & 1 == 1)
    let weights = randomWeights(for: graph, seed: seed)
    let result = runDifferential(graph, inputs: inputs, weights: weights)
    if let failure = result.passFailure {
        guard ProcessInfo.processInfo.environment["ATTNC_FUZZ_PASS_FAILURES"] != "crash" else {
            fuzzFinding("a pass failed:\n\(failure)\n\(printGraph(graph))")
        }
        FileHandle.standardError.write(Data("attnc-fuzz: known pass issue class: \(failure.prefix(200))\n".utf8))
    }
    guard result.problems.isEmpty else {
        fuzzFinding("the JIT and the interpreter disagree:\n\(result.problems.joined(separator: "\n"))\n\(printGraph(graph))")
    }
}
