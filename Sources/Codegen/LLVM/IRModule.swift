import CLLVM
import Foundation
import GraphIR

/// An LLVM module: functions and globals. Freed in `deinit` unless handed to a `JITSession`.
public final class IRModule {
    public let context: IRContext
    public private(set) var ref: LLVMModuleRef
    private var owned = true

    public init(name: String, context: IRContext) {
        self.context = context
        ref = LLVMModuleCreateWithNameInContext(name, context.ref)
    }

    deinit {
        if owned { LLVMDisposeModule(ref) }
    }

    /// Gives up ownership (the JIT now frees the module).
    func release() -> LLVMModuleRef {
        precondition(owned, "module handed over twice")
        owned = false
        return ref
    }

    public func setTarget(triple: String, dataLayout: String) {
        LLVMSetTarget(ref, triple)
        LLVMSetDataLayout(ref, dataLayout)
    }

    /// Adds a function (or returns the existing one of that name).
    public func function(_ name: String, _ type: IRType, linkage: LLVMLinkage = LLVMExternalLinkage) -> IRFunction {
        if let existing = LLVMGetNamedFunction(ref, name) { return IRFunction(ref: existing, type: type) }
        let function = LLVMAddFunction(ref, name, type.ref)!
        LLVMSetLinkage(function, linkage)
        return IRFunction(ref: function, type: type)
    }

    /// Instructions in all function bodies: a measure of the work optimising the module takes.
    public var instructionCount: Int {
        var count = 0
        var function = LLVMGetFirstFunction(ref)
        while let f = function {
            var block = LLVMGetFirstBasicBlock(f)
            while let b = block {
                var instruction = LLVMGetFirstInstruction(b)
                while let i = instruction {
                    count += 1
                    instruction = LLVMGetNextInstruction(i)
                }
                block = LLVMGetNextBasicBlock(b)
            }
            function = LLVMGetNextFunction(f)
        }
        return count
    }

    /// Declares an LLVM intrinsic by its mangled name, e.g. `llvm.fmuladd.v8f32`.
    public func intrinsic(_ name: String, returning result: IRType, _ parameters: [IRType]) -> IRFunction {
        function(name, context.function(returning: result, parameters))
    }

    /// A constant global holding `initializer`.
    public func constantGlobal(_ name: String, _ initializer: IRValue, alignment: Int, linkage: LLVMLinkage = LLVMInternalLinkage) -> IRValue {
        let global = LLVMAddGlobal(ref, initializer.type.ref, name)!
        LLVMSetInitializer(global, initializer.ref)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, linkage)
        LLVMSetAlignment(global, UInt32(alignment))
        LLVMSetUnnamedAddress(global, LLVMGlobalUnnamedAddr)
        return IRValue(ref: global)
    }

    /// A mutable global of `type`, zero-initialised.
    public func variable(_ name: String, _ type: IRType, linkage: LLVMLinkage = LLVMInternalLinkage) -> IRValue {
        let global = LLVMAddGlobal(ref, type.ref, name)!
        LLVMSetInitializer(global, LLVMConstNull(type.ref))
        LLVMSetLinkage(global, linkage)
        return IRValue(ref: global)
    }

    /// The module's textual LLVM IR.
    public var text: String { takeLLVMMessage(LLVMPrintModuleToString(ref)) }

    /// Runs LLVM's verifier. A malformed module is a compiler bug: it throws an `InternalError`
    /// naming the module (a kernel's, in the JIT) and its broken functions, with the module's IR
    /// written to the file the error names.
    public func verify() throws {
        var message: UnsafeMutablePointer<CChar>?
        guard LLVMVerifyModule(ref, LLVMReturnStatusAction, &message) != 0 else {
            LLVMDisposeMessage(message)
            return
        }
        let report = takeLLVMMessage(message).trimmingCharacters(in: .whitespacesAndNewlines)
        var broken: [String] = []
        var function = LLVMGetFirstFunction(ref)
        while let f = function {
            if LLVMIsDeclaration(f) == 0, LLVMVerifyFunction(f, LLVMReturnStatusAction) != 0 {
                var length = 0
                broken.append(String(cString: LLVMGetValueName2(f, &length)))
            }
            function = LLVMGetNextFunction(f)
        }
        var length = 0
        let name = String(cString: LLVMGetModuleIdentifier(ref, &length))
        let functions = broken.isEmpty ? "" : " in \(broken.joined(separator: ", "))"
        throw InternalError(stage: "the LLVM IR of \(name)", problem: "LLVM rejects the generated IR\(functions): \(report)",
                            ir: text, fileExtension: "ll")
    }

    /// An independent copy (code generation mutates the module it emits).
    public func clone() -> IRModule {
        IRModule(cloning: self)
    }

    private init(cloning other: IRModule) {
        context = other.context
        ref = LLVMCloneModule(other.ref)
    }
}
