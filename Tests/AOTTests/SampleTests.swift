import Foundation
import GraphIR
import Runtime
import Testing

/// Every sample compiled ahead of time and linked with the generic C driver computes what the
/// JIT computes.
@Suite struct SampleTests {
    /// Compiles `sample`, links the driver, runs it and `attnc run` on the case's inputs, and
    /// returns the worst relative L2 between their outputs.
    private func compareWithJIT(_ sample: String, compileFlags: [String] = [], mode: String = "run") throws -> Double {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = sample
        let compiled = try AOTHarness.compile(sample, prefix: prefix, in: directory, extra: compileFlags)
        try #require(compiled.status == 0, "\(compiled.log)")
        let linked = try AOTHarness.linkDriver(prefix, in: directory)
        try #require(linked.status == 0, "\(linked.log)")
        let weightsFile = compileFlags.contains("file") ? directory.appendingPathComponent("\(prefix).weights").path : "-"
        let aotOutputs = directory.appendingPathComponent("aot"), jitOutputs = directory.appendingPathComponent("jit")
        let ran = try AOTHarness.runDriver(prefix, sample: sample, mode: mode, weightsFile: weightsFile, in: directory, output: aotOutputs)
        try #require(ran.status == 0, "\(ran.log)")
        let jit = try AOTHarness.runJIT(sample, inputs: try AOTHarness.inputNames(prefix: prefix, in: directory), output: jitOutputs)
        try #require(jit.status == 0, "\(jit.log)")
        let expected = try AOTHarness.outputs(in: jitOutputs), got = try AOTHarness.outputs(in: aotOutputs)
        #expect(Set(got.keys) == Set(expected.keys))
        var worst = 0.0
        for (name, tensor) in expected {
            guard let aot = got[name] else { continue }
            #expect(aot.shape == tensor.shape, "\(sample) \(name)")
            worst = max(worst, AOTHarness.relativeL2(aot, tensor))
        }
        return worst
    }

    @Test(arguments: AOTHarness.samples)
    func objectMatchesTheJIT(_ sample: String) throws {
        let error = try compareWithJIT(sample)
        #expect(error <= 1e-6, "\(sample): relative L2 \(error) between the AOT object and the JIT")
    }

    /// Weights from a file, and a caller's parallel-for that chunks every range in reverse order.
    @Test(arguments: ["cbam", "mha", "sdpa_causal", "gc_block"])
    func fileWeightsAndCallerParallelForMatchTheJIT(_ sample: String) throws {
        let error = try compareWithJIT(sample, compileFlags: ["--weights-mode", "file"], mode: "chunked")
        #expect(error <= 1e-6, "\(sample): relative L2 \(error) between the AOT object and the JIT")
    }

    /// Objects for portable CPUs run here and match PyTorch (their vector width differs from the
    /// JIT's, so the summation order does too: compare with the conformance tolerance).
    @Test(arguments: [("x86-64-v3", 8), ("generic", 4), ("x86-64-v4", 16)])
    func portableTargetsRunAndMatchPyTorch(_ cpu: String, _ lanes: Int) throws {
        let canRun = cpu != "x86-64-v4" || AOTHarness.hostHas("avx512f")
        for sample in ["cbam", "mha", "sdpa_causal"] {
            let directory = try AOTHarness.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let compiled = try AOTHarness.compile(sample, in: directory, extra: ["--target-cpu", cpu])
            try #require(compiled.status == 0, "\(compiled.log)")
            #expect(compiled.stdout.contains(" \(cpu) (\(lanes) lanes)"), "\(compiled.stdout)")
            let header = try String(contentsOf: directory.appendingPathComponent("\(sample).h"), encoding: .utf8)
            #expect(header.contains("CPU \(cpu), \(lanes)-lane f32 vectors"))
            guard canRun else { continue }
            try #require(try AOTHarness.linkDriver(sample, in: directory).status == 0)
            let outputs = directory.appendingPathComponent("out")
            let ran = try AOTHarness.runDriver(sample, sample: sample, in: directory, output: outputs)
            try #require(ran.status == 0, "\(ran.log)")
            let expected = AOTHarness.conformance.appendingPathComponent("\(sample)/expected")
            for (name, tensor) in try AOTHarness.outputs(in: outputs) {
                let reference = try NumpyFile.read(path: expected.appendingPathComponent(name).path)
                let error = AOTHarness.relativeL2(tensor, reference)
                #expect(error <= 1e-4, "\(cpu) \(sample) \(name): relative L2 \(error)")
            }
        }
    }
}
