import Foundation
import GraphIR
import Runtime
import Testing

/// Every way a safetensors file can be wrong gets a diagnostic naming the file (and the tensor).
@Suite struct SafetensorsFileErrorTests {
    static let path = "bad/weights.safetensors"

    func expectError(_ bytes: [UInt8], _ keywords: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        expectDiagnostic(file: Self.path, containing: keywords, sourceLocation: sourceLocation) {
            _ = try SafetensorsFile.decode(bytes, path: Self.path)
        }
    }

    /// A file whose one tensor `w` has the given entry fields, followed by `data`.
    func expectError(entry: String, data: [UInt8] = Bytes.floats([1, 2, 3, 4, 5, 6]), _ keywords: [String],
                     sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        expectError(Bytes.safetensors(#"{"w": {\#(entry)}}"#, data: data), ["tensor 'w'"] + keywords, sourceLocation: sourceLocation)
    }

    @Test func shorterThanTheHeaderLength() {
        expectError([1, 0, 0], ["truncated file", "3 bytes", "8-byte safetensors header length"])
    }

    @Test func absurdHeaderLength() {
        expectError(Bytes.integer(UInt64(200_000_000)) + Array("{}".utf8), ["header length 200000000 bytes", "100 MB limit"])
        expectError(Bytes.integer(UInt64.max), ["header length 18446744073709551615 bytes", "100 MB limit"])
    }

    @Test func headerLongerThanTheFile() {
        expectError(Bytes.integer(UInt64(500)) + Array("{}".utf8), ["truncated header", "500-byte JSON header", "only 2 bytes"])
    }

    @Test func malformedJSON() {
        expectError(Bytes.safetensors(#"{"w": {"dtype": "F32",}}"#), ["malformed JSON header", "expected a string key", "byte 22"])
        expectError(Bytes.safetensors(#"{"w": 01x}"#), ["malformed JSON header", "expected ',' or '}'"])
        expectError(Bytes.safetensors(#"{"w": "\q"}"#), ["malformed JSON header", "invalid escape '\\q'"])
        expectError(Bytes.safetensors(#"{"w": "\ud800"}"#), ["malformed JSON header", "unpaired UTF-16 surrogate"])
        expectError(Bytes.safetensors(#"{"w": "abc"#), ["malformed JSON header", "unterminated string"])
        expectError(Bytes.safetensors(#"{"w": -}"#), ["malformed JSON header", "malformed number"])
        expectError(Bytes.safetensors(String(repeating: "[", count: 10_000)), ["malformed JSON header", "nested too deeply"])
        expectError(Bytes.safetensors(#"{} {}"#), ["malformed JSON header", "unexpected text after the value"])
    }

    @Test func invalidUTF8InAName() {
        expectError(Bytes.integer(UInt64(7)) + [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], ["malformed JSON header", "UTF-8"])
    }

    @Test func headerNotAnObject() {
        expectError(Bytes.safetensors(#"[{"dtype": "F32"}]"#), ["header is not a JSON object", "\"data_offsets\": [BEGIN, END]"])
    }

    @Test func entryNotAnObject() {
        expectError(Bytes.safetensors(#"{"w": [0, 4]}"#), ["tensor 'w'", "entry is [0, 4], expected an object"])
    }

    @Test(arguments: ["dtype", "shape", "data_offsets"])
    func entryMissingAField(field: String) {
        let fields = [#""dtype": "F32""#, #""shape": [2, 3]"#, #""data_offsets": [0, 24]"#]
        expectError(entry: fields.filter { !$0.hasPrefix("\"\(field)\"") }.joined(separator: ", "),
                    ["missing the field '\(field)'"])
    }

    @Test func dtypeNotAString() {
        expectError(entry: #""dtype": 4, "shape": [2, 3], "data_offsets": [0, 24]"#, ["'dtype' must be a string", "found 4"])
    }

    @Test(arguments: ["F16", "BF16", "F64", "U8", "I8", "F8_E4M3"])
    func unsupportedDtype(dtype: String) {
        expectError(entry: #""dtype": "\#(dtype)", "shape": [2, 3], "data_offsets": [0, 24]"#,
                    ["unsupported dtype \(dtype)", "F32 (f32), I64 (i64), I32 (i32), BOOL (i1)"])
    }

    @Test func shapeNotAnArray() {
        expectError(entry: #""dtype": "F32", "shape": 6, "data_offsets": [0, 24]"#, ["'shape' must be an array", "found 6"])
    }

    @Test func nonIntegerShapeEntry() {
        expectError(entry: #""dtype": "F32", "shape": [2, 1.5], "data_offsets": [0, 24]"#,
                    ["non-integer size 1.5 in dimension 1"])
        expectError(entry: #""dtype": "F32", "shape": [true], "data_offsets": [0, 24]"#,
                    ["non-integer size true in dimension 0"])
        expectError(entry: #""dtype": "F32", "shape": [99999999999999999999], "data_offsets": [0, 24]"#,
                    ["non-integer size 99999999999999999999"])
    }

    @Test func negativeShapeEntry() {
        expectError(entry: #""dtype": "F32", "shape": [-2, 3], "data_offsets": [0, 24]"#,
                    ["'shape' [-2, 3]", "negative size -2 in dimension 0"])
    }

    @Test(arguments: ["[0]", "[0, 24, 48]", "[-4, 24]", "[0, 2.4e1]", "\"0:24\""])
    func malformedDataOffsets(offsets: String) {
        expectError(entry: #""dtype": "F32", "shape": [2, 3], "data_offsets": \#(offsets)"#,
                    ["'data_offsets' must be two non-negative integers [BEGIN, END]"])
    }

    @Test func offsetsEndBeforeTheyBegin() {
        expectError(entry: #""dtype": "F32", "shape": [2, 3], "data_offsets": [24, 0]"#,
                    ["data_offsets [24, 0] end before they begin"])
    }

    @Test func offsetsPastTheBuffer() {
        // A truncated file: the tensor's bytes were cut off.
        expectError(entry: #""dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]"#, data: Bytes.floats([1, 2, 3]),
                    ["data_offsets [0, 24] reach past the end of the 12-byte data buffer", "truncated"])
    }

    /// Bytes after the last tensor, as in a file with 16 bytes appended, are refused like a `.npy`
    /// file's trailing data. The last tensor is the one that ends last, whatever the header order.
    @Test func trailingData() {
        expectError(Bytes.safetensors(#"{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}"#,
                                      data: Bytes.floats(Array(repeating: 1, count: 10))),
                    ["unexpected trailing data: the tensors end at byte 24 of the data buffer but it holds 40 bytes (16 extra)"])
        let header = #"{"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#
        expectError(Bytes.safetensors(header, data: Bytes.floats([1, 2, 3])),
                    ["unexpected trailing data: the tensors end at byte 8 of the data buffer but it holds 12 bytes (4 extra)"])
        expectError(Bytes.safetensors(#"{"__metadata__": {"format": "pt"}}"#, data: [0, 0, 0, 0]),
                    ["unexpected trailing data: the tensors end at byte 0 of the data buffer but it holds 4 bytes (4 extra)"])
    }

    @Test func offsetsDisagreeWithTheShape() {
        expectError(entry: #""dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]"#,
                    ["data_offsets [0, 20] hold 20 bytes", "shape [2, 3] of f32 needs 24"])
    }

    @Test func elementCountOverflow() {
        expectError(entry: #""dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 24]"#,
                    ["too many elements", "overflows"])
        expectError(entry: #""dtype": "I64", "shape": [4611686018427387904], "data_offsets": [0, 24]"#,
                    ["too many elements", "overflows"])
    }

    @Test func repeatedTensorName() {
        let entry = #"{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#
        expectError(Bytes.safetensors(#"{"w": \#(entry), "w": \#(entry)}"#, data: Bytes.floats([1])), ["tensor 'w' twice"])
    }

    @Test func metadataNotAnObject() {
        expectError(Bytes.safetensors(#"{"__metadata__": ["pt"]}"#), ["'__metadata__' must be an object", "[\"pt\"]"])
    }

    @Test func missingFile() {
        let path = TestPaths.temporary("missing.safetensors")
        expectDiagnostic(file: path, containing: ["no such file"]) { _ = try SafetensorsFile.read(path: path) }
    }
}
