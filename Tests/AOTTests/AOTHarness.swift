import Foundation
import GraphIR
import Runtime

/// Runs the built `attnc`, `cc` and the programs they make, in temporary directories.
enum AOTHarness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let conformance = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    static let sampleDirectory = packageRoot.appendingPathComponent("samples/aot")
    static let driverSource = packageRoot.appendingPathComponent("Tests/AOTTests/Driver/driver.c")

    /// The attnc built beside the test bundle (whatever the scratch path).
    static let attnc: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("attnc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/attnc")
    }()

    /// The 16 sample modules, each with a conformance case of the same name.
    static let samples: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("samples").path)) ?? []
        return names.filter { $0.hasSuffix(".gir") }.map { String($0.dropLast(4)) }.sorted()
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var log: String { "exit \(status)\n\(stdout)\(stderr)" }
    }

    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments` in `directory`.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.currentDirectoryURL = directory ?? packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Files, not pipes: a child that fills one pipe while the other is being read would stall.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("attnc-aot-\(UUID().uuidString)")
        let (outURL, errURL) = (capture.appendingPathExtension("out"), capture.appendingPathExtension("err"))
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    static func attnc(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        try run(attnc.path, arguments, in: directory)
    }

    /// A fresh temporary directory; remove it when done.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attnc-aot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `attnc compile samples/SAMPLE.gir` with the case's weights into `directory/PREFIX.o` and `.h`.
    static func compile(_ sample: String, prefix: String? = nil, in directory: URL, extra: [String] = []) throws -> Result {
        let name = prefix ?? sample
        return try attnc(["compile", "samples/\(sample).gir", "--weights", weights(sample), "-o", directory.appendingPathComponent("\(name).o").path,
                          "--header", directory.appendingPathComponent("\(name).h").path] + extra)
    }

    static func weights(_ sample: String) -> String { conformance.appendingPathComponent("\(sample)/weights.safetensors").path }

    /// Links the generic driver with `directory/PREFIX.o` into `directory/PREFIX-driver`.
    static func linkDriver(_ prefix: String, in directory: URL) throws -> Result {
        try run("cc", ["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-DHEADER=\"\(prefix).h\"", "-DPREFIX=\(prefix)",
                       "-DMACRO=\(prefix.uppercased())", "-I", directory.path, "-I", sampleDirectory.path, driverSource.path,
                       sampleDirectory.appendingPathComponent("npy.c").path, directory.appendingPathComponent("\(prefix).o").path,
                       "-lm", "-o", directory.appendingPathComponent("\(prefix)-driver").path])
    }

    /// The graph's input names in order, read from the header's `PREFIX_INPUT_NAMES` table.
    static func inputNames(prefix: String, in directory: URL) throws -> [String] {
        let header = try String(contentsOf: directory.appendingPathComponent("\(prefix).h"), encoding: .utf8)
        let key = "#define \(prefix.uppercased())_INPUT_NAMES {"
        guard let line = header.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return [] }
        return line.dropFirst(key.count).dropLast().split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
    }

    static func inputFile(_ sample: String, _ input: String) -> String {
        conformance.appendingPathComponent("\(sample)/inputs/\(input).npy").path
    }

    /// Runs the linked driver on the case's inputs, writing outputs into `output`.
    static func runDriver(_ prefix: String, sample: String, mode: String = "run", weightsFile: String = "-", in directory: URL,
                          output: URL) throws -> Result {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let inputs = try inputNames(prefix: prefix, in: directory).map { inputFile(sample, $0) }
        return try run(directory.appendingPathComponent("\(prefix)-driver").path, [mode, weightsFile, output.path] + inputs)
    }

    /// `attnc run` (the JIT) on the case's inputs, writing outputs into `output`.
    static func runJIT(_ sample: String, inputs: [String], output: URL) throws -> Result {
        try attnc(["run", "samples/\(sample).gir", "--weights", weights(sample), "--output-dir", output.path]
                  + inputs.flatMap { ["--input", "\($0)=\(inputFile(sample, $0))"] })
    }

    /// Whether this machine's CPU has `flag` (as /proc/cpuinfo spells it); false when unknown.
    static func hostHas(_ flag: String) -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains(Substring(flag)) }
    }

    /// ||a - b|| / ||b||, in double.
    static func relativeL2(_ a: TensorData, _ b: TensorData) -> Double {
        let difference = zip(a.doubles, b.doubles).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let norm = b.doubles.reduce(0) { $0 + $1 * $1 }
        return norm == 0 ? difference.squareRoot() : (difference / norm).squareRoot()
    }

    /// The `.npy` files in a directory, by name.
    static func outputs(in directory: URL) throws -> [String: TensorData] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".npy") }
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try NumpyFile.read(path: directory.appendingPathComponent($0).path)) })
    }
}
