import CLLVM
import GraphIR

/// How an AOT module gets its weights.
public enum WeightsMode: String, CaseIterable, Sendable {
    /// One 64-byte aligned constant in the object.
    case embed
    /// `NAME.weights` beside the object, handed over with `PREFIX_set_weights`.
    case file
}

/// What `attnc compile` asks of the AOT compiler.
public struct AOTOptions: Sendable {
    /// Every symbol the object defines starts with `prefix_` (a C identifier, e.g. `cbam`).
    public var prefix: String
    public var target: TargetDescription
    public var weightsMode: WeightsMode
    /// The weights file's name as the header mentions it (file mode), e.g. `cbam.weights`.
    public var weightsFileName: String
    /// What the header says it was generated from, e.g. `cbam.gir` (no directories: the
    /// header must not depend on where the compiler ran).
    public var sourceName: String
    /// The generator the header names, e.g. `attnc 0.1.0`.
    public var generator: String

    public init(prefix: String, target: TargetDescription, weightsMode: WeightsMode = .embed, weightsFileName: String? = nil,
                sourceName: String, generator: String) {
        self.prefix = prefix
        self.target = target
        self.weightsMode = weightsMode
        self.weightsFileName = weightsFileName ?? "\(prefix).weights"
        self.sourceName = sourceName
        self.generator = generator
    }
}

/// The artifacts of an ahead-of-time compile: what `attnc compile` writes.
public struct AOTBundle {
    /// The relocatable object (ELF on Linux).
    public let object: [UInt8]
    /// The C header.
    public let header: String
    /// The `.weights` file in file mode, nil when the weights are embedded.
    public let weightsFile: [UInt8]?
    public let plan: KernelPlan
    /// Bytes of scratch `PREFIX_run` needs (`PREFIX_scratch_size()`).
    public let scratchBytes: Int
}

/// Compiles a graph into an object file and a C header that need no runtime (docs/AOT.md).
///
/// The object holds the kernels and entry function `Compiler.module` emits, made internal, and
/// C-callable wrappers (`WrapperEmitter`) emitted as LLVM IR into the same module, so it needs
/// no other object. Every symbol it defines, local ones included, starts with the prefix.
public enum AOTCompiler {
    /// Compiles `graph` (optimised, every dim static) with `weights` in the graph's weight order.
    public static func compile(_ graph: Graph, weights: [TensorData], options: AOTOptions) throws -> AOTBundle {
        guard CIdentifier.isValid(options.prefix) else {
            throw Diagnostic(.error, "the symbol prefix '\(options.prefix)' is not a C identifier (letters, digits and _, not starting with a digit)")
        }
        for id in graph.inputs + graph.outputs where graph.type(of: id).staticShape == nil {
            throw Diagnostic(.error, "'\(graph[id].name ?? "")' has symbolic dims (\(graph.type(of: id))); bind them with --bind")
        }
        let symbolPrefix = options.prefix + "_"
        var compileOptions = CompileOptions(target: options.target, symbolPrefix: symbolPrefix)
        compileOptions.hoistWeightPacking = false
        let plan = try Compiler.plan(graph, options: compileOptions)
        let layout = try WeightsLayout(graph: graph, weights: weights)
        let scratchBytes = (plan.arenaBytes + 63) / 64 * 64

        let context = IRContext()
        var timings = CompileTimings()
        let (module, entryName) = try Compiler.module(plan, context: context, options: compileOptions, optimize: false, timings: &timings)
        LLVMSetSourceFileName(module.ref, options.prefix, options.prefix.utf8.count)
        LLVMSetModuleIdentifier(module.ref, options.prefix, options.prefix.utf8.count)
        let entry = LLVMGetNamedFunction(module.ref, entryName)!
        LLVMSetLinkage(entry, LLVMInternalLinkage)
        let entryType = context.function(returning: context.i32, [context.pointer, context.pointer, context.pointer])
        WrapperEmitter(module: module, plan: plan, prefix: options.prefix, entry: IRFunction(ref: entry, type: entryType),
                       weights: layout, mode: options.weightsMode, scratchBytes: scratchBytes).emit()
        try module.verify()

        let machine = try TargetMachine(options.target)
        try machine.optimize(module)
        prefixLocalSymbols(of: module, with: symbolPrefix)
        // Code generation mutates the module it emits: emit from a copy.
        let object = try machine.emit(module.clone(), as: LLVMObjectFile)

        let header = HeaderWriter(graph: graph, options: options, layout: layout, scratchBytes: scratchBytes).text
        return AOTBundle(object: object, header: header, weightsFile: options.weightsMode == .file ? layout.file : nil,
                         plan: plan, scratchBytes: scratchBytes)
    }

    /// Renames every defined function and global that would reach the object's symbol table
    /// without the prefix (helpers the vector math or the optimiser added, `constant.N` tables).
    /// Private symbols become `.L` labels that no symbol table lists, so they keep their names.
    static func prefixLocalSymbols(of module: IRModule, with prefix: String) {
        func rename(_ value: LLVMValueRef) {
            guard LLVMIsDeclaration(value) == 0, LLVMGetLinkage(value) != LLVMPrivateLinkage else { return }
            var length = 0
            let name = LLVMGetValueName2(value, &length).map { String(cString: $0) } ?? ""
            guard !name.hasPrefix(prefix) else { return }
            let renamed = prefix + (name.isEmpty ? "unnamed" : name)
            LLVMSetValueName2(value, renamed, renamed.utf8.count)
        }
        var function = LLVMGetFirstFunction(module.ref)
        while let current = function {
            rename(current)
            function = LLVMGetNextFunction(current)
        }
        var global = LLVMGetFirstGlobal(module.ref)
        while let current = global {
            rename(current)
            global = LLVMGetNextGlobal(current)
        }
    }
}
