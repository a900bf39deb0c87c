import Codegen
import Foundation
import GraphIR
import Testing

/// The kernel plan of some samples, pinned as text: IR in, kernel plan out. Re-record with
/// `ATTNC_RECORD=1 swift test --filter KernelPlanGoldenTests` and read the diff.
@Suite struct KernelPlanGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fixed AVX2 tile, so the golden text does not depend on the machine running the test.
    static let tile = MatmulTile(rows: 6, columns: 16)

    @Test(arguments: ["sdpa_causal", "se", "gc_block", "triplet_attention", "mha"])
    func planMatchesGolden(_ name: String) throws {
        let source = Self.root.appendingPathComponent("samples/\(name).gir")
        let graph = try parseGraph(try String(contentsOf: source, encoding: .utf8), path: source.path)
        let plan = try planKernels(graph, tile: Self.tile).description
        let golden = Self.root.appendingPathComponent("Tests/CodegenTests/Golden/\(name).plan")
        if ProcessInfo.processInfo.environment["ATTNC_RECORD"] == "1" {
            try plan.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(plan == (try String(contentsOf: golden, encoding: .utf8)), "kernel plan of \(name) changed; re-record after checking")
    }

    @Test func viewsShareTheirOperandsBuffer() throws {
        let graph = try parseGraph("""
            graph g(%x: f32[2,6]) {
              %r = reshape(%x, shape=[3,4]) : f32[3,4]
              %y = relu(%r) : f32[3,4]
              %out = reshape(%y, shape=[12]) : f32[12]
              return %out
            }
            """)
        let plan = try planKernels(graph, tile: Self.tile)
        // One kernel: relu reads the input and writes the output buffer directly.
        #expect(plan.kernels.count == 1)
        #expect(plan.arenaBytes == 0)
    }

    @Test func anOutputThatIsAnInputIsCopied() throws {
        let graph = try parseGraph("""
            graph g(%x: f32[4]) {
              %y = reshape(%x, shape=[2,2]) : f32[2,2]
              return %y
            }
            """)
        let plan = try planKernels(graph, tile: Self.tile)
        #expect(plan.description.contains("k0 elementwise [2,2]: b1[2,1] = b0[2,1]"))
    }
}
