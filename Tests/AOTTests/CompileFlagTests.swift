import Foundation
import Testing

/// `attnc compile`'s flags: defaults, symbolic dims, and clear errors with exit code 1.
@Suite struct CompileFlagTests {
    private func compileCBAM(_ extra: [String]) throws -> AOTHarness.Result {
        try AOTHarness.attnc(["compile", "samples/cbam.gir", "--weights", AOTHarness.weights("cbam")] + extra)
    }

    @Test(arguments: [
        (["-o", "/tmp/x.o", "--target-cpu", "pentium9"], "unknown target CPU 'pentium9'; attnc compile supports native, generic, x86-64"),
        (["-o", "/tmp/x.o", "--weights-mode", "inline"], "The value 'inline' is invalid for '--weights-mode <embed|file>'"),
        (["-o", "/tmp/x.o", "--target-features", "avx2"], "'avx2' has no + or - sign"),
        (["-o", "/tmp/x.o", "--prefix", "9lives"], "--prefix '9lives' is not a C identifier"),
        (["-o", "/tmp/x.o", "--bind", "S=4"], "--bind S: graph 'cbam' has no symbolic dim 'S'"),
        ([], "Missing expected argument '--output <NAME.o>'"),
    ])
    func badFlagsFailWithAClearError(_ flags: [String], _ message: String) throws {
        let result = try compileCBAM(flags)
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// A CPU without AVX-512 plus `+avx512f` compiles 16-lane code (LLVM 18+ also needs `evex512`).
    @Test func featuresExtendTheCPU() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try compileCBAM(["-o", directory.appendingPathComponent("c.o").path, "--target-cpu", "x86-64-v3",
                                      "--target-features", "+avx512f"])
        #expect(result.status == 0, "\(result.log)")
        #expect(result.stdout.contains("x86-64-v3 (16 lanes)"), "\(result.stdout)")
    }

    @Test func missingWeightsAreNamed() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try AOTHarness.attnc(["compile", "samples/se.gir", "-o", directory.appendingPathComponent("se.o").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("missing weight '"), "\(result.stderr)")
        #expect(result.stderr.contains("give the weights with --weights"), "\(result.stderr)")
    }

    /// Defaults: the prefix comes from the object's name (as a C identifier), the header and the
    /// weights file sit beside the object.
    @Test func defaultsComeFromTheObjectName() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try compileCBAM(["-o", directory.appendingPathComponent("my-cbam.v2.o").path, "--weights-mode", "file"])
        try #require(result.status == 0, "\(result.log)")
        let header = try String(contentsOf: directory.appendingPathComponent("my-cbam.v2.h"), encoding: .utf8)
        #expect(header.contains("int my_cbam_v2_run(const float *const *inputs, float *const *outputs, void *scratch);"))
        #expect(header.contains("#define MY_CBAM_V2_WEIGHTS_FILE \"my-cbam.v2.weights\""))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("my-cbam.v2.weights").path))
    }

    private static let symbolic = """
        graph symbolic(%x: f32[B,S,8]) {
          %y = softmax(%x) : f32[B,S,8]
          return %y
        }

        """

    @Test func symbolicDimsCompileOnceBound() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("symbolic.gir")
        try Self.symbolic.write(to: model, atomically: true, encoding: .utf8)
        let object = directory.appendingPathComponent("sym.o").path
        let unbound = try AOTHarness.attnc(["compile", model.path, "-o", object, "--bind", "B=2"])
        #expect(unbound.status == 1)
        #expect(unbound.stderr.contains("symbolic dim S is not bound; give its size with --bind S=SIZE"), "\(unbound.stderr)")
        let bound = try AOTHarness.attnc(["compile", model.path, "-o", object, "--bind", "B=2", "--bind", "S=3"])
        try #require(bound.status == 0, "\(bound.log)")
        let header = try String(contentsOf: directory.appendingPathComponent("sym.h"), encoding: .utf8)
        #expect(header.contains("#define SYM_INPUT_X_DIMS {2, 3, 8}"))
        #expect(header.contains("#define SYM_OUTPUT_Y_COUNT 48"))
        let linked = try AOTHarness.linkDriver("sym", in: directory)
        try #require(linked.status == 0, "\(linked.log)")
        let ran = try AOTHarness.run(directory.appendingPathComponent("sym-driver").path, ["errors", "-"])
        #expect(ran.status == 0, "\(ran.log)")
    }
}
