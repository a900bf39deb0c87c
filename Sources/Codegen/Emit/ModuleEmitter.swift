import CLLVM
import GraphIR

/// Emits a kernel plan as an LLVM module: one function per kernel and an entry function that runs
/// them in order. (The JIT puts each kernel in a module of its own instead, to compile them in
/// parallel: see `KernelFunctionEmitter`, `emitRunner` and `ParallelCompiler`.)
///
/// ```
/// i32 PREFIXentry(ptr frame, ptr parallel_for, ptr pool)
/// void parallel_for(ptr pool, ptr task, ptr context, i64 count)    ; provided by the caller
/// void task(ptr context, i64 begin, i64 end)                       ; one per kernel
/// ```
/// `frame` holds one pointer per slot (inputs, outputs, weights, then the arena base). A kernel
/// with one task is called directly; others go through `parallel_for`, which may split
/// `[0, count)` over threads however it likes: every task writes its own part of the output.
/// With `profile`, the frame has two more slots after the arena: a hook
/// `void hook(void *context, int64_t phase)` called after every kernel phase, and its context.
/// Phases are numbered as `KernelPlan.phaseLabels` lists them. Returns the entry's name.
func emitModule(_ plan: KernelPlan, into module: IRModule, symbolPrefix: String, lanes: Int, profile: Bool = false) throws -> String {
    let kernels = KernelFunctionEmitter(module: module, plan: plan, symbolPrefix: symbolPrefix, lanes: lanes, linkage: LLVMInternalLinkage)
    let setupTasks = try plan.setupKernels.enumerated().flatMap { try kernels.emit($1, name: KernelSymbols.setup($0, prefix: symbolPrefix)) }
    let tasks = try plan.kernels.enumerated().flatMap { try kernels.emit($1, name: KernelSymbols.kernel($0, prefix: symbolPrefix)) }
    emitRunners(setup: setupTasks, entry: tasks, into: module, plan: plan, symbolPrefix: symbolPrefix, profile: profile)
    try module.verify()
    return KernelSymbols.entry(prefix: symbolPrefix)
}

/// The symbols a plan's code defines.
enum KernelSymbols {
    static func entry(prefix: String) -> String { "\(prefix)entry" }
    /// Defined only when the plan has setup kernels.
    static func setup(prefix: String) -> String { "\(prefix)setup" }
    static func setup(_ i: Int, prefix: String) -> String { "\(prefix)setup\(i)" }
    static func kernel(_ i: Int, prefix: String) -> String { "\(prefix)kernel\(i)" }
}

/// A task function a kernel (or one phase of a fused kernel) became, and how many tasks it splits into.
struct TaskFunction: Sendable {
    var name: String
    var count: Int
}

/// Emits kernels as task functions `void task(ptr frame, i64 begin, i64 end)` into one module.
final class KernelFunctionEmitter {
    private let module: IRModule
    private let builder: IRBuilder
    private let emit: EmitContext
    private let symbolPrefix: String
    private let lanes: Int
    private let linkage: LLVMLinkage
    private var microKernels: [MatmulEmitter.MicroKernelKind: IRFunction] = [:]

    /// `linkage`: internal when the runner is in the same module, external when it is not.
    init(module: IRModule, plan: KernelPlan, symbolPrefix: String, lanes: Int, linkage: LLVMLinkage) {
        self.module = module
        builder = IRBuilder(module: module)
        emit = EmitContext(builder: builder, plan: plan, lanes: lanes)
        self.symbolPrefix = symbolPrefix
        self.lanes = lanes
        self.linkage = linkage
    }

    /// Emits `kernel` (each phase of a fused one) as task functions named `name` (`name.i` for phases).
    func emit(_ kernel: Kernel, name: String) throws -> [TaskFunction] {
        if case .fused(let group) = kernel {
            return try group.phases.enumerated().flatMap { try emit($1, name: "\(name).\($0)") }
        }
        let emitter = taskEmitter(for: kernel)
        let c = module.context
        let function = module.function(name, c.function(returning: c.void, [c.pointer, c.i64, c.i64]), linkage: linkage)
        builder.begin(function)
        emit.frame = function.parameter(0)
        try emitter.emit(emit, begin: function.parameter(1), end: function.parameter(2))
        builder.returnVoid()
        return [TaskFunction(name: name, count: emitter.taskCount)]
    }

    private func taskEmitter(for kernel: Kernel) -> any TaskEmitter {
        switch kernel {
        case .elementwise(let k): return ElementwiseEmitter(k, lanes: lanes)
        case .reduce(let k): return ReduceEmitter(kernel: k, lanes: lanes)
        case .softmax(let k): return SoftmaxEmitter(kernel: k)
        case .layerNorm(let k): return LayerNormEmitter(kernel: k)
        case .pack(let k): return PackEmitter(kernel: k, lanes: lanes)
        case .matmul(let k):
            let emitter = MatmulEmitter(kernel: k, lanes: lanes)
            // Matmuls of one kind share a micro-kernel function.
            let kind = emitter.microKernelKind
            let micro = microKernels[kind] ?? emitMicroKernel(module, name: "\(symbolPrefix)micro\(microKernels.count)", kind: kind, lanes: lanes)
            microKernels[kind] = micro
            return MatmulTaskEmitter(emitter: emitter, microKernel: micro)
        case .attention(let k): return AttentionEmitter(kernel: k, lanes: lanes)
        case .attentionRows(let k): return AttentionRowsEmitter(kernel: k, lanes: lanes)
        case .pool(let k): return PoolEmitter(kernel: k)
        case .multiReduce(let k): return MultiReduceEmitter(kernel: k, lanes: lanes)
        case .gateMLP(let k): return GateMLPEmitter(kernel: k, lanes: lanes)
        case .channelWeightedSum(let k): return ChannelWeightedSumEmitter(kernel: k, lanes: lanes)
        case .rowDot(let k): return RowDotEmitter(kernel: k)
        case .spatialConv(let k): return SpatialConvEmitter(kernel: k, lanes: lanes)
        case .gather(let k): return GatherEmitter(kernel: k, lanes: lanes)
        case .col2im(let k): return Col2ImEmitter(kernel: k, lanes: lanes)
        case .fused: preconditionFailure("fused kernels are emitted phase by phase")
        }
    }
}

/// What every kernel emitter does: say how many tasks the kernel splits into, and emit the body
/// of `task(frame, begin, end)`, which runs tasks `[begin, end)`.
protocol TaskEmitter {
    var taskCount: Int { get }
    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws
}

extension ElementwiseEmitter: TaskEmitter {}
extension ReduceEmitter: TaskEmitter {}
extension SoftmaxEmitter: TaskEmitter {}
extension LayerNormEmitter: TaskEmitter {}
extension PackEmitter: TaskEmitter {}
extension AttentionEmitter: TaskEmitter {}
extension AttentionRowsEmitter: TaskEmitter {}
extension PoolEmitter: TaskEmitter {}
extension MultiReduceEmitter: TaskEmitter {}
extension GateMLPEmitter: TaskEmitter {}
extension ChannelWeightedSumEmitter: TaskEmitter {}
extension RowDotEmitter: TaskEmitter {}
extension SpatialConvEmitter: TaskEmitter {}
extension GatherEmitter: TaskEmitter {}
extension Col2ImEmitter: TaskEmitter {}

/// A matmul with the micro-kernel function it calls.
private struct MatmulTaskEmitter: TaskEmitter {
    let emitter: MatmulEmitter
    let microKernel: IRFunction
    var taskCount: Int { emitter.taskCount }
    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        try emitter.emit(e, begin: begin, end: end, microKernel: microKernel)
    }
}

/// Emits the runners: `PREFIXsetup` when there are setup tasks, and `PREFIXentry`, each calling its
/// tasks in order with the entry ABI above. Tasks defined in other modules are declared.
func emitRunners(setup: [TaskFunction], entry: [TaskFunction], into module: IRModule, plan: KernelPlan, symbolPrefix: String, profile: Bool) {
    let c = module.context
    let builder = IRBuilder(module: module)
    let taskType = c.function(returning: c.void, [c.pointer, c.i64, c.i64])
    let parallelForType = c.function(returning: c.void, [c.pointer, c.pointer, c.pointer, c.i64])
    let hookType = c.function(returning: c.void, [c.pointer, c.i64])
    let slots = EmitContext.frameSlotCount(plan)
    func emitRunner(_ name: String, _ tasks: [TaskFunction], profiled: Bool) {
        let runner = module.function(name, c.function(returning: c.i32, [c.pointer, c.pointer, c.pointer]))
        builder.begin(runner)
        let (frame, parallelFor, pool) = (runner.parameter(0), runner.parameter(1), runner.parameter(2))
        for (phase, task) in tasks.enumerated() {
            let function = module.function(task.name, taskType)
            if task.count == 1 {
                builder.call(function, [frame, c.i64(0), c.i64(1)])
            } else if task.count > 1 {
                builder.call(IRFunction(ref: parallelFor.ref, type: parallelForType), [pool, function.value, frame, c.i64(task.count)])
            }
            if profiled {
                let hook = builder.load(c.pointer, builder.elementPointer(c.pointer, frame, c.i64(slots)), alignment: 8)
                let context = builder.load(c.pointer, builder.elementPointer(c.pointer, frame, c.i64(slots + 1)), alignment: 8)
                builder.call(IRFunction(ref: hook.ref, type: hookType), [context, c.i64(phase)])
            }
        }
        builder.return(c.i32(0))
    }
    if !setup.isEmpty { emitRunner(KernelSymbols.setup(prefix: symbolPrefix), setup, profiled: false) }
    emitRunner(KernelSymbols.entry(prefix: symbolPrefix), entry, profiled: profile)
}
