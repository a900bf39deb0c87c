import Foundation
import GraphIR
import Runtime
import Testing

/// Every bad input gets a message on stderr that names the problem, and exit code 1.
@Suite struct BadInputTests {
    let conformance = AttncProcess.shared.appendingPathComponent("conformance")

    func expectFailure(_ arguments: [String], mentions fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let result = try AttncProcess.run(arguments)
        #expect(result.status == 1, "exit status \(result.status); stderr: \(result.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "stderr lacks \(fragment.debugDescription): \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    func write(_ text: String, named name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func aMissingModelFile() throws {
        try expectFailure(["check", "no/such/model.gir"], mentions: ["no/such/model.gir: error: no such file"])
    }

    @Test func anUnknownModelExtension() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try write("hello", named: "model.txt", in: directory)
        try expectFailure(["check", path], mentions: ["model.txt: error: unsupported model file"])
    }

    @Test func aParseErrorShowsFileLineColumnAndCaret() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try write("graph g(%x: f32[2]) {\n  %y = relu(%q) : f32[2]\n  return %y\n}\n", named: "bad.gir", in: directory)
        try expectFailure(["check", path], mentions: ["bad.gir:2:13: error: use of undefined value '%q'\n  %y = relu(%q) : f32[2]\n            ^"])
        try expectFailure(["run", path, "--output-dir", directory.path], mentions: ["bad.gir:2:13: error"])
        try expectFailure(["dump", path], mentions: ["bad.gir:2:13: error"])
    }

    @Test func aMissingWeight() throws {
        try expectFailure(["run", "samples/se.gir", "--random-inputs", "1", "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["missing weight 'fc1.weight' (f32[3,48])", "--weights"])
    }

    /// A graph with one input and one weight, for the weight and input binding errors.
    static let matmul = "graph g(%x: f32[2,3]) {\n  weight @w: f32[3,4]\n  %y = matmul(%x, @w) : f32[2,4]\n  return %y\n}\n"

    /// A safetensors file whose one tensor has the given name, dtype and shape and 4-byte
    /// elements, with `extra` bytes appended after it.
    func writeSafetensors(_ tensor: String, dtype: String, shape: [Int], extra: Int = 0, named name: String, in directory: URL) throws -> String {
        let bytes = 4 * shape.reduce(1, *)
        let header = #"{"\#(tensor)": {"dtype": "\#(dtype)", "shape": \#(shape), "data_offsets": [0, \#(bytes)]}}"#
        let length = (0..<8).map { UInt8(truncatingIfNeeded: header.utf8.count >> (8 * $0)) }
        let url = directory.appendingPathComponent(name)
        try Data(length + Array(header.utf8) + [UInt8](repeating: 0, count: bytes + extra)).write(to: url)
        return url.path
    }

    @Test func aMissingWeightInTheWeightsFile() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try write(Self.matmul, named: "m.gir", in: directory)
        let weights = try writeSafetensors("v", dtype: "F32", shape: [3, 4], named: "other.safetensors", in: directory)
        try expectFailure(["run", model, "--weights", weights, "--random-inputs", "1", "--output-dir", directory.path],
                          mentions: ["error: missing weight 'w' (f32[3,4]); it is not in \(weights)\n"])
    }

    @Test func aWeightOfAnotherSupportedDtype() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try write(Self.matmul, named: "m.gir", in: directory)
        let weights = try writeSafetensors("w", dtype: "I32", shape: [3, 4], named: "dtype.safetensors", in: directory)
        try expectFailure(["run", model, "--weights", weights, "--random-inputs", "1", "--output-dir", directory.path],
                          mentions: ["error: weight 'w' in \(weights) is i32[3,4] but the graph declares f32[3,4]"])
    }

    @Test func anInputOfAnotherSupportedDtype() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try write(Self.matmul, named: "m.gir", in: directory)
        let weights = try writeSafetensors("w", dtype: "F32", shape: [3, 4], named: "w.safetensors", in: directory)
        let input = directory.appendingPathComponent("x_i32.npy").path
        try NumpyFile.write(TensorData(.i32, shape: [2, 3], storage: .integers([1, 2, 3, 4, 5, 6])), path: input)
        try expectFailure(["run", model, "--weights", weights, "--input", "x=\(input)", "--output-dir", directory.path],
                          mentions: ["error: input 'x' is i32[2,3] but the graph declares f32[2,3]"])
    }

    @Test func aSafetensorsFileWithBytesAfterTheLastTensor() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try write(Self.matmul, named: "m.gir", in: directory)
        let weights = try writeSafetensors("w", dtype: "F32", shape: [3, 4], extra: 16, named: "trailing.safetensors", in: directory)
        try expectFailure(["run", model, "--weights", weights, "--random-inputs", "1", "--output-dir", directory.path],
                          mentions: ["\(weights): error: unexpected trailing data: the tensors end at byte 48 of the data buffer but it holds 64 bytes (16 extra)"])
    }

    @Test func aMisShapedWeight() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: "\(AttncProcess.packageRoot.path)/samples/sam.gir", encoding: .utf8)
            .replacingOccurrences(of: "@conv.weight: f32[1,2,7,7]", with: "@conv.weight: f32[1,2,5,5]")
            .replacingOccurrences(of: "padding=[3,3]", with: "padding=[2,2]")
        let path = try write(text, named: "sam5.gir", in: directory)
        try expectFailure(["run", path, "--weights", conformance.appendingPathComponent("sam/weights.safetensors").path,
                           "--random-inputs", "1", "--output-dir", directory.path],
                          mentions: ["weight 'conv.weight'", "has shape f32[1,2,7,7] but the graph declares f32[1,2,5,5]"])
    }

    @Test func aWeightTheGraphDoesNotDeclare() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: "\(AttncProcess.packageRoot.path)/samples/triplet_attention.gir", encoding: .utf8)
            .replacingOccurrences(of: "  weight @hw.bn.num_batches_tracked: i64[]\n", with: "")
        let path = try write(text, named: "triplet.gir", in: directory)
        try expectFailure(["run", path, "--weights", conformance.appendingPathComponent("triplet_attention/weights.safetensors").path,
                           "--random-inputs", "1", "--output-dir", directory.path],
                          mentions: ["unused weight", "'hw.bn.num_batches_tracked' is not declared by graph 'triplet_attention'"])
    }

    @Test func inputProblems() throws {
        let x = conformance.appendingPathComponent("se/inputs/x.npy").path
        let weights = conformance.appendingPathComponent("se/weights.safetensors").path
        try expectFailure(["run", "samples/se.gir", "--weights", weights, "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["missing input 'x' (f32[2,48,7,9])"])
        try expectFailure(["run", "samples/se.gir", "--weights", weights, "--input", "y=\(x)", "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["graph 'se' has no input 'y'; its inputs are x"])
        try expectFailure(["run", "samples/se.gir", "--weights", weights, "--input", "x", "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["--input expects NAME=FILE.npy, got 'x'"])
        try expectFailure(["run", "samples/se.gir", "--weights", weights, "--input", "x=/no/such.npy", "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["/no/such.npy"])
        let wrongShape = conformance.appendingPathComponent("sagan/inputs/x.npy").path
        try expectFailure(["run", "samples/se.gir", "--weights", weights, "--input", "x=\(wrongShape)", "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["input 'x' has shape f32[2,32,6,5] but the graph declares f32[2,48,7,9]"])
    }

    /// `compile` and `bench` take symbolic dims from `--bind`, `run` from the inputs' shapes;
    /// random inputs cannot choose a size (`compile`: `CompileFlagTests.symbolicDimsCompileOnceBound`).
    @Test func anUnboundSymbolicDimInRunAndBench() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try write("graph g(%x: f32[S,3]) {\n  %y = neg(%x) : f32[S,3]\n  return %y\n}\n", named: "m.gir", in: directory)
        try expectFailure(["run", model, "--random-inputs", "1", "--output-dir", directory.path],
                          mentions: ["error: --random-inputs cannot fill input 'x': its type f32[S,3] has symbolic dims; give it with --input"])
        try expectFailure(["bench", model], mentions: ["error: symbolic dim S is not bound; give its size with --bind S=SIZE"])
    }

    @Test func aModelFileThatIsNotUTF8() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("m.gir")
        try Data([0x67, 0x72, 0x61, 0x70, 0x68, 0x20, 0xFF, 0xFE, 0x0A]).write(to: url)
        try expectFailure(["check", url.path], mentions: ["\(url.path): error: is not UTF-8 text"])
    }

    @Test func anEmptyModelFile() throws {
        let directory = try AttncProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try write("", named: "empty.gir", in: directory)
        try expectFailure(["check", path], mentions: ["\(path):1:1: error: a graph must start with 'graph NAME(...)'"])
    }

    @Test func aMissingWeightsFile() throws {
        try expectFailure(["run", "samples/se.gir", "--weights", "/no/such.safetensors", "--random-inputs", "1", "--output-dir", "/tmp/attnc-unused"],
                          mentions: ["/no/such.safetensors"])
    }

    @Test func usageErrorsExitWithOne() throws {
        try expectFailure(["run"], mentions: ["Missing expected argument"])
        try expectFailure(["frobnicate"], mentions: ["Unexpected argument 'frobnicate'"])
        try expectFailure(["dump", "samples/se.gir", "--format", "png"], mentions: ["png"])
    }
}
