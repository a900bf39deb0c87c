import Foundation
import GraphIR
import Runtime
import Testing

/// Every way a `.npy` file can be wrong gets a diagnostic that names the file and the problem.
@Suite struct NumpyFileErrorTests {
    static let path = "bad/input.npy"

    /// A version 1.0 file with `header` and `data`, decoded; the expected error must contain `keywords`.
    func expectError(_ header: String, data: [UInt8] = [], _ keywords: [String],
                     sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        expectDiagnostic(file: Self.path, containing: keywords, sourceLocation: sourceLocation) {
            _ = try NumpyFile.decode(Bytes.npy(header, data: data), path: Self.path)
        }
    }

    /// The header dict with `shape` and `descr` substituted.
    func dict(descr: String = "'<f4'", fortran: String = "False", shape: String) -> String {
        "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }"
    }

    @Test func badMagic() {
        expectDiagnostic(file: Self.path, containing: ["not a .npy file", "magic string \\x93NUMPY"]) {
            _ = try NumpyFile.decode(Array("GIF89a and more bytes".utf8), path: Self.path)
        }
    }

    @Test func fileShorterThanTheMagic() {
        expectDiagnostic(file: Self.path, containing: ["truncated file", "3 bytes", "magic"]) {
            _ = try NumpyFile.decode([0x93, 0x4E, 0x55], path: Self.path)
        }
    }

    @Test func fileEndsInTheVersion() {
        expectDiagnostic(file: Self.path, containing: ["truncated file", "version"]) {
            _ = try NumpyFile.decode([0x93] + Array("NUMPY".utf8) + [1], path: Self.path)
        }
    }

    @Test func unsupportedVersion() {
        expectDiagnostic(file: Self.path, containing: ["unsupported .npy format version 4.0", "1.0, 2.0 and 3.0"]) {
            _ = try NumpyFile.decode(Bytes.npy(dict(shape: "()"), version: 4), path: Self.path)
        }
    }

    @Test func fileEndsInTheHeaderLength() {
        expectDiagnostic(file: Self.path, containing: ["truncated file", "4-byte header length"]) {
            _ = try NumpyFile.decode([0x93] + Array("NUMPY".utf8) + [2, 0, 0x10, 0], path: Self.path)
        }
    }

    @Test func truncatedHeader() {
        let bytes = Array(Bytes.npy(dict(shape: "(2, 3)"))[0..<30])  // declares 60 header bytes, has 20
        expectDiagnostic(file: Self.path, containing: ["truncated header", "60-byte header", "only 20 bytes"]) {
            _ = try NumpyFile.decode(bytes, path: Self.path)
        }
    }

    @Test func headerSyntaxError() {
        expectError("{'descr': '<f4' 'fortran_order': False, 'shape': (), }",
                    ["malformed header", "expected ',' or '}'", "'descr': '<f4' 'fortran_order'"])
    }

    @Test func unterminatedString() {
        expectError("{'descr': '<f4", ["malformed header", "unterminated string"])
    }

    @Test func textAfterTheDict() {
        expectError(dict(shape: "()") + " {}", ["malformed header", "unexpected text after the value"])
    }

    @Test func unknownWord() {
        expectError(dict(fortran: "false", shape: "()"), ["malformed header", "unexpected character 'f'"])
    }

    @Test func deeplyNestedHeader() {
        expectError(String(repeating: "(", count: 10_000), ["malformed header", "nested too deeply"])
    }

    @Test func invalidUTF8InAVersion3Header() {
        let bytes = Bytes.npy("{'descr': '<f4'}", version: 3)
        expectDiagnostic(file: Self.path, containing: ["malformed header", "UTF-8"]) {
            _ = try NumpyFile.decode(bytes[0..<14] + [0xFF] + bytes[15...], path: Self.path)
        }
    }

    @Test func headerNotADict() {
        expectError("[('descr', '<f4')]", ["header is not a dict", "found a list", "'descr', 'fortran_order' and 'shape'"])
    }

    @Test func missingKey() {
        expectError("{'descr': '<f4', 'fortran_order': False}", ["missing the key 'shape'"])
    }

    @Test func unexpectedKey() {
        expectError("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", ["unexpected key 'extra'"])
    }

    @Test func repeatedKey() {
        expectError("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", ["repeats the key 'descr'"])
    }

    @Test func fortranOrder() {
        expectError(dict(fortran: "True", shape: "(2, 3)"), data: Bytes.floats(Array(repeating: 0, count: 6)),
                    ["Fortran-order arrays are not supported; save with np.ascontiguousarray"])
    }

    @Test func fortranOrderNotABool() {
        expectError(dict(fortran: "0", shape: "()"), ["'fortran_order' must be True or False", "found 0"])
    }

    @Test(arguments: ["'<f8'", "'>f4'", "'<f2'", "'|O'", "'|u1'", "'<U3'", "'f4'"])
    func unsupportedDtype(descr: String) {
        expectError(dict(descr: descr, shape: "()"),
                    ["unsupported dtype \(descr)", "'<f4' (f32), '<i8' (i64), '<i4' (i32), '|b1' (i1)"])
    }

    @Test func structuredDtype() {
        expectError(dict(descr: "[('a', '<f4'), ('b', '<i4')]", shape: "(2,)"),
                    ["structured dtypes are not supported", "[('a', '<f4'), ('b', '<i4')]", "'<f4' (f32)"])
    }

    @Test func descrNotAString() {
        expectError(dict(descr: "4", shape: "()"), ["unsupported dtype (descr is 4)", "'<f4' (f32)"])
    }

    @Test func shapeNotATuple() {
        expectError(dict(shape: "[2, 3]"), ["'shape' must be a tuple of non-negative integers", "found a list [2, 3]"])
    }

    @Test func negativeShapeEntry() {
        expectError(dict(shape: "(2, -3)"), ["'shape' (2, -3)", "negative size -3 in dimension 1"])
    }

    @Test func nonIntegerShapeEntry() {
        expectError(dict(shape: "(2.5, 3)"), ["non-integer size 2.5 in dimension 0"])
        expectError(dict(shape: "(2, '3')"), ["non-integer size '3' in dimension 1"])
    }

    @Test func shapeEntryTooLargeForInt() {
        expectError(dict(shape: "(99999999999999999999,)"), ["size 99999999999999999999 in dimension 0", "too large"])
        expectError(dict(shape: "(2, -99999999999999999999)"), ["negative size -99999999999999999999 in dimension 1"])
    }

    @Test func elementCountOverflow() {
        expectError(dict(shape: "(4294967296, 4294967296)"), ["shape (4294967296, 4294967296)", "too many elements", "overflows"])
    }

    @Test func byteCountOverflow() {
        // 2^62 elements fit in Int, but not their 2^64 bytes.
        expectError(dict(shape: "(4611686018427387904,)"), ["too many elements", "overflows"])
    }

    @Test func shapeFarLargerThanTheData() {
        expectError(dict(shape: "(1000000000,)"), ["truncated data", "needs 4000000000 bytes", "only 0 bytes"])
    }

    @Test func truncatedData() {
        expectError(dict(shape: "(2, 3)"), data: Bytes.floats([1, 2, 3, 4, 5]),
                    ["truncated data", "shape (2, 3) of '<f4' needs 24 bytes", "only 20 bytes follow the header"])
    }

    @Test func trailingData() {
        expectError(dict(shape: "(2, 3)"), data: Bytes.floats(Array(repeating: 1, count: 7)),
                    ["unexpected trailing data", "needs 24 bytes", "28 bytes follow the header (4 extra)"])
    }

    @Test func missingFile() {
        let path = TestPaths.temporary("missing.npy")
        expectDiagnostic(file: path, containing: ["no such file"]) { _ = try NumpyFile.read(path: path) }
    }

    @Test func directoryInsteadOfFile() {
        let path = FileManager.default.temporaryDirectory.path
        expectDiagnostic(file: path, containing: ["is a directory"]) { _ = try NumpyFile.read(path: path) }
    }

    @Test func writingAnUnsupportedElementType() {
        let path = TestPaths.temporary("f64.npy")
        expectDiagnostic(file: path, containing: ["cannot save f64 tensors as .npy", "'<f4' (f32)"]) {
            try NumpyFile.write(TensorData(.f64, shape: [1], storage: .floats([1])), path: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func writingIntoAMissingDirectory() {
        let path = TestPaths.temporary("no-such-directory") + "/out.npy"
        expectDiagnostic(file: path, containing: ["cannot write the file"]) {
            try NumpyFile.write(TensorData(shape: [], floats: [1]), path: path)
        }
    }
}
