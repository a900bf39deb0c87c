/// The element type of a tensor.
///
/// `f32` is what every kernel computes in today; the others exist so that integer masks, indices
/// and boolean predicates have honest types, and so that f16/bf16 storage can follow.
public enum ElementType: String, CaseIterable, Hashable, Sendable {
    case f32, f64, f16, bf16
    case i64, i32, i8, u8
    case i1

    /// True for the floating-point types.
    public var isFloat: Bool {
        switch self {
        case .f32, .f64, .f16, .bf16: return true
        case .i64, .i32, .i8, .u8, .i1: return false
        }
    }

    /// True for the integer types (not `i1`).
    public var isInteger: Bool { !isFloat && self != .i1 }

    /// Bytes per element in memory.
    public var byteWidth: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8, .i1: return 1
        }
    }
}
