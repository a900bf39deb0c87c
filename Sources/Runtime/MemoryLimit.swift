import Foundation
import GraphIR

/// Refuses work that needs more memory than the machine has, before any of it is allocated, with
/// the size it would need: the alternative is swapping, the OOM killer, or a sanitizer's abort.
public enum MemoryLimit {
    /// The machine's physical memory in bytes.
    public static var physicalBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// Throws when `bytes` is more than the machine's memory; `what` says who needs it
    /// ("graph 'g' (inputs, outputs and intermediate buffers)").
    public static func check(_ bytes: Int, for what: String) throws {
        guard bytes > physicalBytes else { return }
        throw Diagnostic(.error, "\(what) needs \(describe(bytes)) of memory, more than this machine's \(describe(physicalBytes))")
    }

    /// The bytes `types` take, saturating instead of overflowing; symbolic dims count as 0.
    public static func bytes(of types: [TensorType]) -> Int {
        types.reduce(0) { total, type in
            guard let shape = type.staticShape else { return total }
            let bytes = shape.reduce(type.elementType.byteWidth) { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 }
            return total.addingReportingOverflow(bytes).overflow ? .max : total + bytes
        }
    }

    /// `123456789 bytes (117.7 MiB)`.
    static func describe(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = "bytes"
        for next in units where value >= 1024 {
            value /= 1024
            unit = next
        }
        return unit == "bytes" ? "\(bytes) bytes" : "\(bytes) bytes (\(String(format: "%.1f", value)) \(unit))"
    }
}
