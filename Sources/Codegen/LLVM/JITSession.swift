import CLLVM
import Foundation

/// An ORC LLJIT instance compiling for the host (code generation at O3, `LLVMCodeGenLevelAggressive`;
/// the IR pipeline is `CompileOptions.pipeline`). Compiled code lives exactly as long as the
/// session: keep it alive while any function pointer from it may be called.
public final class JITSession {
    private let ref: LLVMOrcLLJITRef

    public init(target: TargetDescription = .host()) throws {
        LLVMSetup.ensureInitialized()
        let builder = LLVMOrcCreateLLJITBuilder()
        let machine = try TargetMachine(target, optimization: LLVMCodeGenLevelAggressive, relocation: LLVMRelocDefault,
                                        codeModel: LLVMCodeModelJITDefault)
        // The target machine builder takes the machine; the LLJIT builder takes the builder.
        LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(machine.release()))
        var jit: LLVMOrcLLJITRef?
        try checkLLVM(LLVMOrcCreateLLJIT(&jit, builder), "creating the JIT")
        ref = jit!
    }

    deinit {
        if let error = LLVMOrcDisposeLLJIT(ref) { LLVMConsumeError(error) }
    }

    private var mainLibrary: LLVMOrcJITDylibRef { LLVMOrcLLJITGetMainJITDylib(ref) }

    /// The data layout modules must use.
    public var dataLayout: String { String(cString: LLVMOrcLLJITGetDataLayoutStr(ref)) }
    public var triple: String { String(cString: LLVMOrcLLJITGetTripleString(ref)) }

    /// Hands `module` (made in a JIT context) to the JIT, which compiles it on first lookup.
    public func add(_ module: IRModule) throws {
        guard let orcContext = module.context.orcContext else {
            preconditionFailure("JIT modules must be made in an IRContext(forJIT:)")
        }
        let threadSafeModule = LLVMOrcCreateNewThreadSafeModule(module.release(), orcContext)
        try checkLLVM(LLVMOrcLLJITAddLLVMIRModule(ref, mainLibrary, threadSafeModule), "adding a module to the JIT")
    }

    /// Hands an object file (relocatable, for the session's target) to the JIT, which links it
    /// on first lookup.
    public func addObject(_ bytes: [UInt8], name: String) throws {
        let buffer = bytes.withUnsafeBytes {
            LLVMCreateMemoryBufferWithMemoryRangeCopy($0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count, name)
        }
        // The JIT takes ownership of the buffer.
        try checkLLVM(LLVMOrcLLJITAddObjectFile(ref, mainLibrary, buffer), "adding \(name) to the JIT")
    }

    /// Makes `name` resolve to `address` in JIT-compiled code (a Swift `@convention(c)` function).
    public func define(_ name: String, address: UInt) throws {
        var pair = LLVMOrcCSymbolMapPairs.Pointee(
            Name: LLVMOrcLLJITMangleAndIntern(ref, name),
            Sym: LLVMJITEvaluatedSymbol(
                Address: LLVMOrcExecutorAddress(address),
                Flags: LLVMJITSymbolFlags(
                    GenericFlags: UInt8(LLVMJITSymbolGenericFlagsExported.rawValue | LLVMJITSymbolGenericFlagsCallable.rawValue),
                    TargetFlags: 0)))
        let unit = LLVMOrcAbsoluteSymbols(&pair, 1)
        try checkLLVM(LLVMOrcJITDylibDefine(mainLibrary, unit), "defining \(name)")
    }

    /// The address of a compiled function, compiling its module if needed.
    public func lookup(_ name: String) throws -> UnsafeRawPointer {
        var address: LLVMOrcExecutorAddress = 0
        try checkLLVM(LLVMOrcLLJITLookup(ref, &address, name), "looking up \(name)")
        guard let pointer = UnsafeRawPointer(bitPattern: UInt(address)) else { throw LLVMError("\(name) resolved to null") }
        return pointer
    }
}
