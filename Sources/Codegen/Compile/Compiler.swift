import CLLVM
import Foundation
import GraphIR

/// Options for compiling a graph to machine code.
public struct CompileOptions: Sendable {
    /// What to generate code for (the host by default).
    public var target: TargetDescription
    /// Prefix of every symbol the module defines.
    public var symbolPrefix: String
    /// Call a timing hook after every kernel phase (see `emitModule`).
    public var profile = false
    /// Pack weight matrices once, in a setup function (`PREFIXsetup`) run before the first run,
    /// instead of on every run. AOT bundles turn it off: their caller owns no persistent buffer.
    public var hoistWeightPacking = true

    /// The LLVM pass pipeline kernels go through (new pass manager syntax).
    public var pipeline = CompileOptions.defaultPipeline
    /// What attnc's kernels need from the optimiser, and no more: the micro-kernels inlined into
    /// their tile loops, stack slots promoted, common expressions merged, loops rotated and their
    /// invariants hoisted. Generated code already holds explicit vectors, so `default<O3>` (the
    /// vectorisers, unrolling, loop idioms) spent about twice the time for runtimes within the
    /// noise (docs/PERFORMANCE.md, 2026-11-22).
    /// (From LLVM 18 on, a bare `instcombine` aborts the process when it has not settled after one
    /// iteration, so the pipeline asks it not to check, as LLVM's own default pipelines do.)
    public static let defaultPipeline: String = {
        let major = Int(LLVMSetup.version.prefix { $0 != "." }) ?? 0
        let instcombine = major >= 18 ? "instcombine<no-verify-fixpoint>" : "instcombine"
        return "cgscc(inline),function(sroa,early-cse<memssa>,\(instcombine),simplifycfg,"
            + "loop-mssa(loop-rotate,licm),gvn,\(instcombine),simplifycfg)"
    }()
    /// Threads the JIT compiles kernels on (each kernel is a module of its own).
    public var compileThreads = ProcessInfo.processInfo.activeProcessorCount

    public init(target: TargetDescription = .host(), symbolPrefix: String = "attnc_") {
        self.target = target
        self.symbolPrefix = symbolPrefix
    }

    /// f32 lanes per vector for the target.
    public var lanes: Int { target.vectorWidth }

    /// The register tile of the matmul micro-kernel: 6 rows by two vectors (12 accumulators of
    /// the 16 vector registers AVX2 has, leaving room for the two right-hand vectors and the broadcast).
    public var tile: MatmulTile { MatmulTile(rows: 6, columns: 2 * lanes) }
}

/// Time spent in each compile stage, in seconds (wall clock).
public struct CompileTimings: Sendable {
    public var plan = 0.0
    /// Making LLVM IR.
    public var emit = 0.0
    /// LLVM's optimisation and code generation (in parallel for the JIT).
    public var llvm = 0.0
    /// The JIT linking the objects.
    public var link = 0.0
    public var total: Double { plan + emit + llvm + link }
}

/// The stages from a graph to machine code, each callable on its own for `attnc dump`.
public enum Compiler {
    /// The kernel plan for a graph with static shapes.
    public static func plan(_ graph: Graph, options: CompileOptions = CompileOptions()) throws -> KernelPlan {
        try planKernels(graph, tile: options.tile, hoistWeightPacking: options.hoistWeightPacking)
    }

    /// The LLVM module for a plan, optimised with `options.pipeline` unless `optimize` is false.
    public static func module(_ plan: KernelPlan, context: IRContext, options: CompileOptions, optimize: Bool = true,
                              timings: inout CompileTimings) throws -> (IRModule, entry: String) {
        let machine = try TargetMachine(options.target)
        let module = IRModule(name: plan.graphName, context: context)
        module.setTarget(triple: options.target.triple, dataLayout: machine.dataLayout)
        var start = Date()
        let entry = try emitModule(plan, into: module, symbolPrefix: options.symbolPrefix, lanes: options.lanes, profile: options.profile)
        timings.emit = Date().timeIntervalSince(start)
        if optimize {
            start = Date()
            try machine.optimize(module, pipeline: options.pipeline)
            timings.llvm = Date().timeIntervalSince(start)
        }
        return (module, entry)
    }

    /// Textual LLVM IR of a graph, after optimisation.
    public static func llvmText(_ graph: Graph, options: CompileOptions = CompileOptions()) throws -> String {
        var timings = CompileTimings()
        let (module, _) = try module(try plan(graph, options: options), context: IRContext(), options: options, timings: &timings)
        return module.text
    }

    /// Assembly for a graph.
    public static func assembly(_ graph: Graph, options: CompileOptions = CompileOptions()) throws -> String {
        var timings = CompileTimings()
        let (module, _) = try module(try plan(graph, options: options), context: IRContext(), options: options, timings: &timings)
        let bytes = try TargetMachine(options.target).emit(module, as: LLVMAssemblyFile)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// JIT-compiles a graph for the host: each kernel a module of its own, compiled on
    /// `options.compileThreads` threads, then linked in one JIT session.
    public static func jit(_ graph: Graph, options: CompileOptions = CompileOptions()) throws -> JITModule {
        var timings = CompileTimings()
        var start = Date()
        let plan = try plan(graph, options: options)
        timings.plan = Date().timeIntervalSince(start)
        let compiled = try ParallelCompiler.compile(plan, options: options, threads: options.compileThreads)
        (timings.emit, timings.llvm) = (compiled.emit, compiled.llvm)
        start = Date()
        let session = try JITSession(target: options.target)
        for (i, object) in compiled.objects.enumerated() { try session.addObject(object, name: "\(plan.graphName).\(i).o") }
        let entry = try session.lookup(KernelSymbols.entry(prefix: options.symbolPrefix))
        let setup = plan.setupKernels.isEmpty ? nil : try session.lookup(KernelSymbols.setup(prefix: options.symbolPrefix))
        timings.link = Date().timeIntervalSince(start)
        return JITModule(plan: plan, session: session, entryAddress: entry, setupAddress: setup, timings: timings)
    }
}

/// The C signature of generated entry functions.
public typealias EntryFunction = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?,
                                                 UnsafeMutableRawPointer?) -> Int32

/// JIT-compiled code for one graph. The code lives as long as this object.
public final class JITModule {
    public let plan: KernelPlan
    private let session: JITSession
    /// Address of the entry function (see `emitModule` for its ABI).
    public let entryAddress: UnsafeRawPointer
    /// The setup function (same ABI), run once before the first run; nil when there is none.
    public let setupAddress: UnsafeRawPointer?
    public let timings: CompileTimings

    init(plan: KernelPlan, session: JITSession, entryAddress: UnsafeRawPointer, setupAddress: UnsafeRawPointer?, timings: CompileTimings) {
        self.plan = plan
        self.session = session
        self.entryAddress = entryAddress
        self.setupAddress = setupAddress
        self.timings = timings
    }

    /// The entry function, callable from Swift.
    public var entry: EntryFunction { unsafeBitCast(entryAddress, to: EntryFunction.self) }
}
