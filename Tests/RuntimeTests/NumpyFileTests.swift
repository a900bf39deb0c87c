import GraphIR
import Runtime
import Testing

/// Round trips through `NumpyFile` and the exact bytes it writes.
@Suite struct NumpyFileTests {
    static let samples: [TensorData] = [
        TensorData(shape: [2, 3], floats: [1.5, -2, 0.25, 3, 1e-8, -0.0]),
        TensorData(shape: [], floats: [3.25]),
        TensorData(shape: [0, 4], floats: []),
        TensorData(.i64, shape: [4], storage: .integers([.min, .max, 0, -7])),
        TensorData(.i64, shape: [3, 0], storage: .integers([])),
        TensorData(.i32, shape: [2, 2], storage: .integers([Int64(Int32.min), Int64(Int32.max), 0, -5])),
        TensorData(.i1, shape: [3], storage: .booleans([true, false, true])),
        TensorData(.f32, shape: [1, 2, 1, 2, 1], repeating: 0.5),
    ]

    @Test(arguments: samples)
    func roundTripsThroughAFile(tensor: TensorData) throws {
        let path = TestPaths.temporary("round-trip.npy")
        try NumpyFile.write(tensor, path: path)
        #expect(try NumpyFile.read(path: path) == tensor)
    }

    @Test(arguments: samples)
    func alignsTheDataTo64Bytes(tensor: TensorData) throws {
        let bytes = try NumpyFile.encode(tensor)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes[10 + headerLength - 1] == UInt8(ascii: "\n"))
        #expect(bytes.count == 10 + headerLength + tensor.count * tensor.elementType.byteWidth)
    }

    @Test func writesNumpysHeaderText() throws {
        let bytes = try NumpyFile.encode(TensorData(shape: [2, 3], floats: Array(repeating: 0, count: 6)))
        // What `np.save` writes for np.zeros((2, 3), np.float32): 'v' is the header length 118.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        let expected = "\u{93}NUMPY\u{1}\u{0}v\u{0}" + dict + String(repeating: " ", count: 128 - 10 - dict.count - 1) + "\n"
        #expect(Array(bytes[0..<128]) == expected.unicodeScalars.map { UInt8($0.value) })
    }

    @Test func writesTheDescrOfEachElementType() throws {
        let descrs = try Self.samples.map { tensor in
            String(decoding: try NumpyFile.encode(tensor)[10..<64], as: UTF8.self).split(separator: "'")[3]
        }
        #expect(descrs == ["<f4", "<f4", "<f4", "<i8", "<i8", "<i4", "|b1", "<f4"])
    }

    @Test func keepsTheBitsOfSpecialFloats() throws {
        let values: [Float] = [.nan, -.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let tensor = TensorData(shape: [values.count], floats: values)
        let read = try NumpyFile.decode(try NumpyFile.encode(tensor), path: "special.npy")
        #expect(read.floats.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func movesToVersion2WhenTheHeaderOutgrowsTwoBytes() throws {
        // 22,000 dimensions of 1 make a shape tuple of 66,000 characters.
        let tensor = TensorData(shape: Array(repeating: 1, count: 22_000), floats: [2])
        let bytes = try NumpyFile.encode(tensor)
        #expect(bytes[6] == 2 && bytes[7] == 0)
        let headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
        #expect((12 + headerLength) % 64 == 0)
        #expect(try NumpyFile.decode(bytes, path: "wide.npy") == tensor)
    }

    @Test(arguments: [UInt8(1), 2, 3])
    func readsEveryFormatVersion(version: UInt8) throws {
        let bytes = Bytes.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                              version: version, data: Bytes.floats([1, 2]))
        #expect(try NumpyFile.decode(bytes, path: "v.npy") == TensorData(shape: [2], floats: [1, 2]))
    }

    @Test(arguments: [
        #"{"descr": "<i4", "fortran_order": False, "shape": (2,)}"#,  // double quotes, no trailing comma
        "{'shape':(2,),'fortran_order':False,'descr':'<i4'}",  // other key order, no spaces
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }",  // Python 2 long
        "  {'descr': '<i4',\n 'fortran_order': False, 'shape': (2, ) , }  \n\n",
    ])
    func parsesTheHeaderAsAPythonLiteral(header: String) throws {
        let bytes = Bytes.npy(header, data: Bytes.integer(Int32(-3)) + Bytes.integer(Int32(9)))
        #expect(try NumpyFile.decode(bytes, path: "h.npy") == TensorData(.i32, shape: [2], storage: .integers([-3, 9])))
    }

    @Test func readsAnyNonzeroByteAsTrue() throws {
        let bytes = Bytes.npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", data: [0, 1, 7])
        #expect(try NumpyFile.decode(bytes, path: "b.npy") == TensorData(.i1, shape: [3], storage: .booleans([false, true, true])))
    }
}
