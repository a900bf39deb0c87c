import GraphIR
import Runtime
import Testing

/// Buffers are aligned, zeroed, hold tensors in the layout kernels read, and fail loudly when too big.
@Suite struct AlignedBufferTests {
    @Test(arguments: [0, 1, 3, 64, 1000, 1 << 20])
    func alignedAndZeroed(byteCount: Int) throws {
        let buffer = try AlignedBuffer(byteCount: byteCount)
        #expect(buffer.byteCount == byteCount)
        #expect(Int(bitPattern: buffer.baseAddress) % 64 == 0)
        #expect(buffer.bytes.allSatisfy { $0 == 0 })
    }

    /// Under `ATTNC_GUARD_PAGES=1` (as `make test` runs) a buffer whose size is a multiple of its
    /// alignment ends exactly where an inaccessible page begins.
    @Test(.enabled(if: AlignedBuffer.guardPages), arguments: [0, 64, 4096, 100 * 64])
    func guardedBuffersEndAtAPageBoundary(byteCount: Int) throws {
        let buffer = try AlignedBuffer(byteCount: byteCount)
        #expect(Int(bitPattern: buffer.baseAddress + byteCount) % 4096 == 0)
        #expect(Int(bitPattern: buffer.baseAddress) % 64 == 0)
        #expect(buffer.bytes.allSatisfy { $0 == 0 })
    }

    @Test func largerAlignment() throws {
        let buffer = try AlignedBuffer(byteCount: 10, alignment: 4096)
        #expect(buffer.alignment == 4096)
        #expect(Int(bitPattern: buffer.baseAddress) % 4096 == 0)
    }

    @Test func floatsRoundTrip() throws {
        let tensor = TensorData(shape: [2, 3], floats: [1.5, -2, 0, .infinity, -0.0, .leastNonzeroMagnitude])
        let buffer = try AlignedBuffer(copying: tensor)
        #expect(buffer.byteCount == 24)
        #expect(buffer.floatPointer[1] == -2)
        #expect(try buffer.tensorData(.f32, shape: [2, 3]) == tensor)
    }

    @Test func i64RoundTrip() throws {
        let tensor = TensorData(.i64, shape: [3], storage: .integers([.min, -1, .max]))
        let buffer = try AlignedBuffer(copying: tensor)
        #expect(buffer.byteCount == 24)
        #expect(buffer.baseAddress.load(fromByteOffset: 8, as: Int64.self) == -1)
        #expect(try buffer.tensorData(.i64, shape: [3]) == tensor)
    }

    @Test func i32IsFourBytesAndWraps() throws {
        let tensor = TensorData(.i32, shape: [3], storage: .integers([-7, 1 << 32 | 5, 123]))
        let buffer = try AlignedBuffer(copying: tensor)
        #expect(buffer.byteCount == 12)
        #expect(buffer.baseAddress.load(fromByteOffset: 4, as: Int32.self) == 5)
        #expect(try buffer.tensorData(.i32, shape: [3]) == TensorData(.i32, shape: [3], storage: .integers([-7, 5, 123])))
    }

    @Test func booleansAreOneByteZeroOrOne() throws {
        let tensor = TensorData(.i1, shape: [4], storage: .booleans([true, false, false, true]))
        let buffer = try AlignedBuffer(copying: tensor)
        #expect(Array(buffer.bytes) == [1, 0, 0, 1])
        #expect(try buffer.tensorData(.i1, shape: [4]) == tensor)
    }

    @Test func readsBackAPrefixWithAnotherShape() throws {
        let buffer = try AlignedBuffer(byteCount: 64)
        for index in 0..<6 { buffer.floatPointer[index] = Float(index) }
        #expect(try buffer.tensorData(.f32, shape: [3, 2]) == TensorData(shape: [3, 2], floats: [0, 1, 2, 3, 4, 5]))
        #expect(try buffer.tensorData(.f32, shape: []) == TensorData(shape: [], floats: [0]))
    }

    @Test func emptyTensor() throws {
        let tensor = TensorData(shape: [0, 4], floats: [])
        let buffer = try AlignedBuffer(copying: tensor)
        #expect(buffer.byteCount == 0)
        #expect(try buffer.tensorData(.f32, shape: [0, 4]) == tensor)
    }

    @Test(arguments: [Int.max, Int.max / 2, 1 << 50])
    func impossibleAllocationThrows(byteCount: Int) {
        expectBufferError(containing: ["cannot allocate", "\(byteCount) bytes"]) {
            _ = try AlignedBuffer(byteCount: byteCount)
        }
    }

    @Test func unsupportedElementType() throws {
        expectBufferError(containing: ["no buffer layout for element type f16", "f32, i64, i32, i1"]) {
            _ = try AlignedBuffer(copying: TensorData(.f16, shape: [1], storage: .floats([1])))
        }
        let buffer = try AlignedBuffer(byteCount: 8)
        expectBufferError(containing: ["element type f64"]) { _ = try buffer.tensorData(.f64, shape: [1]) }
    }

    /// Expects `body` to throw an error `Diagnostic` whose text contains every keyword.
    func expectBufferError(containing keywords: [String],
                           sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error, but none was thrown", sourceLocation: sourceLocation)
        } catch let diagnostic as Diagnostic {
            #expect(diagnostic.severity == .error, sourceLocation: sourceLocation)
            for keyword in keywords {
                #expect(diagnostic.message.contains(keyword), "missing \"\(keyword)\" in: \(diagnostic)",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a Diagnostic, got \(error)", sourceLocation: sourceLocation)
        }
    }
}
