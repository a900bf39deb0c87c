import GraphIR

/// What a `.npy` header dict records: the element type (from `descr`) and the shape.
///
/// Reading checks the dict the way `numpy.load` does (exactly the keys `descr`, `fortran_order`
/// and `shape`; a tuple of integers for the shape) and adds what attnc needs: a dtype it can
/// hold, C order, non-negative dimensions. Writing produces numpy's own text, byte for byte.
struct NumpyHeader: Equatable {
    var elementType: ElementType
    var shape: [Int]

    /// The dtypes attnc reads and writes: `descr` strings as numpy writes them on little-endian machines.
    static let dtypes: [(descr: String, elementType: ElementType)] = [
        ("<f4", .f32), ("<i8", .i64), ("<i4", .i32), ("|b1", .i1),
    ]

    static var supportedList: String {
        dtypes.map { "'\($0.descr)' (\($0.elementType))" }.joined(separator: ", ")
    }

    init(elementType: ElementType, shape: [Int]) {
        self.elementType = elementType
        self.shape = shape
    }

    static let expectedKeys = ["descr", "fortran_order", "shape"]

    /// Interprets a parsed header; errors name `path` and say what was expected.
    init(_ literal: PythonLiteral, path: String) throws {
        func fail(_ message: String) -> Diagnostic { Diagnostic(.error, message, file: path) }
        let keyList = "'descr', 'fortran_order' and 'shape'"
        guard case .dict(let entries) = literal else {
            throw fail("header is not a dict: found \(literal.kindName) \(literal);"
                + " expected a dict with the keys \(keyList)")
        }
        var values: [String: PythonLiteral] = [:]
        for (key, value) in entries {
            guard values.updateValue(value, forKey: key) == nil else {
                throw fail("header repeats the key \(PythonLiteral.quote(key))")
            }
            guard Self.expectedKeys.contains(key) else {
                throw fail("header has the unexpected key \(PythonLiteral.quote(key));"
                    + " expected only the keys \(keyList)")
            }
        }
        for key in Self.expectedKeys where values[key] == nil {
            throw fail("header is missing the key \(PythonLiteral.quote(key)); expected the keys \(keyList)")
        }

        guard case .bool(let fortranOrder) = values["fortran_order"]! else {
            throw fail("header 'fortran_order' must be True or False, found \(values["fortran_order"]!)")
        }
        guard !fortranOrder else {
            throw fail("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        elementType = try Self.elementType(values["descr"]!, fail: fail)
        shape = try Self.shape(values["shape"]!, fail: fail)
    }

    private static func elementType(_ descr: PythonLiteral, fail: (String) -> Diagnostic) throws -> ElementType {
        guard case .string(let name) = descr else {
            // numpy writes a list of fields for structured (record) arrays.
            let what = if case .list = descr { "structured dtypes are not supported" } else { "unsupported dtype" }
            throw fail("\(what) (descr is \(descr)); attnc reads the dtypes \(supportedList)")
        }
        guard let match = dtypes.first(where: { $0.descr == name }) else {
            throw fail("unsupported dtype \(PythonLiteral.quote(name)); attnc reads the dtypes \(supportedList)"
                + "; convert with arr.astype(...) before saving")
        }
        return match.elementType
    }

    private static func shape(_ shape: PythonLiteral, fail: (String) -> Diagnostic) throws -> [Int] {
        guard case .tuple(let items) = shape else {
            throw fail("header 'shape' must be a tuple of non-negative integers, found \(shape.kindName) \(shape)")
        }
        return try items.enumerated().map { dimension, item in
            switch item {
            case .integer(let size) where size >= 0:
                return size
            case .integer(let size):
                throw fail("header 'shape' \(shape) has the negative size \(size) in dimension \(dimension)")
            case .otherNumber(let text) where text.hasPrefix("-") && Self.isWholeNumber(text.dropFirst()):
                throw fail("header 'shape' \(shape) has the negative size \(text) in dimension \(dimension)")
            case .otherNumber(let text) where Self.isWholeNumber(text.drop { $0 == "+" }):
                throw fail("header 'shape' \(shape) has the size \(text) in dimension \(dimension), which is too large")
            default:
                throw fail("header 'shape' \(shape) has the non-integer size \(item) in dimension \(dimension)"
                    + "; expected a tuple of non-negative integers")
            }
        }
    }

    /// True for the digits of an integer too large for `Int` (which the parser keeps as written).
    private static func isWholeNumber(_ text: Substring) -> Bool {
        text.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "_" || $0 == "L" || $0 == "l" }
    }

    /// The `descr` string numpy writes for the element type.
    var descr: String { Self.dtypes.first { $0.elementType == elementType }!.descr }

    /// The shape as a Python tuple: `(2, 3)`, `(5,)` or `()`.
    var shapeText: String { PythonLiteral.tuple(shape.map(PythonLiteral.integer)).description }

    /// numpy leaves room after the dict so that a writer appending along the first axis can grow
    /// the shape in place; matching it makes attnc's files byte-identical to `numpy.save`'s.
    static let growthAxisMaximumDigits = 21

    /// The header dict exactly as `numpy.save` writes it, before padding.
    var text: String {
        let spare = shape.first.map { Self.growthAxisMaximumDigits - String($0).count } ?? 0
        return "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
            + String(repeating: " ", count: max(0, spare))
    }
}
