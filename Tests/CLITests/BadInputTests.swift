import Foundation
import Testing

/// Every bad input gets a message on stderr that names the problem, and exit code 1.
@Suite struct BadInputTests {
    let conformance = AttncProcess.shared.appendingPathComponent("conformance")

    func expectFailure(_ arguments: [String], mentions fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
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
