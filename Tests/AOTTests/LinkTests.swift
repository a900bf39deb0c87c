import Foundation
import Testing

/// What linking sees: the two-module sample, symbol hygiene, error codes, reproducibility.
@Suite struct LinkTests {
    /// samples/aot/build.sh: CBAM (embedded weights) and MHA (file weights) in one C program.
    @Test func twoModulesLinkIntoOneProgram() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try AOTHarness.run("sh", ["samples/aot/build.sh", AOTHarness.attnc.path],
                                        environment: ["OUT": directory.path, "SHARED": AOTHarness.conformance.deletingLastPathComponent().path])
        #expect(result.status == 0, "\(result.log)")
        #expect(result.stdout.contains("PASS cbam.out relative L2"))
        #expect(result.stdout.contains("PASS mha.out relative L2"))
        #expect(result.stdout.contains("PASS: 0 of 2 modules failed"))
    }

    /// Only PREFIX_ symbols are defined (local ones too, besides the assembler's `.L` labels), the
    /// exported ones are exactly the C API, and the only undefined ones are libc/libm functions.
    @Test(arguments: ["embed", "file"])
    func onlyPrefixedSymbols(_ mode: String) throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let compiled = try AOTHarness.compile("mha", prefix: "zq", in: directory, extra: ["--weights-mode", mode])
        try #require(compiled.status == 0, "\(compiled.log)")
        let object = directory.appendingPathComponent("zq.o").path
        let exported = try AOTHarness.run("nm", ["-g", "--defined-only", "--format=just-symbols", object])
        try #require(exported.status == 0, "\(exported.log)")
        var api: Set = ["zq_run", "zq_scratch_size", "zq_set_parallel_for"]
        if mode == "file" { api.insert("zq_set_weights") }
        #expect(Set(exported.stdout.split(separator: "\n").map(String.init)) == api)
        let defined = try AOTHarness.run("nm", ["--defined-only", "--format=just-symbols", object])
        let stray = defined.stdout.split(separator: "\n").filter { !$0.hasPrefix("zq_") && !$0.hasPrefix(".L") }
        #expect(stray.isEmpty, "symbols without the prefix: \(stray)")
        let undefined = try AOTHarness.run("nm", ["-u", "--format=just-symbols", object])
        let allowed: Set = ["memset", "memcpy", "memmove", "fmodf", "fmod"]
        let unexpected = undefined.stdout.split(separator: "\n").map(String.init).filter { !allowed.contains($0) }
        #expect(unexpected.isEmpty, "undefined symbols beyond libc/libm: \(unexpected)")
    }

    /// `PREFIX_run` and `PREFIX_set_weights` return the documented codes for NULL and misaligned
    /// pointers and bad weights files, and run once everything is right.
    @Test(arguments: [("cbam", "embed"), ("mha", "file"), ("sdpa_addmask", "file")])
    func badPointersReturnErrorCodes(_ sample: String, _ mode: String) throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let compiled = try AOTHarness.compile(sample, in: directory, extra: ["--weights-mode", mode])
        try #require(compiled.status == 0, "\(compiled.log)")
        let linked = try AOTHarness.linkDriver(sample, in: directory)
        try #require(linked.status == 0, "\(linked.log)")
        let weights = mode == "file" ? directory.appendingPathComponent("\(sample).weights").path : "-"
        let result = try AOTHarness.run(directory.appendingPathComponent("\(sample)-driver").path, ["errors", weights])
        #expect(result.status == 0, "\(result.log)")
        #expect(result.stdout.hasSuffix("PASS\n"))
        #expect(!result.stdout.contains("FAIL"), "\(result.stdout)")
        #expect(result.stdout.contains("ok run(NULL inputs): returned 1, expected 1"))
        if mode == "file" { #expect(result.stdout.contains("ok run before set_weights: returned 5, expected 5")) }
    }

    /// The same command in two directories gives byte-identical artifacts.
    @Test(arguments: ["embed", "file"])
    func compilingTwiceGivesIdenticalBytes(_ mode: String) throws {
        let first = try AOTHarness.temporaryDirectory(), second = try AOTHarness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        let model = AOTHarness.packageRoot.appendingPathComponent("samples/mha.gir").path
        for directory in [first, second] {
            let result = try AOTHarness.attnc(["compile", model, "--weights", AOTHarness.weights("mha"), "-o", "mha.o", "--weights-mode", mode],
                                              in: directory)
            try #require(result.status == 0, "\(result.log)")
        }
        let files = mode == "file" ? ["mha.o", "mha.h", "mha.weights"] : ["mha.o", "mha.h"]
        for file in files {
            let a = try Data(contentsOf: first.appendingPathComponent(file)), b = try Data(contentsOf: second.appendingPathComponent(file))
            #expect(!a.isEmpty)
            #expect(a == b, "\(file) differs between two compiles")
        }
    }

    /// In file mode the object depends on the weights' layout, not their values: retrained
    /// weights give the same object and header and a weights file the old object accepts.
    @Test func fileModeObjectsDoNotDependOnWeightValues() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The same safetensors file with every f32 scaled by 1.5: the header is kept as is.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: AOTHarness.weights("mha"))))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for offset in stride(from: 8 + headerLength, to: bytes.count, by: 4) {
            let bits = bytes[offset..<offset + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            let scaled = (Float(bitPattern: bits) * 1.5).bitPattern
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: scaled >> (8 * UInt32(i))) }
        }
        let retrained = directory.appendingPathComponent("retrained.safetensors")
        try Data(bytes).write(to: retrained)
        for (name, weights) in [("a", AOTHarness.weights("mha")), ("b", retrained.path)] {
            let output = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let result = try AOTHarness.attnc(["compile", "samples/mha.gir", "--weights", weights, "-o", output.appendingPathComponent("mha.o").path,
                                               "--weights-mode", "file"])
            try #require(result.status == 0, "\(result.log)")
        }
        func contents(_ file: String) throws -> Data { try Data(contentsOf: directory.appendingPathComponent(file)) }
        #expect(try contents("a/mha.o") == contents("b/mha.o"))
        #expect(try contents("a/mha.h") == contents("b/mha.h"))
        #expect(try contents("a/mha.weights") != contents("b/mha.weights"))
        try #require(try AOTHarness.linkDriver("mha", in: directory.appendingPathComponent("a")).status == 0)
        let loaded = try AOTHarness.run(directory.appendingPathComponent("a/mha-driver").path, ["errors", directory.appendingPathComponent("b/mha.weights").path])
        #expect(loaded.status == 0, "\(loaded.log)")
    }

    /// The header compiles as C++ as well (extern "C").
    @Test func headerCompilesAsCPlusPlus() throws {
        let directory = try AOTHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try #require(try AOTHarness.compile("sdpa", in: directory, extra: ["--weights-mode", "file"]).status == 0)
        let source = directory.appendingPathComponent("use.cpp")
        try "#include \"sdpa.h\"\nint main() { return sdpa_run(nullptr, nullptr, nullptr) == SDPA_ERROR_NULL_INPUTS ? 0 : 1; }\n"
            .write(to: source, atomically: true, encoding: .utf8)
        guard (try? AOTHarness.run("c++", ["--version"]))?.status == 0 else { return }
        let result = try AOTHarness.run("c++", ["-Wall", "-Werror", "-I", directory.path, source.path, directory.appendingPathComponent("sdpa.o").path,
                                                "-lm", "-o", directory.appendingPathComponent("use").path])
        #expect(result.status == 0, "\(result.log)")
        let ran = try AOTHarness.run(directory.appendingPathComponent("use").path, [])
        #expect(ran.status == 0, "\(ran.log)")
    }
}
