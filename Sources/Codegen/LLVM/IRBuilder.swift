import CLLVM

/// Builds instructions into a function. One per function being emitted; freed in `deinit`.
///
/// The methods mirror LLVM's instructions; `forLoop` adds the structured loops kernels are made
/// of, with loop-carried values as phis.
public final class IRBuilder {
    public let module: IRModule
    public let ref: LLVMBuilderRef
    public private(set) var function: IRFunction?

    public var context: IRContext { module.context }

    public init(module: IRModule) {
        self.module = module
        ref = LLVMCreateBuilderInContext(module.context.ref)
    }

    deinit { LLVMDisposeBuilder(ref) }

    // MARK: Blocks

    /// Starts emitting into a new entry block of `function`.
    public func begin(_ function: IRFunction) {
        self.function = function
        position(at: block("entry"))
    }

    public func block(_ name: String) -> IRBlock {
        IRBlock(ref: LLVMAppendBasicBlockInContext(context.ref, function!.ref, name))
    }

    public func position(at block: IRBlock) { LLVMPositionBuilderAtEnd(ref, block.ref) }

    public var currentBlock: IRBlock { IRBlock(ref: LLVMGetInsertBlock(ref)) }

    public func branch(to block: IRBlock) { LLVMBuildBr(ref, block.ref) }

    public func branch(if condition: IRValue, then thenBlock: IRBlock, else elseBlock: IRBlock) {
        LLVMBuildCondBr(ref, condition.ref, thenBlock.ref, elseBlock.ref)
    }

    public func returnVoid() { LLVMBuildRetVoid(ref) }
    public func `return`(_ value: IRValue) { LLVMBuildRet(ref, value.ref) }

    public func phi(_ type: IRType, _ incoming: [(IRValue, IRBlock)]) -> IRValue {
        let phi = IRValue(ref: LLVMBuildPhi(ref, type.ref, "")!)
        addIncoming(phi, incoming)
        return phi
    }

    public func addIncoming(_ phi: IRValue, _ incoming: [(IRValue, IRBlock)]) {
        var values: [LLVMValueRef?] = incoming.map(\.0.ref)
        var blocks: [LLVMBasicBlockRef?] = incoming.map(\.1.ref)
        LLVMAddIncoming(phi.ref, &values, &blocks, UInt32(incoming.count))
    }

    /// `for (i = start; i < end; i += step)` with values carried from one iteration to the next.
    /// `body` gets the index and the carried values and returns their next values; the loop
    /// returns the carried values after the last iteration (the initial ones if it never runs).
    @discardableResult
    public func forLoop(_ start: IRValue, _ end: IRValue, step: Int = 1, carrying initial: [IRValue] = [],
                        _ body: (IRValue, [IRValue]) throws -> [IRValue]) rethrows -> [IRValue] {
        let entry = currentBlock
        let header = block("loop"), bodyBlock = block("body"), exit = block("done")
        branch(to: header)
        position(at: header)
        let index = phi(start.type, [(start, entry)])
        let carried = initial.map { phi($0.type, [($0, entry)]) }
        branch(if: icmp(LLVMIntSLT, index, end), then: bodyBlock, else: exit)
        position(at: bodyBlock)
        let next = try body(index, carried)
        precondition(next.count == carried.count, "loop body returned \(next.count) values for \(carried.count) carried")
        let latch = currentBlock
        let nextIndex = add(index, context.constant(step, start.type))
        addIncoming(index, [(nextIndex, latch)])
        for (phi, value) in zip(carried, next) { addIncoming(phi, [(value, latch)]) }
        branch(to: header)
        position(at: exit)
        return carried
    }

    /// Runs `body` only when `condition` holds.
    public func ifThen(_ condition: IRValue, _ body: () throws -> Void) rethrows {
        let thenBlock = block("then"), after = block("endif")
        branch(if: condition, then: thenBlock, else: after)
        position(at: thenBlock)
        try body()
        branch(to: after)
        position(at: after)
    }

    // MARK: Arithmetic

    public func add(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildAdd(ref, a.ref, b.ref, "")) }
    public func sub(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildSub(ref, a.ref, b.ref, "")) }
    public func mul(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildMul(ref, a.ref, b.ref, "")) }
    public func sdiv(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildSDiv(ref, a.ref, b.ref, "")) }
    public func srem(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildSRem(ref, a.ref, b.ref, "")) }
    public func and(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildAnd(ref, a.ref, b.ref, "")) }
    public func or(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildOr(ref, a.ref, b.ref, "")) }
    public func xor(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildXor(ref, a.ref, b.ref, "")) }
    public func shl(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildShl(ref, a.ref, b.ref, "")) }
    public func ashr(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildAShr(ref, a.ref, b.ref, "")) }
    public func lshr(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildLShr(ref, a.ref, b.ref, "")) }

    public func fadd(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildFAdd(ref, a.ref, b.ref, "")) }
    public func fsub(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildFSub(ref, a.ref, b.ref, "")) }
    public func fmul(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildFMul(ref, a.ref, b.ref, "")) }
    public func fdiv(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildFDiv(ref, a.ref, b.ref, "")) }
    public func fneg(_ a: IRValue) -> IRValue { IRValue(ref: LLVMBuildFNeg(ref, a.ref, "")) }
    /// C's `fmod`. On vectors LLVM calls `fmodf` per lane; only shape arithmetic uses it.
    public func frem(_ a: IRValue, _ b: IRValue) -> IRValue { IRValue(ref: LLVMBuildFRem(ref, a.ref, b.ref, "")) }

    public func icmp(_ predicate: LLVMIntPredicate, _ a: IRValue, _ b: IRValue) -> IRValue {
        IRValue(ref: LLVMBuildICmp(ref, predicate, a.ref, b.ref, ""))
    }

    public func fcmp(_ predicate: LLVMRealPredicate, _ a: IRValue, _ b: IRValue) -> IRValue {
        IRValue(ref: LLVMBuildFCmp(ref, predicate, a.ref, b.ref, ""))
    }

    public func select(_ condition: IRValue, _ a: IRValue, _ b: IRValue) -> IRValue {
        IRValue(ref: LLVMBuildSelect(ref, condition.ref, a.ref, b.ref, ""))
    }

    // MARK: Conversions

    public func signedToFloat(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildSIToFP(ref, a.ref, type.ref, "")) }
    public func unsignedToFloat(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildUIToFP(ref, a.ref, type.ref, "")) }
    public func floatToSigned(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildFPToSI(ref, a.ref, type.ref, "")) }
    public func zeroExtend(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildZExt(ref, a.ref, type.ref, "")) }
    public func signExtend(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildSExt(ref, a.ref, type.ref, "")) }
    public func truncate(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildTrunc(ref, a.ref, type.ref, "")) }
    public func bitcast(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildBitCast(ref, a.ref, type.ref, "")) }
    public func floatExtend(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildFPExt(ref, a.ref, type.ref, "")) }
    public func floatTruncate(_ a: IRValue, _ type: IRType) -> IRValue { IRValue(ref: LLVMBuildFPTrunc(ref, a.ref, type.ref, "")) }

    /// Converts an integer of any width to `type` (sign-extending or truncating).
    public func resizeInteger(_ a: IRValue, _ type: IRType) -> IRValue {
        let from = a.type.integerWidth, to = type.integerWidth
        if from == to { return a }
        return from < to ? signExtend(a, type) : truncate(a, type)
    }

    // MARK: Memory

    /// `&base[index]` for elements of `element`.
    public func elementPointer(_ element: IRType, _ base: IRValue, _ index: IRValue) -> IRValue {
        var indices: [LLVMValueRef?] = [index.ref]
        return IRValue(ref: LLVMBuildInBoundsGEP2(ref, element.ref, base.ref, &indices, 1, ""))
    }

    /// `&base[index]` without the in-bounds promise: for addresses a masked access may form
    /// outside the object (its masked lanes read nothing).
    public func offsetPointer(_ element: IRType, _ base: IRValue, _ index: IRValue) -> IRValue {
        var indices: [LLVMValueRef?] = [index.ref]
        return IRValue(ref: LLVMBuildGEP2(ref, element.ref, base.ref, &indices, 1, ""))
    }

    public func load(_ type: IRType, _ pointer: IRValue, alignment: Int) -> IRValue {
        let load = LLVMBuildLoad2(ref, type.ref, pointer.ref, "")!
        LLVMSetAlignment(load, UInt32(alignment))
        return IRValue(ref: load)
    }

    public func store(_ value: IRValue, _ pointer: IRValue, alignment: Int) {
        let store = LLVMBuildStore(ref, value.ref, pointer.ref)!
        LLVMSetAlignment(store, UInt32(alignment))
    }

    /// A stack slot in the function's entry block.
    public func stackSlot(_ type: IRType, alignment: Int) -> IRValue {
        let here = currentBlock
        let entry = LLVMGetEntryBasicBlock(function!.ref)!
        if let first = LLVMGetFirstInstruction(entry) {
            LLVMPositionBuilderBefore(ref, first)
        } else {
            LLVMPositionBuilderAtEnd(ref, entry)
        }
        let slot = LLVMBuildAlloca(ref, type.ref, "")!
        LLVMSetAlignment(slot, UInt32(alignment))
        position(at: here)
        return IRValue(ref: slot)
    }

    // MARK: Vectors

    public func splat(_ scalar: IRValue, lanes: Int) -> IRValue {
        guard lanes > 1 else { return scalar }
        let vectorType = scalar.type.vector(lanes)
        let one = LLVMBuildInsertElement(ref, context.undefined(vectorType).ref, scalar.ref, context.i32(0).ref, "")!
        let zeros = context.constantVector(Array(repeating: 0, count: lanes))
        return IRValue(ref: LLVMBuildShuffleVector(ref, one, context.undefined(vectorType).ref, zeros.ref, ""))
    }

    public func extractElement(_ vector: IRValue, _ lane: Int) -> IRValue {
        IRValue(ref: LLVMBuildExtractElement(ref, vector.ref, context.i32(lane).ref, ""))
    }

    public func insertElement(_ vector: IRValue, _ scalar: IRValue, _ lane: Int) -> IRValue {
        IRValue(ref: LLVMBuildInsertElement(ref, vector.ref, scalar.ref, context.i32(lane).ref, ""))
    }

    public func shuffle(_ a: IRValue, _ b: IRValue, _ mask: [Int32]) -> IRValue {
        IRValue(ref: LLVMBuildShuffleVector(ref, a.ref, b.ref, context.constantVector(mask).ref, ""))
    }

    // MARK: Calls

    @discardableResult
    public func call(_ function: IRFunction, _ arguments: [IRValue]) -> IRValue {
        var refs: [LLVMValueRef?] = arguments.map(\.ref)
        return IRValue(ref: LLVMBuildCall2(ref, function.type.ref, function.ref, &refs, UInt32(refs.count), ""))
    }

    /// Calls an overloaded intrinsic whose parameters and result all have `type`, e.g.
    /// `intrinsic("fmuladd", [a, b, c])` → `llvm.fmuladd.v8f32`.
    public func intrinsic(_ name: String, _ arguments: [IRValue], type: IRType? = nil) -> IRValue {
        let type = type ?? arguments[0].type
        let declaration = module.intrinsic("llvm.\(name).\(Self.mangle(type))", returning: type,
                                           Array(repeating: type, count: arguments.count))
        return call(declaration, arguments)
    }

    /// `a * b + c`, fused when the target has FMA.
    public func multiplyAdd(_ a: IRValue, _ b: IRValue, _ c: IRValue) -> IRValue { intrinsic("fmuladd", [a, b, c]) }

    /// LLVM's overload suffix for a type: `f32`, `v8f32`, `i32`, `v8i32`.
    static func mangle(_ type: IRType) -> String {
        let scalar = type.isFloat ? "f32" : (LLVMGetTypeKind(type.scalar.ref) == LLVMDoubleTypeKind ? "f64" : "i\(type.integerWidth)")
        return type.isVector ? "v\(type.lanes)\(scalar)" : scalar
    }
}
