import Foundation
import Runtime
import Testing

/// Graphs too large to describe or to fit in memory are refused with a message, never a crash
/// (docs/RELIABILITY.md, the bad-input table).
@Suite struct SizeAndMemoryTests {
    func graph(_ shape: String) -> String {
        "graph g(%x: f32[\(shape)]) {\n  %y = neg(%x) : f32[\(shape)]\n  return %y\n}\n"
    }

    func failure(_ arguments: [String], text: String) throws -> AttncProcess.Result {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big.gir").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try AttncProcess.run(arguments.map { $0 == "MODEL" ? path : $0 == "OUT" ? directory.path : $0 })
    }

    /// Found by hand while writing the fuzz targets: `attnc run` trapped on integer overflow.
    @Test func aShapeWhoseElementCountOverflowsIsAParseError() throws {
        let result = try failure(["run", "MODEL", "--random-inputs", "1", "--output-dir", "OUT"], text: graph("4611686018427387904,4"))
        #expect(result.status == 1)
        #expect(result.stderr.contains("big.gir:1:13: error: type f32[4611686018427387904,4]: its element count overflows a 64-bit integer"),
                "\(result.stderr)")
    }

    @Test func aTensorOverTheSizeLimitIsAParseError() throws {
        let result = try failure(["check", "MODEL"], text: graph("100000,100000,100000"))
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            "error: type f32[100000,100000,100000]: 1000000000000000 elements need more than the 281474976710656 bytes (256 TiB) a tensor may hold"),
                "\(result.stderr)")
    }

    /// Found by hand: `attnc run` on a 400 GB input aborted in the allocator making random inputs.
    @Test func aGraphLargerThanMemoryIsRefusedWithTheSizeItNeeds() throws {
        let result = try failure(["run", "MODEL", "--random-inputs", "1", "--output-dir", "OUT"], text: graph("100000,100000,10"))
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            "error: graph 'g' (its inputs, outputs and weights) needs 800000000000 bytes (745.1 GiB) of memory, more than this machine's"),
                "\(result.stderr)")
        let interpreted = try failure(["run", "MODEL", "--random-inputs", "1", "--output-dir", "OUT", "--interp"], text: graph("100000,100000,10"))
        #expect(interpreted.status == 1)
        #expect(interpreted.stderr.contains(
            "error: the interpreter on graph 'g' (every value, as doubles) needs 1600000000000 bytes (1.5 TiB) of memory"), "\(interpreted.stderr)")
    }

    /// Small inputs and output, a 40 GB product between them: the compiled graph's arena is
    /// checked against memory before anything is allocated. Skipped on a machine that could hold it,
    /// where the run would go ahead.
    @Test(.enabled(if: MemoryLimit.physicalBytes < 40_002_000_064, "the machine holds the 40 GB intermediate"))
    func intermediateBuffersLargerThanMemoryAreRefused() throws {
        let text = """
            graph g(%a: f32[100000,1], %b: f32[1,100000]) {
              %c = matmul(%a, %b) : f32[100000,100000]
              %s = sum(%c, axes=[1]) : f32[100000]
              return %s
            }

            """
        let result = try failure(["run", "MODEL", "--random-inputs", "1", "--output-dir", "OUT"], text: text)
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            "error: the compiled graph (inputs, outputs, weights and intermediate buffers) needs 40002000064 bytes (37.3 GiB) of memory, more than this machine's"),
                "\(result.stderr)")
    }

    /// Zero-size dims are valid: the outputs are empty tensors.
    @Test func zeroSizeDimsRunAndGiveEmptyOutputs() throws {
        let result = try failure(["run", "MODEL", "--random-inputs", "1", "--output-dir", "OUT"], text: graph("0,3"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("y: f32[0,3] sum=0 l2=0"), "\(result.stdout)")
    }
}
