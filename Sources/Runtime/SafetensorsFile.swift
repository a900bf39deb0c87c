import GraphIR

/// Reads safetensors files: how attnc takes a PyTorch `state_dict` as weights.
///
/// A file is an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}`,
/// then the data buffer that the offsets index. Reading accepts the dtypes F32, I64, I32 and BOOL
/// and checks that every tensor's bytes lie inside the buffer and match its shape, and that the
/// buffer ends where the last tensor does; tensors may overlap or come in any order. Every error is
/// a `Diagnostic` whose `file` is the path, so it prints as `path: error: message`, and names the
/// tensor when one is at fault.
public enum SafetensorsFile {
    /// One named tensor of a file.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let tensor: TensorData

        public init(name: String, tensor: TensorData) {
            self.name = name
            self.tensor = tensor
        }
    }

    /// The dtypes attnc reads, as safetensors names them.
    static let dtypes: [(name: String, elementType: ElementType)] = [
        ("F32", .f32), ("I64", .i64), ("I32", .i32), ("BOOL", .i1),
    ]

    /// A header longer than this is refused as corrupt rather than read into memory.
    static let maximumHeaderLength = 100_000_000

    /// The reserved key for free-form string metadata, which is not a tensor.
    static let metadataKey = "__metadata__"

    /// Reads every tensor in the safetensors file at `path`, by name.
    public static func read(path: String) throws -> [String: TensorData] {
        try decode(try FileBytes.read(path: path), path: path)
    }

    /// Reads every tensor in the safetensors file at `path`, in header order.
    public static func readEntries(path: String) throws -> [Entry] {
        try decodeEntries(try FileBytes.read(path: path), path: path)
    }

    /// Decodes a safetensors file's contents, by name; `path` names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> [String: TensorData] {
        Dictionary(uniqueKeysWithValues: try decodeEntries(bytes, path: path).map { ($0.name, $0.tensor) })
    }

    /// Decodes a safetensors file's contents in header order; `path` names the file in errors.
    public static func decodeEntries(_ bytes: [UInt8], path: String) throws -> [Entry] {
        func fail(_ message: String) -> Diagnostic { Diagnostic(.error, message, file: path) }
        guard bytes.count >= 8 else {
            throw fail("truncated file: \(bytes.count) bytes, too short for the 8-byte safetensors header length")
        }
        let declared = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard declared <= UInt64(maximumHeaderLength) else {
            throw fail("header length \(declared) bytes exceeds the \(maximumHeaderLength / 1_000_000) MB limit;"
                + " this is not a safetensors file or it is corrupt")
        }
        let headerLength = Int(declared)
        guard bytes.count - 8 >= headerLength else {
            throw fail("truncated header: the file declares a \(headerLength)-byte JSON header"
                + " but only \(bytes.count - 8) bytes follow")
        }
        let header: JSONValue
        do {
            header = try JSONValue.parse(bytes[8..<8 + headerLength])
        } catch let error as JSONValue.SyntaxError {
            throw fail("malformed JSON header: \(error.message) at byte \(error.offset) of the header")
        }
        guard case .object(let members) = header else {
            throw fail("header is not a JSON object; expected"
                + " {\"NAME\": {\"dtype\": ..., \"shape\": [...], \"data_offsets\": [BEGIN, END]}, ...}")
        }
        let buffer = bytes[(8 + headerLength)...]
        var seen: Set<String> = []
        var entries: [Entry] = []
        var dataEnd = 0
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw fail("the header lists the tensor '\(name)' twice") }
            if name == metadataKey {
                guard case .object = value else {
                    throw fail("'\(metadataKey)' must be an object of strings, found \(value)")
                }
                continue
            }
            let reader = EntryReader(name: name, path: path, buffer: buffer)
            let (tensor, end) = try reader.tensor(value)
            entries.append(Entry(name: name, tensor: tensor))
            dataEnd = max(dataEnd, end)
        }
        // Bytes after the last tensor mean the header and the data disagree (bytes appended, or a
        // tensor missing from the header); refuse them, as the `.npy` reader refuses trailing data.
        guard dataEnd == buffer.count else {
            throw fail("unexpected trailing data: the tensors end at byte \(dataEnd) of the data buffer"
                + " but it holds \(buffer.count) bytes (\(buffer.count - dataEnd) extra)")
        }
        return entries
    }
}

/// Checks and decodes one tensor's header entry against the data buffer.
private struct EntryReader {
    let name: String
    let path: String
    let buffer: ArraySlice<UInt8>

    func fail(_ message: String) -> Diagnostic {
        Diagnostic(.error, "tensor '\(name)': \(message)", file: path)
    }

    /// The tensor and the end of its bytes in the data buffer.
    func tensor(_ entry: JSONValue) throws -> (tensor: TensorData, end: Int) {
        let expected = "{\"dtype\": ..., \"shape\": [...], \"data_offsets\": [BEGIN, END]}"
        guard case .object(let fields) = entry else {
            throw fail("entry is \(entry), expected an object \(expected)")
        }
        func field(_ key: String) throws -> JSONValue {
            guard let value = fields.first(where: { $0.key == key })?.value else {
                throw fail("entry is missing the field '\(key)'; expected \(expected)")
            }
            return value
        }
        let elementType = try self.elementType(try field("dtype"))
        let shape = try self.shape(try field("shape"))
        let (begin, end) = try offsets(try field("data_offsets"))

        guard let count = TensorBytes.elementCount(shape), let needed = TensorBytes.byteCount(shape, elementType) else {
            throw fail("shape \(shape) has too many elements: the element count overflows")
        }
        guard end <= buffer.count else {
            throw fail("data_offsets [\(begin), \(end)] reach past the end of the \(buffer.count)-byte data buffer"
                + " (the file is truncated or corrupt)")
        }
        guard end - begin == needed else {
            throw fail("data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(shape)"
                + " of \(elementType) needs \(needed)")
        }
        let start = buffer.startIndex + begin
        let storage = TensorBytes.storage(of: elementType, count: count, from: buffer[start..<start + needed])
        return (TensorData(elementType, shape: shape, storage: storage), end)
    }

    private func elementType(_ dtype: JSONValue) throws -> ElementType {
        let supported = SafetensorsFile.dtypes.map { "\($0.name) (\($0.elementType))" }.joined(separator: ", ")
        guard case .string(let name) = dtype else {
            throw fail("'dtype' must be a string such as \"F32\", found \(dtype)")
        }
        guard let match = SafetensorsFile.dtypes.first(where: { $0.name == name }) else {
            throw fail("unsupported dtype \(name); attnc reads the dtypes \(supported)")
        }
        return match.elementType
    }

    private func shape(_ shape: JSONValue) throws -> [Int] {
        guard case .array(let items) = shape else {
            throw fail("'shape' must be an array of non-negative integers, found \(shape)")
        }
        return try items.enumerated().map { dimension, item in
            guard case .integer(let size) = item else {
                throw fail("'shape' \(shape) has the non-integer size \(item) in dimension \(dimension)"
                    + "; expected an array of non-negative integers")
            }
            guard size >= 0 else {
                throw fail("'shape' \(shape) has the negative size \(size) in dimension \(dimension)")
            }
            return size
        }
    }

    private func offsets(_ offsets: JSONValue) throws -> (begin: Int, end: Int) {
        guard case .array(let items) = offsets, items.count == 2,
              case .integer(let begin) = items[0], case .integer(let end) = items[1], begin >= 0, end >= 0 else {
            throw fail("'data_offsets' must be two non-negative integers [BEGIN, END], found \(offsets)")
        }
        guard begin <= end else {
            throw fail("data_offsets [\(begin), \(end)] end before they begin")
        }
        return (begin, end)
    }
}
