import GraphIR

/// Converts between `TensorData` storage and the packed little-endian bytes that `.npy` and
/// safetensors files hold, for the element types attnc reads and writes (f32, i64, i32, i1).
///
/// The file formats map their own dtype names (`<f4`, `F32`, ...) onto these element types and
/// check sizes first, so the functions here only move bytes.
enum TensorBytes {
    /// The element types with a byte layout here, in the order error messages list them.
    static let supportedTypes: [ElementType] = [.f32, .i64, .i32, .i1]

    /// Storage for `count` elements of `type` packed in `bytes` (exactly `count * byteWidth` long).
    static func storage(of type: ElementType, count: Int, from bytes: ArraySlice<UInt8>) -> TensorData.Storage {
        precondition(supportedTypes.contains(type), "no byte layout for \(type)")
        precondition(bytes.count == count * type.byteWidth, "\(bytes.count) bytes for \(count) \(type) values")
        return bytes.withUnsafeBytes { raw in
            // Unaligned loads: a safetensors tensor may start at any byte offset.
            func load<T: FixedWidthInteger>(_ index: Int, _: T.Type) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case .f32: return .floats((0..<count).map { Float(bitPattern: load($0, UInt32.self)) })
            case .i64: return .integers((0..<count).map { load($0, Int64.self) })
            case .i32: return .integers((0..<count).map { Int64(load($0, Int32.self)) })
            // numpy and PyTorch treat any nonzero byte as true.
            default: return .booleans(raw.map { $0 != 0 })
            }
        }
    }

    /// The packed little-endian bytes of `tensor`'s values, or nil if its element type has no layout here.
    static func bytes(of tensor: TensorData) -> [UInt8]? {
        switch (tensor.elementType, tensor.storage) {
        case (.f32, .floats(let values)): return pack(values) { $0.bitPattern }
        case (.i64, .integers(let values)): return pack(values) { $0 }
        // An i32 tensor keeps its values in Int64; wrapping matches what 32-bit arithmetic produces.
        case (.i32, .integers(let values)): return pack(values) { Int32(truncatingIfNeeded: $0) }
        case (.i1, .booleans(let values)): return values.map { $0 ? 1 : 0 }
        default: return nil
        }
    }

    private static func pack<Value, Bits: FixedWidthInteger>(_ values: [Value], _ bits: (Value) -> Bits) -> [UInt8] {
        let width = MemoryLayout<Bits>.size
        return [UInt8](unsafeUninitializedCapacity: values.count * width) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (index, value) in values.enumerated() {
                raw.storeBytes(of: bits(value).littleEndian, toByteOffset: index * width, as: Bits.self)
            }
            initialized = values.count * width
        }
    }

    /// The element count of `shape`, or nil if it overflows `Int`; entries must be non-negative.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// The byte size of `shape` elements of `type`, or nil if it overflows `Int`.
    static func byteCount(_ shape: [Int], _ type: ElementType) -> Int? {
        guard let count = elementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: type.byteWidth)
        return overflow ? nil : bytes
    }
}
