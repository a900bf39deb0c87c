import Glibc
import Foundation
import GraphIR

/// Zero-filled, aligned heap memory that compiled kernels read and write: weights, activations and
/// scratch space. The memory is freed when the buffer is.
///
/// Values are stored in the machine's native layout, which is what generated code loads: f32 as
/// 4-byte floats, i64 as 8-byte integers, i32 as 4-byte integers and i1 as one byte, 0 or 1.
public final class AlignedBuffer {
    /// The element types a buffer can be filled from and read back as.
    public static let supportedTypes: [ElementType] = [.f32, .i64, .i32, .i1]

    /// The number of usable bytes (0 is allowed).
    public let byteCount: Int
    /// The alignment of `baseAddress`, in bytes.
    public let alignment: Int
    /// The start of the memory; valid (and unique) even when `byteCount` is 0.
    public let baseAddress: UnsafeMutableRawPointer

    /// Allocates `byteCount` zeroed bytes starting at a multiple of `alignment`.
    ///
    /// `alignment` must be a power of two and a multiple of the pointer size. Throws if the memory
    /// cannot be had; the diagnostic states the size requested.
    public init(byteCount: Int, alignment: Int = 64) throws {
        precondition(byteCount >= 0, "negative byte count \(byteCount)")
        precondition(alignment >= MemoryLayout<UnsafeRawPointer>.size && alignment & (alignment - 1) == 0,
                     "alignment \(alignment) is not a power of two at least the pointer size")
        // Zero-filling touches every page, so a request beyond physical memory could only end in
        // swapping or the OOM killer; refusing it up front also keeps sanitizer allocators, which
        // abort instead of returning NULL on absurd sizes, out of it.
        let physicalMemory = ProcessInfo.processInfo.physicalMemory
        guard UInt64(byteCount) <= physicalMemory else {
            throw Self.failure(byteCount, "more than this machine's \(physicalMemory) bytes of memory")
        }
        self.byteCount = byteCount
        self.alignment = alignment
        if Self.guardPages {
            mapping = try Self.guardedMapping(byteCount, alignment: alignment)
            baseAddress = mapping!.end - (byteCount + alignment - 1) / alignment * alignment
            return
        }
        mapping = nil
        var memory: UnsafeMutableRawPointer?
        // posix_memalign may return NULL for size 0; one byte keeps the address valid and unique.
        let status = posix_memalign(&memory, alignment, max(byteCount, 1))
        guard status == 0, let memory else {
            throw Self.failure(byteCount, String(cString: strerror(status)))
        }
        memset(memory, 0, max(byteCount, 1))
        self.baseAddress = memory
    }

    deinit {
        if let mapping {
            munmap(mapping.start, mapping.length)
        } else {
            free(baseAddress)
        }
    }

    // MARK: Guard pages (testing)

    /// With `ATTNC_GUARD_PAGES=1` in the environment, every buffer ends (up to its alignment) at an
    /// inaccessible page, so that generated code reading or writing past a buffer's end faults at
    /// once instead of touching whatever the heap holds there. AddressSanitizer cannot see such
    /// accesses: JIT-compiled code is not instrumented. `make test` runs the JIT tests this way.
    public static let guardPages = ProcessInfo.processInfo.environment["ATTNC_GUARD_PAGES"] == "1"

    /// The pages of a guarded buffer: the usable pages, then the guard page, which `end` points to.
    private let mapping: (start: UnsafeMutableRawPointer, length: Int, end: UnsafeMutableRawPointer)?

    private static func guardedMapping(_ byteCount: Int, alignment: Int) throws -> (start: UnsafeMutableRawPointer, length: Int, end: UnsafeMutableRawPointer) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let usable = (byteCount + alignment - 1) / alignment * alignment
        let dataPages = max(1, (usable + page - 1) / page)
        let length = (dataPages + 1) * page
        guard let start = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), start != MAP_FAILED else {
            throw failure(byteCount, "mmap: \(String(cString: strerror(errno)))")
        }
        let end = start + dataPages * page
        guard mprotect(end, page, PROT_NONE) == 0 else {
            munmap(start, length)
            throw failure(byteCount, "mprotect: \(String(cString: strerror(errno)))")
        }
        return (start, length, end)
    }

    /// The memory viewed as 4-byte floats.
    public var floatPointer: UnsafeMutablePointer<Float> { baseAddress.assumingMemoryBound(to: Float.self) }

    /// The memory as a raw buffer of `byteCount` bytes.
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: baseAddress, count: byteCount) }

    /// A buffer holding a copy of `tensor`'s values; throws if its element type has no layout here.
    public convenience init(copying tensor: TensorData, alignment: Int = 64) throws {
        let type = tensor.elementType
        guard Self.supportedTypes.contains(type) else { throw Self.unsupported(type) }
        try self.init(byteCount: tensor.count * type.byteWidth, alignment: alignment)
        switch tensor.storage {
        case .floats(let values):
            floatPointer.update(from: values, count: values.count)
        case .integers(let values) where type == .i64:
            baseAddress.assumingMemoryBound(to: Int64.self).update(from: values, count: values.count)
        case .integers(let values):
            // An i32 tensor keeps its values in Int64; wrapping matches what 32-bit arithmetic produces.
            let target = baseAddress.assumingMemoryBound(to: Int32.self)
            for (index, value) in values.enumerated() { target[index] = Int32(truncatingIfNeeded: value) }
        case .booleans(let values):
            let target = baseAddress.assumingMemoryBound(to: UInt8.self)
            for (index, value) in values.enumerated() { target[index] = value ? 1 : 0 }
        }
    }

    /// The first `shape`'s worth of `elementType` values in the buffer, as a tensor.
    ///
    /// The buffer must hold at least that many bytes; any nonzero byte reads as a true i1.
    public func tensorData(_ elementType: ElementType, shape: [Int]) throws -> TensorData {
        guard Self.supportedTypes.contains(elementType) else { throw Self.unsupported(elementType) }
        let count = shape.reduce(1, *)
        precondition(count * elementType.byteWidth <= byteCount,
                     "\(count) \(elementType) values do not fit in a \(byteCount)-byte buffer")
        func values<T>(_: T.Type) -> UnsafeMutableBufferPointer<T> {
            UnsafeMutableBufferPointer(start: baseAddress.assumingMemoryBound(to: T.self), count: count)
        }
        let storage: TensorData.Storage
        switch elementType {
        case .f32: storage = .floats(Array(values(Float.self)))
        case .i64: storage = .integers(Array(values(Int64.self)))
        case .i32: storage = .integers(values(Int32.self).map(Int64.init))
        default: storage = .booleans(values(UInt8.self).map { $0 != 0 })
        }
        return TensorData(elementType, shape: shape, storage: storage)
    }

    private static func failure(_ byteCount: Int, _ reason: String) -> Diagnostic {
        Diagnostic(.error, "cannot allocate a buffer of \(byteCount) bytes: \(reason)")
    }

    private static func unsupported(_ type: ElementType) -> Diagnostic {
        let supported = supportedTypes.map(\.rawValue).joined(separator: ", ")
        return Diagnostic(.error, "no buffer layout for element type \(type.rawValue) (supported: \(supported))")
    }
}
