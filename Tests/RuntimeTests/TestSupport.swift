import Foundation
import GraphIR
import Testing

/// Where the tests find real files, and where they may write their own.
enum TestPaths {
    /// The package root: this file is `<root>/Tests/RuntimeTests/TestSupport.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared conformance cases, which live beside the package root.
    static let conformance = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")

    /// The case directories under `conformance`, sorted by name.
    static var conformanceCases: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: conformance.path)) ?? []
        return names.sorted().map { conformance.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("case.json").path)
        }
    }

    /// A fresh path in the temporary directory; tests run in parallel, so every name is unique.
    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("attnc-io-\(UUID().uuidString)-\(name)").path
    }
}

/// Runs python3 scripts for the numpy interop tests.
enum Python {
    /// Why the interop tests cannot run, or nil if python3 can import numpy.
    static let unavailableReason: String? = {
        guard let result = try? run("import numpy") else { return "python3 could not be started" }
        return result.status == 0 ? nil : "python3 cannot import numpy: \(result.output)"
    }()

    static var hasNumpy: Bool { unavailableReason == nil }

    /// Runs `script` with `arguments` as `sys.argv[1...]`; the output holds stdout and stderr.
    static func run(_ script: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        // One pipe for both streams, read to the end before waiting, so neither can fill and block.
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `script` and records an issue (returning nil) unless it exits 0.
    static func check(_ script: String, _ arguments: [String] = [],
                      sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> String? {
        let result = try run(script, arguments)
        guard result.status == 0 else {
            Issue.record("python3 failed (\(result.status)):\n\(result.output)", sourceLocation: sourceLocation)
            return nil
        }
        return result.output
    }
}

/// Expects `body` to throw an error `Diagnostic` for `path` whose text contains every keyword.
func expectDiagnostic(file path: String, containing keywords: [String],
                      sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error for \(path), but none was thrown", sourceLocation: sourceLocation)
    } catch let diagnostic as Diagnostic {
        let text = diagnostic.description
        #expect(diagnostic.severity == .error, sourceLocation: sourceLocation)
        #expect(diagnostic.file == path, sourceLocation: sourceLocation)
        #expect(text.hasPrefix("\(path): error: "), "\(text)", sourceLocation: sourceLocation)
        for keyword in keywords {
            #expect(text.contains(keyword), "missing \"\(keyword)\" in: \(text)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a Diagnostic, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Little-endian bytes for building files in code.
enum Bytes {
    static func floats(_ values: [Float]) -> [UInt8] { values.flatMap { integer($0.bitPattern) } }
    static func integer<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// A `.npy` file with `header` as given (not padded) and `data` after it.
    static func npy(_ header: String, version: UInt8 = 1, data: [UInt8] = []) -> [UInt8] {
        let text = Array(header.utf8) + [UInt8(ascii: "\n")]
        let length = version == 1 ? integer(UInt16(text.count)) : integer(UInt32(text.count))
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + text + data
    }

    /// A safetensors file with `header` as given and `data` after it.
    static func safetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
        integer(UInt64(header.utf8.count)) + Array(header.utf8) + data
    }
}
