import Foundation
import GraphIR

/// A problem found while importing, before it is placed (in a node, an initializer, an input).
struct ImportProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// ONNX `TensorProto.DataType` codes and their GraphIR element types.
enum ONNXDataType {
    /// The element type attnc uses for an ONNX data type, or nil when attnc does not support it.
    static func elementType(_ code: Int32) -> ElementType? {
        switch code {
        case 1: return .f32
        case 2: return .u8
        case 3: return .i8
        case 6: return .i32
        case 7: return .i64
        case 9: return .i1
        default: return nil
        }
    }

    /// The ONNX data type code for an element type.
    static func code(_ type: ElementType) -> Int32? {
        switch type {
        case .f32: return 1
        case .u8: return 2
        case .i8: return 3
        case .i32: return 6
        case .i64: return 7
        case .i1: return 9
        case .f64, .f16, .bf16: return nil
        }
    }

    static let supportedList = "float, int64, int32, int8, uint8 and bool"

    /// The ONNX name of a data type code (`FLOAT16`, `DOUBLE`).
    static func name(_ code: Int32) -> String {
        let names = ["UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
                     "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
                     "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0",
                     "UINT2", "INT2", "FLOAT6E2M3", "FLOAT6E3M2"]
        return code >= 0 && Int(code) < names.count ? names[Int(code)] : "data type \(code)"
    }

    /// The element type for `code`, or an error naming the type and listing the supported ones.
    static func require(_ code: Int32) throws(ImportProblem) -> ElementType {
        guard let type = elementType(code) else {
            throw ImportProblem("dtype \(name(code)) is not supported; attnc imports \(supportedList) tensors")
        }
        return type
    }
}

/// The largest tensor attnc will decode, in elements: far above any real weight, low enough that
/// a corrupt dim cannot make the importer allocate without bound.
let maximumElementCount = 1 << 32

/// Element count of `dims`, checked for negative dims and overflow.
func checkedElementCount(_ dims: [Int64]) throws(ImportProblem) -> Int {
    var count = 1
    for d in dims {
        guard d >= 0 else { throw ImportProblem("has a negative dim in \(dims)") }
        let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
        guard !overflow, product <= maximumElementCount else { throw ImportProblem("dims \(dims) hold too many elements") }
        count = product
    }
    return count
}

/// Decodes a `TensorProto` from its raw bytes or its typed fields.
func decodeTensor(_ proto: Onnx_TensorProto) throws(ImportProblem) -> TensorData {
    if proto.hasDataLocation && proto.dataLocation == .external {
        throw ImportProblem("stores its data in an external file, which attnc does not read")
    }
    if proto.hasSegment { throw ImportProblem("is segmented, which attnc does not support") }
    guard proto.hasDataType else { throw ImportProblem("has no data type") }
    let type = try ONNXDataType.require(proto.dataType)
    let count = try checkedElementCount(proto.dims)
    let shape = proto.dims.map { Int($0) }
    let raw = proto.hasRawData ? [UInt8](proto.rawData) : nil

    func checkCount(_ n: Int, _ field: String) throws(ImportProblem) {
        guard n == count else {
            throw ImportProblem("\(field) holds \(n) values but dims \(shape) need \(count)")
        }
    }
    func checkRaw(_ bytes: [UInt8], width: Int) throws(ImportProblem) {
        guard bytes.count == count * width else {
            throw ImportProblem("raw_data holds \(bytes.count) bytes but dims \(shape) of \(ONNXDataType.name(proto.dataType)) need \(count * width)")
        }
    }

    switch type {
    case .f32:
        if let raw {
            try checkRaw(raw, width: 4)
            return TensorData(shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(truncatingIfNeeded: littleEndianWord(raw, $0 * 4, 4))) })
        }
        try checkCount(proto.floatData.count, "float_data")
        return TensorData(shape: shape, floats: proto.floatData)
    case .i64:
        if let raw {
            try checkRaw(raw, width: 8)
            return TensorData(.i64, shape: shape, storage: .integers((0..<count).map { Int64(bitPattern: littleEndianWord(raw, $0 * 8, 8)) }))
        }
        try checkCount(proto.int64Data.count, "int64_data")
        return TensorData(.i64, shape: shape, storage: .integers(proto.int64Data))
    case .i32:
        if let raw {
            try checkRaw(raw, width: 4)
            return TensorData(.i32, shape: shape, storage: .integers((0..<count).map { Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: littleEndianWord(raw, $0 * 4, 4)))) }))
        }
        try checkCount(proto.int32Data.count, "int32_data")
        return TensorData(.i32, shape: shape, storage: .integers(proto.int32Data.map(Int64.init)))
    case .i8, .u8:
        if let raw {
            try checkRaw(raw, width: 1)
            return TensorData(type, shape: shape, storage: .integers(raw.map { type == .i8 ? Int64(Int8(bitPattern: $0)) : Int64($0) }))
        }
        try checkCount(proto.int32Data.count, "int32_data")
        return TensorData(type, shape: shape, storage: .integers(proto.int32Data.map(Int64.init)))
    case .i1:
        if let raw {
            try checkRaw(raw, width: 1)
            return TensorData(.i1, shape: shape, storage: .booleans(raw.map { $0 != 0 }))
        }
        try checkCount(proto.int32Data.count, "int32_data")
        return TensorData(.i1, shape: shape, storage: .booleans(proto.int32Data.map { $0 != 0 }))
    case .f64, .f16, .bf16:
        preconditionFailure("ONNXDataType.require accepted \(type)")
    }
}

/// Encodes a tensor as a `TensorProto` with raw data (for tests and tools that write .pb files).
func encodeTensor(_ tensor: TensorData, name: String) -> Onnx_TensorProto {
    var proto = Onnx_TensorProto()
    proto.name = name
    proto.dims = tensor.shape.map(Int64.init)
    proto.dataType = ONNXDataType.code(tensor.elementType) ?? 1
    var bytes: [UInt8] = []
    switch tensor.storage {
    case .floats(let values):
        for v in values { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
    case .integers(let values):
        for v in values {
            switch tensor.elementType {
            case .i64: bytes += withUnsafeBytes(of: v.littleEndian, Array.init)
            case .i32: bytes += withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian, Array.init)
            default: bytes.append(UInt8(truncatingIfNeeded: v))
            }
        }
    case .booleans(let values):
        bytes = values.map { $0 ? 1 : 0 }
    }
    proto.rawData = Data(bytes)
    return proto
}

/// The little-endian unsigned integer of `width` bytes at `offset`.
private func littleEndianWord(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
    var word: UInt64 = 0
    for i in (0..<width).reversed() { word = word << 8 | UInt64(bytes[offset + i]) }
    return word
}

/// The GraphIR type of a graph input or output, from its `ValueInfoProto`. `shape` replaces the
/// declared dims (it must agree with the known ones); unknown dims without it are an error.
func declaredType(_ info: Onnx_ValueInfoProto, shape override: [Int]?) throws(ImportProblem) -> TensorType {
    guard case .tensorType(let tensor)? = info.type.value else {
        throw ImportProblem(info.hasType ? "is not a tensor (a sequence, map or optional); attnc imports tensors only" : "has no type")
    }
    let elementType = try ONNXDataType.require(tensor.elemType)
    guard tensor.hasShape else {
        guard let override else { throw ImportProblem("has no shape; give its shape when importing") }
        return TensorType(elementType, dims: override)
    }
    let dims = tensor.shape.dim
    if let override {
        guard override.count == dims.count else {
            throw ImportProblem("is given shape \(override) but the model declares rank \(dims.count)")
        }
        for (d, n) in zip(dims, override) {
            if case .dimValue(let v)? = d.value, v != n {
                throw ImportProblem("is given shape \(override) but the model declares \(describeShape(dims))")
            }
        }
        return TensorType(elementType, dims: override)
    }
    var shape: [Dim] = []
    for d in dims {
        switch d.value {
        case .dimValue(let v)?:
            guard v >= 0 else { throw ImportProblem("has a negative dim in \(describeShape(dims))") }
            shape.append(.known(Int(v)))
        case .dimParam(let p)? where !p.isEmpty:
            shape.append(.symbol(symbolName(p)))
        default:
            throw ImportProblem("has an unknown dim in \(describeShape(dims)); give its shape when importing")
        }
    }
    let type = TensorType(elementType, shape)
    if let problem = sizeProblem(type) { throw ImportProblem("has the shape \(describeShape(dims)): \(problem)") }
    return type
}

private func describeShape(_ dims: [Onnx_TensorShapeProto.Dimension]) -> String {
    "[" + dims.map { d -> String in
        switch d.value {
        case .dimValue(let v)?: return String(v)
        case .dimParam(let p)?: return p
        case nil: return "?"
        }
    }.joined(separator: ",") + "]"
}

/// A symbolic dim name as GraphIR spells symbols: a word of letters, digits and `_`.
func symbolName(_ param: String) -> String {
    var name = String(param.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    if let first = name.first, !(first.isLetter || first == "_") { name = "_" + name }
    return name
}
