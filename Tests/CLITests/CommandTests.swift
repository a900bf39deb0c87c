import Foundation
import GraphIR
import Runtime
import Testing

@Suite struct CommandTests {
    @Test func versionNamesAttncLLVMAndTheHost() throws {
        let result = try AttncProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("attnc "))
        #expect(result.stdout.contains("LLVM "))
        #expect(result.stdout.contains("host triple: x86_64"))
        #expect(result.stdout.contains("host CPU: "))
        #expect(result.stdout.contains("host features: "))
    }

    @Test(arguments: ["check", "run", "dump", "bench", "compile", "version"])
    func everyCommandHasHelp(_ command: String) throws {
        let result = try AttncProcess.run([command, "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: attnc \(command)"))
    }

    @Test func checkAcceptsASample() throws {
        let result = try AttncProcess.run(["check", "samples/cbam.gir"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("samples/cbam.gir: ok: graph 'cbam', 1 input, 5 weights"))
    }

    @Test func dumpPrintsTheSampleBackExactly() throws {
        let result = try AttncProcess.run(["dump", "samples/mha.gir"])
        #expect(result.status == 0)
        #expect(result.stdout == (try String(contentsOf: AttncProcess.packageRoot.appendingPathComponent("samples/mha.gir"), encoding: .utf8)))
    }

    @Test func dumpDrawsAGraphvizGraph() throws {
        let result = try AttncProcess.run(["dump", "samples/se.gir", "--format", "dot"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("digraph \"se\" {"))
        #expect(result.stdout.contains("[shape=box, label=\"linear\\n%hidden: f32[2,3]\"]"))
        #expect(result.stdout.contains("shape=doubleoctagon, label=\"out\""))
    }

    @Test func runWritesEveryOutputMatchingPyTorch() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let conformance = AttncProcess.shared.appendingPathComponent("conformance/bahdanau")
        let result = try AttncProcess.run([
            "run", "samples/bahdanau.gir", "--weights", conformance.appendingPathComponent("weights.safetensors").path,
            "--input", "query=" + conformance.appendingPathComponent("inputs/query.npy").path,
            "--input", "values=" + conformance.appendingPathComponent("inputs/values.npy").path,
            "--output-dir", directory.path, "--interp",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("context: f32[2,32] sum="))
        for name in ["context", "weights"] {
            let written = try NumpyFile.read(path: directory.appendingPathComponent("\(name).npy").path)
            let expected = try NumpyFile.read(path: conformance.appendingPathComponent("expected/\(name).npy").path)
            #expect(written.shape == expected.shape)
            let difference = zip(written.doubles, expected.doubles).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            let norm = expected.doubles.reduce(0) { $0 + $1 * $1 }
            #expect((difference / norm).squareRoot() <= 1e-5)
        }
    }

    @Test func randomInputsAreReproducible() throws {
        let first = try AttncProcess.temporaryDirectory(), second = try AttncProcess.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        for directory in [first, second] {
            let result = try AttncProcess.run(["run", "samples/sdpa.gir", "--random-inputs", "7", "--output-dir", directory.path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try Data(contentsOf: first.appendingPathComponent("out.npy")) == Data(contentsOf: second.appendingPathComponent("out.npy")))
    }
}
