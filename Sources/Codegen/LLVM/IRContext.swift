import CLLVM

/// An LLVM type. Valid as long as the context that made it.
public struct IRType: Equatable {
    public let ref: LLVMTypeRef

    public var isVector: Bool { LLVMGetTypeKind(ref) == LLVMVectorTypeKind }
    /// Lanes of a vector type, 1 for a scalar.
    public var lanes: Int { isVector ? Int(LLVMGetVectorSize(ref)) : 1 }
    /// The element type of a vector, or the type itself.
    public var scalar: IRType { isVector ? IRType(ref: LLVMGetElementType(ref)) : self }
    public var isFloat: Bool { LLVMGetTypeKind(scalar.ref) == LLVMFloatTypeKind }
    public var isInteger: Bool { LLVMGetTypeKind(scalar.ref) == LLVMIntegerTypeKind }
    public var integerWidth: Int { Int(LLVMGetIntTypeWidth(scalar.ref)) }

    /// The `lanes`-wide vector of this scalar type (the type itself when `lanes` is 1).
    public func vector(_ lanes: Int) -> IRType {
        lanes == 1 ? self : IRType(ref: LLVMVectorType(ref, UInt32(lanes)))
    }
}

/// An LLVM value: an instruction result, argument, constant or function. Valid as long as its context.
public struct IRValue {
    public let ref: LLVMValueRef
    public var type: IRType { IRType(ref: LLVMTypeOf(ref)) }
}

/// A basic block.
public struct IRBlock {
    public let ref: LLVMBasicBlockRef
}

/// A function and its type (needed to call it).
public struct IRFunction {
    public let ref: LLVMValueRef
    public let type: IRType

    public var value: IRValue { IRValue(ref: ref) }

    public func parameter(_ i: Int) -> IRValue { IRValue(ref: LLVMGetParam(ref, UInt32(i))) }
}

/// An LLVM context: owns every type, constant and module made in it.
///
/// A context made for the JIT comes from an ORC thread-safe context, which keeps it alive while
/// the JIT holds modules from it.
public final class IRContext {
    public let ref: LLVMContextRef
    private let threadSafe: LLVMOrcThreadSafeContextRef?

    /// A context for ahead-of-time code.
    public init() {
        ref = LLVMContextCreate()
        threadSafe = nil
    }

    /// A context whose modules can be handed to a `JITSession`.
    public init(forJIT: Void) {
        let tsc = LLVMOrcCreateNewThreadSafeContext()!
        threadSafe = tsc
        ref = LLVMOrcThreadSafeContextGetContext(tsc)
    }

    deinit {
        if let threadSafe {
            LLVMOrcDisposeThreadSafeContext(threadSafe)
        } else {
            LLVMContextDispose(ref)
        }
    }

    /// The ORC context, for handing modules to the JIT.
    var orcContext: LLVMOrcThreadSafeContextRef? { threadSafe }

    public var void: IRType { IRType(ref: LLVMVoidTypeInContext(ref)) }
    public var f32: IRType { IRType(ref: LLVMFloatTypeInContext(ref)) }
    public var f64: IRType { IRType(ref: LLVMDoubleTypeInContext(ref)) }
    public var i1: IRType { IRType(ref: LLVMInt1TypeInContext(ref)) }
    public var i8: IRType { IRType(ref: LLVMInt8TypeInContext(ref)) }
    public var i32: IRType { IRType(ref: LLVMInt32TypeInContext(ref)) }
    public var i64: IRType { IRType(ref: LLVMInt64TypeInContext(ref)) }
    /// An opaque pointer (`ptr`), in address space 0.
    public var pointer: IRType { IRType(ref: LLVMPointerTypeInContext(ref, 0)) }

    public func function(returning result: IRType, _ parameters: [IRType]) -> IRType {
        var refs: [LLVMTypeRef?] = parameters.map(\.ref)
        return IRType(ref: LLVMFunctionType(result.ref, &refs, UInt32(refs.count), 0))
    }

    public func array(_ element: IRType, count: Int) -> IRType {
        IRType(ref: LLVMArrayType2(element.ref, UInt64(count)))
    }

    // MARK: Constants

    /// A floating-point constant, splatted when `type` is a vector.
    public func constant(_ value: Double, _ type: IRType) -> IRValue {
        let scalar = type.isInteger ? LLVMConstInt(type.scalar.ref, UInt64(bitPattern: Int64(value)), 1)! : LLVMConstReal(type.scalar.ref, value)!
        return splatConstant(IRValue(ref: scalar), type)
    }

    /// An integer constant, splatted when `type` is a vector.
    public func constant(_ value: Int, _ type: IRType) -> IRValue {
        let scalar = type.isFloat ? LLVMConstReal(type.scalar.ref, Double(value))! : LLVMConstInt(type.scalar.ref, UInt64(bitPattern: Int64(value)), 1)!
        return splatConstant(IRValue(ref: scalar), type)
    }

    public func i64(_ value: Int) -> IRValue { constant(value, i64) }
    public func i32(_ value: Int) -> IRValue { constant(value, i32) }

    private func splatConstant(_ scalar: IRValue, _ type: IRType) -> IRValue {
        guard type.isVector else { return scalar }
        var elements: [LLVMValueRef?] = Array(repeating: scalar.ref, count: type.lanes)
        return IRValue(ref: LLVMConstVector(&elements, UInt32(type.lanes)))
    }

    /// A constant vector of i32 lanes (for shuffle masks).
    public func constantVector(_ values: [Int32]) -> IRValue {
        var elements: [LLVMValueRef?] = values.map { LLVMConstInt(i32.ref, UInt64(bitPattern: Int64($0)), 1) }
        return IRValue(ref: LLVMConstVector(&elements, UInt32(values.count)))
    }

    /// A constant `<N x i1>` (a lane mask).
    public func constantMask(_ lanes: [Bool]) -> IRValue {
        var elements: [LLVMValueRef?] = lanes.map { LLVMConstInt(i1.ref, $0 ? 1 : 0, 0) }
        return IRValue(ref: LLVMConstVector(&elements, UInt32(lanes.count)))
    }

    /// A constant `[N x i8]` holding `bytes` (embedded weights: one constant, not one per element).
    public func constantBytes(_ bytes: [UInt8]) -> IRValue {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                IRValue(ref: LLVMConstStringInContext(ref, chars.baseAddress, UInt32(chars.count), 1))
            }
        }
    }

    public func undefined(_ type: IRType) -> IRValue { IRValue(ref: LLVMGetUndef(type.ref)) }
    public func null(_ type: IRType) -> IRValue { IRValue(ref: LLVMConstNull(type.ref)) }
}
