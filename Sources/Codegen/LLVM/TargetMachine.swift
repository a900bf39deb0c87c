import CLLVM
import Foundation

/// What to generate code for: a triple, a CPU and its features.
public struct TargetDescription: Sendable, Equatable {
    public var triple: String
    public var cpu: String
    public var features: String

    public init(triple: String, cpu: String, features: String) {
        self.triple = triple
        self.cpu = cpu
        self.features = features
    }

    /// The machine attnc runs on.
    public static func host() -> TargetDescription {
        let host = HostTarget.detect()
        return TargetDescription(triple: host.triple, cpu: host.cpu, features: host.features)
    }

    /// Whether the features include `name` (e.g. `avx2`, `fma`).
    public func has(_ name: String) -> Bool {
        features.split(separator: ",").contains { $0 == "+" + name }
    }

    /// f32 lanes of the widest vector register the features allow.
    public var vectorWidth: Int {
        if has("avx512f") { return 16 }
        if has("avx") || has("avx2") { return 8 }
        return 4
    }
}

/// An LLVM target machine, freed in `deinit`.
public final class TargetMachine {
    public let ref: LLVMTargetMachineRef
    public let target: TargetDescription
    private var owned = true

    public init(_ target: TargetDescription, optimization: LLVMCodeGenOptLevel = LLVMCodeGenLevelAggressive,
                relocation: LLVMRelocMode = LLVMRelocPIC, codeModel: LLVMCodeModel = LLVMCodeModelDefault) throws {
        LLVMSetup.ensureInitialized()
        var llvmTarget: LLVMTargetRef?
        var message: UnsafeMutablePointer<CChar>?
        if LLVMGetTargetFromTriple(target.triple, &llvmTarget, &message) != 0 {
            throw LLVMError("unknown target triple \(target.triple): \(takeLLVMMessage(message))")
        }
        guard let machine = LLVMCreateTargetMachine(llvmTarget, target.triple, target.cpu, target.features,
                                                    optimization, relocation, codeModel) else {
            throw LLVMError("cannot create a target machine for \(target.triple) \(target.cpu)")
        }
        ref = machine
        self.target = target
    }

    deinit {
        if owned { LLVMDisposeTargetMachine(ref) }
    }

    /// Gives up ownership (the JIT's target machine builder now frees it).
    func release() -> LLVMTargetMachineRef {
        owned = false
        return ref
    }

    /// The data layout string for modules compiled by this machine.
    public var dataLayout: String {
        let layout = LLVMCreateTargetDataLayout(ref)!
        defer { LLVMDisposeTargetData(layout) }
        return takeLLVMMessage(LLVMCopyStringRepOfTargetData(layout))
    }

    /// Runs a new-pass-manager pipeline (`CompileOptions.defaultPipeline` unless told). Should the
    /// pipeline hold them (`default<O3>`), the loop vectorizer, SLP and unrolling are off: kernels
    /// already use explicit vectors, and re-vectorising scalar tails only grows code and compile time.
    public func optimize(_ module: IRModule, pipeline: String = CompileOptions.defaultPipeline) throws {
        let options = LLVMCreatePassBuilderOptions()!
        defer { LLVMDisposePassBuilderOptions(options) }
        LLVMPassBuilderOptionsSetLoopVectorization(options, 0)
        LLVMPassBuilderOptionsSetSLPVectorization(options, 0)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, 0)
        LLVMPassBuilderOptionsSetLoopInterleaving(options, 0)
        try checkLLVM(LLVMRunPasses(module.ref, pipeline, ref, options), "running \(pipeline)")
    }

    /// Machine code for `module` as an object file or assembly text.
    public func emit(_ module: IRModule, as fileType: LLVMCodeGenFileType) throws -> [UInt8] {
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        if LLVMTargetMachineEmitToMemoryBuffer(ref, module.ref, fileType, &message, &buffer) != 0 {
            throw LLVMError("code generation failed: \(takeLLVMMessage(message))")
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        let start = UnsafeRawPointer(LLVMGetBufferStart(buffer)!)
        return Array(UnsafeRawBufferPointer(start: start, count: LLVMGetBufferSize(buffer)))
    }
}
