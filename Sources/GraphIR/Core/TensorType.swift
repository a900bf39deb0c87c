/// One dimension of a shape: a known size or a named symbol bound later (`S`, `B`).
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case symbol(String)

    /// The size when it is known.
    public var value: Int? {
        if case .known(let n) = self { return n }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let n): return String(n)
        case .symbol(let s): return s
        }
    }
}

extension Dim: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .known(value) }
    public init(stringLiteral value: String) { self = .symbol(value) }
}

/// A tensor type: element type and shape, printed `f32[B,8,S,64]` (`f32[]` for a scalar).
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var elementType: ElementType
    public var shape: [Dim]

    public init(_ elementType: ElementType, _ shape: [Dim]) {
        self.elementType = elementType
        self.shape = shape
    }

    /// A type whose dims are all known.
    public init(_ elementType: ElementType, dims: [Int]) {
        self.init(elementType, dims.map { .known($0) })
    }

    public var rank: Int { shape.count }

    /// The dims as integers when every one is known.
    public var staticShape: [Int]? {
        var dims: [Int] = []
        dims.reserveCapacity(shape.count)
        for d in shape {
            guard let n = d.value else { return nil }
            dims.append(n)
        }
        return dims
    }

    /// Number of elements when the shape is static.
    public var elementCount: Int? { staticShape.map { $0.reduce(1, *) } }

    /// The symbols the shape mentions, in order of first appearance.
    public var symbols: [String] {
        var seen: [String] = []
        for case .symbol(let s) in shape where !seen.contains(s) { seen.append(s) }
        return seen
    }

    public var description: String {
        "\(elementType.rawValue)[\(shape.map(\.description).joined(separator: ","))]"
    }

    /// The same shape with another element type.
    public func with(_ elementType: ElementType) -> TensorType { TensorType(elementType, shape) }
}

/// Shorthand for building types in Swift code: `f32[2, 3]`, `f32["B", "S", 64]`.
public struct ElementTypeShorthand: Sendable {
    let elementType: ElementType
    public subscript(_ dims: Dim...) -> TensorType { TensorType(elementType, dims) }
}

public let f32 = ElementTypeShorthand(elementType: .f32)
public let i32 = ElementTypeShorthand(elementType: .i32)
public let i64 = ElementTypeShorthand(elementType: .i64)
public let i1 = ElementTypeShorthand(elementType: .i1)
