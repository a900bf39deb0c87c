import Foundation
import GraphIR

/// Reads and writes numpy `.npy` files: how attnc takes inputs and hands back outputs.
///
/// A file is the magic `\x93NUMPY`, a major and minor version byte, the header length (2 bytes
/// little-endian in version 1.0, 4 bytes in 2.0 and 3.0), the header (a Python dict literal, see
/// `NumpyHeader`) and the packed values in C order. Reading accepts versions 1.0, 2.0 and 3.0 and
/// the dtypes `<f4`, `<i8`, `<i4` and `|b1`; writing produces what `numpy.save` would. Every error
/// is a `Diagnostic` whose `file` is the path, so it prints as `path: error: message`.
public enum NumpyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// numpy pads the header so that the data starts on a 64-byte boundary.
    static let alignment = 64

    /// Reads the tensor in the `.npy` file at `path`.
    public static func read(path: String) throws -> TensorData {
        try decode(try FileBytes.read(path: path), path: path)
    }

    /// Decodes a `.npy` file's contents; `path` names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> TensorData {
        func fail(_ message: String) -> Diagnostic { Diagnostic(.error, message, file: path) }
        let (header, dataStart) = try headerText(of: bytes, fail: fail)
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(header)
        } catch let error as PythonLiteral.SyntaxError {
            throw fail("malformed header: \(error.message) at character \(error.offset) of \(quoted(header))")
        }
        let meta = try NumpyHeader(literal, path: path)

        let (shapeText, descr) = (meta.shapeText, meta.descr)
        guard let count = TensorBytes.elementCount(meta.shape),
              let needed = TensorBytes.byteCount(meta.shape, meta.elementType) else {
            throw fail("shape \(shapeText) has too many elements: the element count overflows")
        }
        let found = bytes.count - dataStart
        guard found >= needed else {
            throw fail("truncated data: shape \(shapeText) of '\(descr)' needs \(needed) bytes"
                + " but only \(found) bytes follow the header")
        }
        guard found == needed else {
            throw fail("unexpected trailing data: shape \(shapeText) of '\(descr)' needs \(needed) bytes"
                + " but \(found) bytes follow the header (\(found - needed) extra)")
        }
        let storage = TensorBytes.storage(of: meta.elementType, count: count, from: bytes[dataStart...])
        return TensorData(meta.elementType, shape: meta.shape, storage: storage)
    }

    /// Writes `tensor` to `path` as numpy would save it.
    public static func write(_ tensor: TensorData, path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try encode(tensor)
        } catch var diagnostic as Diagnostic {
            diagnostic.file = path
            throw diagnostic
        }
        try FileBytes.write(bytes, path: path)
    }

    /// The `.npy` bytes for `tensor`, identical to `numpy.save`'s output for the same array.
    ///
    /// Throws a `Diagnostic` (without a file) if the element type is not f32, i64, i32 or i1.
    public static func encode(_ tensor: TensorData) throws -> [UInt8] {
        guard let data = TensorBytes.bytes(of: tensor) else {
            throw Diagnostic(.error, "cannot save \(tensor.elementType) tensors as .npy;"
                + " attnc writes the element types \(NumpyHeader.supportedList)")
        }
        let header = Array(NumpyHeader(elementType: tensor.elementType, shape: tensor.shape).text.utf8)
        // Version 1.0 holds the header length in 2 bytes; numpy moves to 2.0 only when that overflows.
        for (version, lengthSize) in [(UInt8(1), 2), (2, 4)] {
            // The header ends with a newline; when it would already be aligned, numpy still pads a
            // whole 64 bytes, and so does this.
            let unpadded = magic.count + 2 + lengthSize + header.count + 1
            let padding = alignment - unpadded % alignment
            let headerLength = header.count + padding + 1
            guard lengthSize == 4 || headerLength <= Int(UInt16.max) else { continue }
            var bytes = magic + [version, 0]
            bytes += (0..<lengthSize).map { UInt8(truncatingIfNeeded: headerLength >> (8 * $0)) }
            bytes += header + Array(repeating: UInt8(ascii: " "), count: padding) + [UInt8(ascii: "\n")]
            return bytes + data
        }
        preconditionFailure("a version 2.0 header length always fits in 4 bytes")
    }

    /// The header text and where the data starts, after checking the magic string, the version
    /// and the header length. Versions 1.0 and 2.0 store the header in Latin-1, 3.0 in UTF-8.
    private static func headerText(
        of bytes: [UInt8], fail: (String) -> Diagnostic
    ) throws -> (text: String, dataStart: Int) {
        guard bytes.starts(with: magic) else {
            if magic.starts(with: bytes) {
                throw fail("truncated file: \(bytes.count) bytes, too short to hold the .npy magic string")
            }
            throw fail("not a .npy file: expected the magic string \\x93NUMPY at the start")
        }
        guard bytes.count >= 8 else { throw fail("truncated file: it ends inside the .npy version bytes") }
        let (major, minor) = (bytes[6], bytes[7])
        guard minor == 0, (1...3).contains(major) else {
            throw fail("unsupported .npy format version \(major).\(minor); attnc reads versions 1.0, 2.0 and 3.0")
        }
        let lengthSize = major == 1 ? 2 : 4
        let headerStart = 8 + lengthSize
        guard bytes.count >= headerStart else {
            throw fail("truncated file: it ends inside the \(lengthSize)-byte header length")
        }
        let headerLength = bytes[8..<headerStart].reversed().reduce(0) { $0 << 8 | Int($1) }
        let dataStart = headerStart + headerLength
        guard bytes.count >= dataStart else {
            throw fail("truncated header: the file declares a \(headerLength)-byte header"
                + " but only \(bytes.count - headerStart) bytes follow")
        }
        let header = bytes[headerStart..<dataStart]
        guard major == 3 else {
            return (String(String.UnicodeScalarView(header.map { Unicode.Scalar($0) })), dataStart)
        }
        guard let text = String(validating: header, as: UTF8.self) else {
            throw fail("malformed header: a version 3.0 header must be UTF-8")
        }
        return (text, dataStart)
    }

    /// The header for an error message: trimmed of its padding and cut short if long.
    private static func quoted(_ header: String) -> String {
        let trimmed = header.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = trimmed.count > 200 ? trimmed.prefix(200) + "..." : Substring(trimmed)
        return "\"\(shown)\""
    }
}
