import Foundation
import GraphIR
import Runtime
import Testing

/// Reading safetensors files built in code.
@Suite struct SafetensorsFileTests {
    @Test func readsEverySupportedDtypeInHeaderOrder() throws {
        let data = Bytes.floats([1, -2.5, 3, 0.125, 5, 6])
            + Bytes.integer(Int64(-9)) + Bytes.integer(Int64.max)
            + Bytes.integer(Int32(-4)) + Bytes.integer(Int32.max)
            + [1, 0, 2]
        let header = #"""
            {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
             "steps": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
             "index": {"dtype": "I32", "shape": [2, 1], "data_offsets": [40, 48]},
             "__metadata__": {"format": "pt"},
             "mask": {"dtype": "BOOL", "shape": [3], "data_offsets": [48, 51]}}
            """#
        let entries = try SafetensorsFile.decodeEntries(Bytes.safetensors(header, data: data), path: "w.safetensors")
        #expect(entries.map(\.name) == ["w", "steps", "index", "mask"])
        #expect(entries.map(\.tensor) == [
            TensorData(shape: [2, 3], floats: [1, -2.5, 3, 0.125, 5, 6]),
            TensorData(.i64, shape: [2], storage: .integers([-9, .max])),
            TensorData(.i32, shape: [2, 1], storage: .integers([-4, Int64(Int32.max)])),
            TensorData(.i1, shape: [3], storage: .booleans([true, false, true])),
        ])
    }

    @Test func readsAnI64ScalarAsPyTorchsBatchNormCounterIs() throws {
        let header = #"{"bn.num_batches_tracked": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}}"#
        let tensors = try SafetensorsFile.decode(Bytes.safetensors(header, data: Bytes.integer(Int64(12))), path: "bn.safetensors")
        #expect(tensors == ["bn.num_batches_tracked": TensorData(.i64, shape: [], storage: .integers([12]))])
    }

    @Test func readsAnEmptyFile() throws {
        // What safetensors writes for an empty state_dict: `{}` padded with spaces to 8 bytes.
        #expect(try SafetensorsFile.decode(Bytes.safetensors("{}      "), path: "e.safetensors").isEmpty)
    }

    @Test func allowsZeroSizeAndOverlappingAndUnorderedTensors() throws {
        let header = #"""
            {"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
             "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [8, 8]}}
            """#
        let tensors = try SafetensorsFile.decode(Bytes.safetensors(header, data: Bytes.floats([1, 2])), path: "o.safetensors")
        #expect(tensors == [
            "a": TensorData(shape: [2], floats: [1, 2]),
            "b": TensorData(shape: [1], floats: [2]),
            "empty": TensorData(shape: [0, 3], floats: []),
        ])
    }

    @Test func decodesEscapedNames() throws {
        let header = #"{"caf\u00e9.\"w\"\ud83d\ude00": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}"#
        let entries = try SafetensorsFile.decodeEntries(Bytes.safetensors(header, data: Bytes.floats([7])), path: "n.safetensors")
        #expect(entries.map(\.name) == ["café.\"w\"😀"])
    }

    @Test func ignoresUnknownFieldsInAnEntry() throws {
        let header = #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "note": [1.5e3, null, true]}}"#
        let tensors = try SafetensorsFile.decode(Bytes.safetensors(header, data: Bytes.floats([7])), path: "u.safetensors")
        #expect(tensors == ["w": TensorData(shape: [1], floats: [7])])
    }

    @Test func readsAFileFromDisk() throws {
        let path = TestPaths.temporary("disk.safetensors")
        let header = #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#
        try Data(Bytes.safetensors(header, data: Bytes.floats([7]))).write(to: URL(fileURLWithPath: path))
        #expect(try SafetensorsFile.read(path: path) == ["w": TensorData(shape: [1], floats: [7])])
        #expect(try SafetensorsFile.readEntries(path: path).map(\.name) == ["w"])
    }
}
