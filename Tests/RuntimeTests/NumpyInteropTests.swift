import Foundation
import GraphIR
import Runtime
import Testing

/// attnc and numpy read each other's files (python3 with numpy runs the other side).
///
/// Starting python3 and importing numpy takes a few tenths of a second, so each direction makes
/// all its files in one python3 run and the tests share the result.
@Suite(.enabled(if: Python.hasNumpy, "python3 with numpy is needed: \(Python.unavailableReason ?? "")"))
struct NumpyInteropTests {
    /// numpy expressions and the tensors attnc must read from what `np.save` writes for them.
    static let arrays: [(expression: String, tensor: TensorData)] = [
        ("np.array([[1.5, -2.0, 0.25], [3.0, 1e-8, -0.0]], np.float32)",
         TensorData(shape: [2, 3], floats: [1.5, -2, 0.25, 3, 1e-8, -0.0])),
        ("np.float32(3.25)", TensorData(shape: [], floats: [3.25])),
        ("np.zeros((0, 4), np.float32)", TensorData(shape: [0, 4], floats: [])),
        ("np.array([-2**63, 2**63 - 1, 0, 7], np.int64)", TensorData(.i64, shape: [4], storage: .integers([.min, .max, 0, 7]))),
        ("np.array([[-2**31, 2**31 - 1], [0, -5]], np.int32)",
         TensorData(.i32, shape: [2, 2], storage: .integers([Int64(Int32.min), Int64(Int32.max), 0, -5]))),
        ("np.array([True, False, True])", TensorData(.i1, shape: [3], storage: .booleans([true, false, true]))),
        ("np.zeros((123456, 0), np.int32)", TensorData(.i32, shape: [123456, 0], storage: .integers([]))),
        ("np.arange(24, dtype=np.float32).reshape(1, 2, 3, 1, 4)",
         TensorData(shape: [1, 2, 3, 1, 4], floats: (0..<24).map(Float.init))),
    ]

    /// Arrays numpy can save but attnc cannot hold, and what the error must say.
    static let unsupported: [(expression: String, keywords: [String])] = [
        ("np.zeros(3)", ["unsupported dtype '<f8'"]),
        ("np.zeros(3, '>f4')", ["unsupported dtype '>f4'"]),
        ("np.zeros(3, np.float16)", ["unsupported dtype '<f2'"]),
        ("np.zeros(3, np.uint8)", ["unsupported dtype '|u1'"]),
        ("np.zeros(2, [('a', '<f4'), ('b', '<i4')])", ["structured dtypes are not supported"]),
        ("np.array([None, 1], dtype=object)", ["unsupported dtype '|O'"]),
        ("np.asfortranarray(np.zeros((2, 3), np.float32))", ["Fortran-order arrays are not supported"]),
    ]

    /// The later format versions, written with numpy's explicit-version writer.
    static let versions = ["(2, 0)", "(3, 0)"]

    /// One python3 run that saves every file the numpy-to-attnc tests read: `NAME.npy` in a fresh
    /// directory for each Python statement (which writes to `path`).
    static let numpyFiles: (directory: String, failure: String?) = {
        var statements: [String: String] = [:]
        for (index, array) in arrays.enumerated() { statements["array\(index)"] = "np.save(path, \(array.expression))" }
        for (index, array) in unsupported.enumerated() { statements["unsupported\(index)"] = "np.save(path, \(array.expression))" }
        for version in versions {
            statements["version\(version.first { $0.isNumber }!)"] = "with open(path, 'wb') as f: "
                + "np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], np.float32), version=\(version))"
        }
        let directory = TestPaths.temporary("from-numpy")
        let script = """
            import json, os, sys
            import numpy as np
            os.makedirs(sys.argv[1])
            for name, statement in json.loads(sys.argv[2]).items():
                exec(statement, {'np': np, 'path': os.path.join(sys.argv[1], name + '.npy')})
            """
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: statements), as: UTF8.self)
        return (directory, failure(of: script, [directory, json]))
    }()

    /// The output of `script` if it fails or cannot start, else nil.
    static func failure(of script: String, _ arguments: [String]) -> String? {
        do {
            let result = try Python.run(script, arguments)
            return result.status == 0 ? nil : result.output
        } catch {
            return "python3 could not be started: \(error)"
        }
    }

    /// The path numpy saved `name` at, or nil (with an issue recorded) if the python3 run failed.
    func numpyFile(_ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String? {
        if let failure = Self.numpyFiles.failure {
            Issue.record("python3 failed:\n\(failure)", sourceLocation: sourceLocation)
            return nil
        }
        return Self.numpyFiles.directory + "/\(name).npy"
    }

    @Test(arguments: arrays.indices)
    func readsWhatNumpySavesAndWritesTheSameBytes(index: Int) throws {
        guard let path = numpyFile("array\(index)") else { return }
        let expected = Self.arrays[index].tensor
        #expect(try NumpyFile.read(path: path) == expected)
        #expect(try NumpyFile.encode(expected) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test(arguments: versions)
    func readsNumpysLaterFormatVersions(version: String) throws {
        guard let path = numpyFile("version\(version.first { $0.isNumber }!)") else { return }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes[6] == UInt8(String(version.first { $0.isNumber }!)))
        #expect(try NumpyFile.read(path: path) == TensorData(shape: [2, 2], floats: [1, 2, 3, 4]))
    }

    @Test(arguments: unsupported.indices)
    func rejectsWhatNumpyCanSaveButAttncCannotHold(index: Int) throws {
        guard let path = numpyFile("unsupported\(index)") else { return }
        expectDiagnostic(file: path, containing: Self.unsupported[index].keywords) { _ = try NumpyFile.read(path: path) }
    }

    @Test func numpyLoadsWhatAttncWrites() throws {
        let directory = TestPaths.temporary("from-attnc")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        var expressions: [String: String] = [:]
        for (index, array) in Self.arrays.enumerated() {
            try NumpyFile.write(array.tensor, path: directory + "/array\(index).npy")
            expressions["array\(index)"] = array.expression
        }
        // Prints one line per file that numpy does not load as the expression's array.
        let script = """
            import json, os, sys
            import numpy as np
            for name, expression in sorted(json.loads(sys.argv[2]).items()):
                a, b = np.load(os.path.join(sys.argv[1], name + '.npy')), np.asarray(eval(expression))
                if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                    print(f'{name}: numpy loaded {a.dtype} {a.shape} {a!r}, expected {b.dtype} {b.shape} {b!r}')
            """
        let json = String(decoding: try JSONSerialization.data(withJSONObject: expressions), as: UTF8.self)
        let output = try Python.check(script, [directory, json])
        #expect(output == "")
    }

    /// One python3 run that decodes every conformance weights file independently of attnc and
    /// saves each tensor as `CASE/NAME.npy`.
    static let weightsAsNumpyReadsThem: (directory: String, failure: String?) = {
        let directory = TestPaths.temporary("weights")
        let script = """
            import json, os, struct, sys
            import numpy as np
            dtypes = {'F32': np.float32, 'I64': np.int64, 'I32': np.int32, 'BOOL': np.bool_}
            for path in sys.argv[2:]:
                raw = open(path, 'rb').read()
                (n,) = struct.unpack('<Q', raw[:8])
                output = os.path.join(sys.argv[1], os.path.basename(os.path.dirname(path)))
                os.makedirs(output)
                for name, entry in json.loads(raw[8:8 + n]).items():
                    if name == '__metadata__':
                        continue
                    begin, end = entry['data_offsets']
                    array = np.frombuffer(raw[8 + n + begin:8 + n + end], dtypes[entry['dtype']])
                    np.save(os.path.join(output, name + '.npy'), array.reshape(entry['shape']))
            """
        let paths = ConformanceFileTests.cases.map { $0.appendingPathComponent("weights.safetensors").path }
        return (directory, failure(of: script, [directory] + paths))
    }()

    @Test(arguments: ConformanceFileTests.cases)
    func readsWeightsAsNumpyDoes(directory: URL) throws {
        if let failure = Self.weightsAsNumpyReadsThem.failure {
            Issue.record("python3 failed:\n\(failure)")
            return
        }
        let saved = Self.weightsAsNumpyReadsThem.directory + "/" + directory.lastPathComponent
        let tensors = try SafetensorsFile.read(path: directory.appendingPathComponent("weights.safetensors").path)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: saved)) == Set(tensors.keys.map { $0 + ".npy" }))
        for (name, tensor) in tensors {
            #expect(try NumpyFile.read(path: saved + "/" + name + ".npy") == tensor, "\(name)")
        }
    }
}
