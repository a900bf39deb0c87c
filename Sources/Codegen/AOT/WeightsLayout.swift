import GraphIR

/// Where an AOT module finds its weights: every weight tensor at a 64-byte aligned offset in one
/// payload, in the graph's weight order. Embedded, the payload is one constant in the object;
/// with `--weights-mode file` it follows a small header in `NAME.weights`:
///
/// ```
/// offset  size  field (little-endian)
///  0       8    magic "ATTNCWTS"
///  8       4    version (1)
/// 12       4    tensor count
/// 16       8    header bytes: where the payload starts (a multiple of 64)
/// 24       8    payload bytes (a multiple of 64)
/// 32       8    payload checksum: FNV-1a 64 over the payload bytes
/// 40       8    layout hash: FNV-1a 64 over the table bytes (names, types, shapes, offsets)
/// 48      16    zero
/// 64       …    table, one entry per tensor, each padded to 8 bytes:
///               u32 name length, u32 rank, 8-byte element type ("f32", zero-padded),
///               u64 offset from the start of the file, u64 byte count, u64 dims[rank], name
///               then zero padding to `header bytes`, then the payload.
/// ```
/// The object checks the magic, version, sizes and layout hash it was compiled with, and the
/// checksum, so a weights file for another model is rejected while retrained weights of the same
/// model load without recompiling.
struct WeightsLayout {
    struct Entry {
        let name: String
        let elementType: ElementType
        let shape: [Int]
        /// Offset from the start of the payload.
        let offset: Int
        let byteCount: Int
    }

    static let alignment = 64
    static let magic = Array("ATTNCWTS".utf8)
    static let version: UInt32 = 1
    static let fixedHeaderBytes = 64

    let entries: [Entry]
    let payload: [UInt8]

    /// Lays out `weights` (one per graph weight, in order), checking each against its declared type.
    init(graph: Graph, weights: [TensorData]) throws {
        precondition(weights.count == graph.weights.count, "\(weights.count) weight tensors for \(graph.weights.count) weights")
        var entries: [Entry] = []
        var payload: [UInt8] = []
        for (id, tensor) in zip(graph.weights, weights) {
            let name = graph[id].name ?? ""
            let type = graph.type(of: id)
            guard tensor.elementType == type.elementType, let shape = type.staticShape, tensor.shape == shape else {
                throw Diagnostic(.error, "weight '\(name)' is \(type) in the graph but the tensor bound to it is \(tensor.type)")
            }
            let bytes = storageBytes(tensor)
            entries.append(Entry(name: name, elementType: type.elementType, shape: shape, offset: payload.count, byteCount: bytes.count))
            payload += bytes
            payload += Array(repeating: 0, count: Self.padding(payload.count))
        }
        self.entries = entries
        self.payload = payload
    }

    /// Bytes that bring `count` up to a multiple of the alignment.
    static func padding(_ count: Int, to alignment: Int = alignment) -> Int { (alignment - count % alignment) % alignment }

    /// The table of the file header (everything after the fixed 64 bytes, before padding).
    var table: [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            let name = Array(entry.name.utf8)
            bytes.appendLittleEndian(UInt32(name.count))
            bytes.appendLittleEndian(UInt32(entry.shape.count))
            let typeName = Array(entry.elementType.rawValue.utf8)
            bytes += typeName + Array(repeating: 0, count: 8 - typeName.count)
            bytes.appendLittleEndian(UInt64(headerBytes + entry.offset))
            bytes.appendLittleEndian(UInt64(entry.byteCount))
            for dim in entry.shape { bytes.appendLittleEndian(UInt64(dim)) }
            bytes += name + Array(repeating: 0, count: Self.padding(name.count, to: 8))
        }
        return bytes
    }

    /// Where the payload starts in the file.
    var headerBytes: Int {
        // The table's size does not depend on the offsets it records, so measure it once.
        let tableBytes = entries.reduce(0) { sum, entry in
            sum + 24 + 8 * (entry.shape.count + 1) + entry.name.utf8.count + Self.padding(entry.name.utf8.count, to: 8)
        }
        let end = Self.fixedHeaderBytes + tableBytes
        return end + Self.padding(end)
    }

    var fileBytes: Int { headerBytes + payload.count }
    var layoutHash: UInt64 { fnv1a64(table) }
    var payloadChecksum: UInt64 { fnv1a64(payload) }

    /// The `.weights` file.
    var file: [UInt8] {
        let table = self.table
        var bytes = Self.magic
        bytes.appendLittleEndian(Self.version)
        bytes.appendLittleEndian(UInt32(entries.count))
        bytes.appendLittleEndian(UInt64(headerBytes))
        bytes.appendLittleEndian(UInt64(payload.count))
        bytes.appendLittleEndian(payloadChecksum)
        bytes.appendLittleEndian(fnv1a64(table))
        bytes += Array(repeating: 0, count: Self.fixedHeaderBytes - bytes.count)
        bytes += table
        bytes += Array(repeating: 0, count: headerBytes - bytes.count)
        precondition(bytes.count == headerBytes, "weights header is \(bytes.count) bytes, expected \(headerBytes)")
        return bytes + payload
    }
}

/// FNV-1a, 64-bit: the weights file's checksum (simple enough to recompute in any language).
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash = FNV1a.offsetBasis
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* FNV1a.prime }
    return hash
}

enum FNV1a {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
