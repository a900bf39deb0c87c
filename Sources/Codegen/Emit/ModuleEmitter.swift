import CLLVM
import GraphIR

/// Emits a kernel plan as an LLVM module: one function per kernel and an entry function that runs
/// them in order.
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
    let c = module.context
    let builder = IRBuilder(module: module)
    let emit = EmitContext(builder: builder, plan: plan, lanes: lanes)
    let taskType = c.function(returning: c.void, [c.pointer, c.i64, c.i64])
    var microKernels: [MatmulEmitter.MicroKernelKind: IRFunction] = [:]

    var tasks: [(function: IRFunction, count: Int)] = []
    /// Emits one kernel (each phase of a fused one) as task functions.
    func emitKernel(_ kernel: Kernel, name: String) throws {
        if case .fused(let group) = kernel {
            for (i, phase) in group.phases.enumerated() { try emitKernel(phase, name: "\(name).\(i)") }
            return
        }
        let function = module.function(name, taskType, linkage: LLVMInternalLinkage)
        builder.begin(function)
        emit.frame = function.parameter(0)
        let (begin, end) = (function.parameter(1), function.parameter(2))
        let count: Int
        switch kernel {
        case .elementwise(let k):
            let emitter = ElementwiseEmitter(k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .reduce(let k):
            let emitter = ReduceEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .softmax(let k):
            let emitter = SoftmaxEmitter(kernel: k)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .layerNorm(let k):
            let emitter = LayerNormEmitter(kernel: k)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .pack(let k):
            let emitter = PackEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .matmul(let k):
            let emitter = MatmulEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            let kind = emitter.microKernelKind
            let micro = microKernels[kind] ?? emitMicroKernel(module, name: "\(symbolPrefix)micro\(microKernels.count)", kind: kind, lanes: lanes)
            microKernels[kind] = micro
            builder.position(at: builder.currentBlock)
            try emitter.emit(emit, begin: begin, end: end, microKernel: micro)
        case .attention(let k):
            let emitter = AttentionEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .attentionRows(let k):
            let emitter = AttentionRowsEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .pool(let k):
            let emitter = PoolEmitter(kernel: k)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .multiReduce(let k):
            let emitter = MultiReduceEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .gateMLP(let k):
            let emitter = GateMLPEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .channelWeightedSum(let k):
            let emitter = ChannelWeightedSumEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .rowDot(let k):
            let emitter = RowDotEmitter(kernel: k)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .spatialConv(let k):
            let emitter = SpatialConvEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .gather(let k):
            let emitter = GatherEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .col2im(let k):
            let emitter = Col2ImEmitter(kernel: k, lanes: lanes)
            count = emitter.taskCount
            try emitter.emit(emit, begin: begin, end: end)
        case .fused:
            preconditionFailure("handled above")
        }
        builder.returnVoid()
        tasks.append((function, count))
    }
    for (i, kernel) in plan.setupKernels.enumerated() { try emitKernel(kernel, name: "\(symbolPrefix)setup\(i)") }
    let setupTasks = tasks
    tasks = []
    for (i, kernel) in plan.kernels.enumerated() { try emitKernel(kernel, name: "\(symbolPrefix)kernel\(i)") }

    let parallelForType = c.function(returning: c.void, [c.pointer, c.pointer, c.pointer, c.i64])
    let hookType = c.function(returning: c.void, [c.pointer, c.i64])
    let slots = EmitContext.frameSlotCount(plan)
    /// An entry-style function running `tasks` in order.
    func emitRunner(_ name: String, _ tasks: [(function: IRFunction, count: Int)], profiled: Bool) {
        let runner = module.function(name, c.function(returning: c.i32, [c.pointer, c.pointer, c.pointer]))
        builder.begin(runner)
        let (frame, parallelFor, pool) = (runner.parameter(0), runner.parameter(1), runner.parameter(2))
        for (phase, (function, count)) in tasks.enumerated() {
            if count == 1 {
                builder.call(function, [frame, c.i64(0), c.i64(1)])
            } else if count > 1 {
                builder.call(IRFunction(ref: parallelFor.ref, type: parallelForType), [pool, function.value, frame, c.i64(count)])
            }
            if profiled {
                let hook = builder.load(c.pointer, builder.elementPointer(c.pointer, frame, c.i64(slots)), alignment: 8)
                let context = builder.load(c.pointer, builder.elementPointer(c.pointer, frame, c.i64(slots + 1)), alignment: 8)
                builder.call(IRFunction(ref: hook.ref, type: hookType), [context, c.i64(phase)])
            }
        }
        builder.return(c.i32(0))
    }
    // The setup runner exists only when there are setup kernels (`PREFIXsetup`, same ABI).
    if !setupTasks.isEmpty { emitRunner("\(symbolPrefix)setup", setupTasks, profiled: false) }
    let entryName = "\(symbolPrefix)entry"
    emitRunner(entryName, tasks, profiled: profile)
    try module.verify()
    return entryName
}
