import Foundation
import GraphIR
import RandomGraphs
import Runtime
import Testing

/// `reduceGraph`, and the entry point that reduces a failing graph file against the JIT:
///
///     ATTNC_REDUCE=failing.gir [ATTNC_REDUCE_SEED=7] [ATTNC_REDUCE_SPECIAL=1] \
///         swift test --filter ReducerTests
///
/// writes `failing.reduced.gir`: the smallest graph found whose JIT and interpreter results still
/// disagree (or whose pass pipeline still fails), with inputs from `randomInputs(seed:)` (NaN and
/// ±inf among them with ATTNC_REDUCE_SPECIAL=1) and weights from `randomWeights(seed:)`.
@Suite struct ReducerTests {
    @Test func aGraphShrinksToTheOpThatFails() throws {
        let graph = try parseGraph("""
            graph g(%x: f32[4,8], %y: f32[4,8]) {
              %a = exp(%x) : f32[4,8]
              %b = add(%a, %y) : f32[4,8]
              %c = softmax(%b) : f32[4,8]
              %d = mul(%c, 2.0) : f32[4,8]
              return %d, %a
            }
            """)
        var checks = 0
        let reduced = reduceGraph(graph) { candidate in
            checks += 1
            return candidate.nodes.contains { $0.op.mnemonic == "softmax" }
        }
        #expect(printGraph(reduced) == """
            graph g(%x: f32[4,8]) {
              %c = softmax(%x) : f32[4,8]
              return %c
            }

            """)
        #expect(checks < 40, "\(checks) checks")
    }

    /// A failure that needs two ops keeps both, and the inputs they read.
    @Test func aFailureNeedingTwoOpsKeepsBoth() throws {
        let graph = randomGraph(seed: 11)
        let mnemonics = Set(graph.nodes.map(\.op.mnemonic))
        let pair = Array(mnemonics.sorted().prefix(2))
        let reduced = reduceGraph(graph) { candidate in
            let present = Set(candidate.nodes.map(\.op.mnemonic))
            return pair.allSatisfy(present.contains)
        }
        #expect(verify(reduced).isEmpty)
        #expect(reduced.nodes.count <= 2 + graph.nodes.filter { $0.op.mnemonic == "constant" }.count, "\(printGraph(reduced))")
        #expect(Set(reduced.nodes.map(\.op.mnemonic)).isSuperset(of: pair))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["ATTNC_REDUCE"] != nil))
    func reduceTheGraphInATTNC_REDUCE() throws {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["ATTNC_REDUCE"]!
        let seed = UInt64(environment["ATTNC_REDUCE_SEED"] ?? "0") ?? 0
        let special = environment["ATTNC_REDUCE_SPECIAL"] == "1"
        let graph = try parseGraph(String(contentsOfFile: path, encoding: .utf8), path: path)
        func problems(_ graph: Graph) -> [String] {
            runDifferential(graph, inputs: randomInputs(for: graph, seed: seed, specialValues: special),
                            weights: randomWeights(for: graph, seed: seed)).allProblems
        }
        let original = problems(graph)
        try #require(!original.isEmpty, "\(path) does not fail with seed \(seed)")
        let reduced = reduceGraph(graph) { !problems($0).isEmpty }
        let output = (path as NSString).deletingPathExtension + ".reduced.gir"
        try printGraph(reduced).write(toFile: output, atomically: true, encoding: .utf8)
        print("""
            reduced \(graph.nodes.count) nodes to \(reduced.nodes.count): \(output)
            \(printGraph(reduced))
            \(problems(reduced).joined(separator: "\n"))
            """)
    }
}
