import CLLVM
import GraphIR

/// Emits the C ABI of an AOT module as LLVM IR, around the module's internal entry function:
///
/// ```
/// size_t PREFIX_scratch_size(void);
/// int    PREFIX_run(const float *const *inputs, float *const *outputs, void *scratch);
/// void   PREFIX_set_parallel_for(PREFIX_parallel_for_fn fn, void *ctx);
/// int    PREFIX_set_weights(const void *data, size_t size);     // weights mode file only
/// ```
/// `run` checks its arguments (returning an `AOTStatus` instead of crashing), builds the frame
/// the entry expects — inputs, outputs, weights, then the scratch base — and calls the entry with
/// the caller's parallel-for, or with a serial one that runs the whole range as one chunk.
struct WrapperEmitter {
    let module: IRModule
    let plan: KernelPlan
    let prefix: String
    let entry: IRFunction
    let weights: WeightsLayout
    let mode: WeightsMode
    let scratchBytes: Int

    private var c: IRContext { module.context }

    func emit() {
        let parallelForType = c.function(returning: c.void, [c.pointer, c.pointer, c.pointer, c.i64])
        let serial = emitSerialParallelFor(parallelForType)
        let parallelFor = module.variable("\(prefix)_parallel_for", c.pointer)
        let parallelForContext = module.variable("\(prefix)_parallel_for_context", c.pointer)
        emitSetParallelFor(parallelFor, parallelForContext)
        emitScratchSize()
        let weightsBase: WeightsBase
        switch mode {
        case .embed:
            weightsBase = .embedded(weights.payload.isEmpty ? nil
                : module.constantGlobal("\(prefix)_weights", c.constantBytes(weights.payload), alignment: WeightsLayout.alignment))
        case .file:
            let data = module.variable("\(prefix)_weights_data", c.pointer)
            LLVMSetAlignment(data.ref, 8)
            emitSetWeights(data)
            weightsBase = .file(data)
        }
        emitRun(weightsBase: weightsBase, parallelFor: parallelFor, parallelForContext: parallelForContext, serial: serial)
    }

    private enum WeightsBase {
        case embedded(IRValue?)
        /// The global `set_weights` stores the file's address in.
        case file(IRValue)
    }

    /// `void serial(void *ctx, task_fn task, void *task_ctx, int64_t count)`: the whole range at once.
    private func emitSerialParallelFor(_ type: IRType) -> IRFunction {
        let function = module.function("\(prefix)_serial_parallel_for", type, linkage: LLVMInternalLinkage)
        let b = IRBuilder(module: module)
        b.begin(function)
        let taskType = c.function(returning: c.void, [c.pointer, c.i64, c.i64])
        let (task, taskContext, count) = (function.parameter(1), function.parameter(2), function.parameter(3))
        b.ifThen(b.icmp(LLVMIntSGT, count, c.i64(0))) {
            b.call(IRFunction(ref: task.ref, type: taskType), [taskContext, c.i64(0), count])
        }
        b.returnVoid()
        return function
    }

    private func emitSetParallelFor(_ parallelFor: IRValue, _ context: IRValue) {
        let function = module.function("\(prefix)_set_parallel_for", c.function(returning: c.void, [c.pointer, c.pointer]))
        let b = IRBuilder(module: module)
        b.begin(function)
        b.store(function.parameter(0), parallelFor, alignment: 8)
        b.store(function.parameter(1), context, alignment: 8)
        b.returnVoid()
    }

    private func emitScratchSize() {
        let function = module.function("\(prefix)_scratch_size", c.function(returning: c.i64, []))
        let b = IRBuilder(module: module)
        b.begin(function)
        b.return(c.i64(scratchBytes))
    }

    private func emitRun(weightsBase: WeightsBase, parallelFor: IRValue, parallelForContext: IRValue, serial: IRFunction) {
        let function = module.function("\(prefix)_run", c.function(returning: c.i32, [c.pointer, c.pointer, c.pointer]))
        let b = IRBuilder(module: module)
        b.begin(function)
        let (inputs, outputs, scratch) = (function.parameter(0), function.parameter(1), function.parameter(2))
        let frame = b.stackSlot(c.array(c.pointer, count: EmitContext.frameSlotCount(plan)), alignment: 8)
        var slot = 0
        func store(_ pointer: IRValue) {
            b.store(pointer, b.elementPointer(c.pointer, frame, c.i64(slot)), alignment: 8)
            slot += 1
        }
        for (array, count, status) in [(inputs, plan.inputs.count, AOTStatus.nullInputs), (outputs, plan.outputs.count, .nullOutputs)] {
            fail(b, if: isNull(b, array), status)
            for i in 0..<count {
                let pointer = b.load(c.pointer, b.elementPointer(c.pointer, array, c.i64(i)), alignment: 8)
                fail(b, if: isNull(b, pointer), status)
                store(pointer)
            }
        }
        if scratchBytes > 0 {
            fail(b, if: isNull(b, scratch), .nullScratch)
            fail(b, if: isMisaligned(b, scratch), .misalignedScratch)
        }
        let base: IRValue?
        switch weightsBase {
        case .embedded(let global):
            base = global
        case .file(let data):
            let file = b.load(c.pointer, data, alignment: 8)
            fail(b, if: isNull(b, file), .noWeights)
            base = b.elementPointer(c.i8, file, c.i64(weights.headerBytes))
        }
        for entry in weights.entries {
            store(b.elementPointer(c.i8, base!, c.i64(entry.offset)))
        }
        store(scratch)
        precondition(slot == EmitContext.frameSlotCount(plan), "frame has \(slot) slots, the entry expects \(EmitContext.frameSlotCount(plan))")
        let callerParallelFor = b.load(c.pointer, parallelFor, alignment: 8)
        let chosen = b.select(isNull(b, callerParallelFor), serial.value, callerParallelFor)
        let context = b.load(c.pointer, parallelForContext, alignment: 8)
        b.return(b.call(entry, [frame, chosen, context]))
    }

    /// `int set_weights(const void *data, size_t size)`: validates a `.weights` file in memory
    /// and keeps its address (the caller keeps the memory alive and unchanged).
    private func emitSetWeights(_ data: IRValue) {
        let function = module.function("\(prefix)_set_weights", c.function(returning: c.i32, [c.pointer, c.i64]))
        let b = IRBuilder(module: module)
        b.begin(function)
        let (file, size) = (function.parameter(0), function.parameter(1))
        fail(b, if: isNull(b, file), .nullWeights)
        fail(b, if: isMisaligned(b, file), .misalignedWeights)
        fail(b, if: b.icmp(LLVMIntNE, size, c.i64(weights.fileBytes)), .weightsSize)
        func field(_ offset: Int) -> IRValue { b.load(c.i64, b.elementPointer(c.i8, file, c.i64(offset)), alignment: 8) }
        let magic = WeightsLayout.magic.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let expected: [(offset: Int, value: UInt64)] = [
            (0, magic),
            (8, UInt64(WeightsLayout.version) | UInt64(weights.entries.count) << 32),
            (16, UInt64(weights.headerBytes)),
            (24, UInt64(weights.payload.count)),
            (40, weights.layoutHash),
        ]
        for (offset, value) in expected {
            fail(b, if: b.icmp(LLVMIntNE, field(offset), constant(value)), .weightsFormat)
        }
        let checksum = b.forLoop(c.i64(weights.headerBytes), c.i64(weights.fileBytes), carrying: [constant(FNV1a.offsetBasis)]) { i, hash in
            let byte = b.zeroExtend(b.load(c.i8, b.elementPointer(c.i8, file, i), alignment: 1), c.i64)
            return [b.mul(b.xor(hash[0], byte), constant(FNV1a.prime))]
        }
        fail(b, if: b.icmp(LLVMIntNE, checksum[0], field(32)), .weightsChecksum)
        b.store(file, data, alignment: 8)
        b.return(c.i32(AOTStatus.ok.rawValue))
    }

    // MARK: Helpers

    /// Returns `status` from the function when `condition` holds, and goes on otherwise.
    private func fail(_ b: IRBuilder, if condition: IRValue, _ status: AOTStatus) {
        let failed = b.block("fail"), next = b.block("next")
        b.branch(if: condition, then: failed, else: next)
        b.position(at: failed)
        b.return(c.i32(status.rawValue))
        b.position(at: next)
    }

    private func isNull(_ b: IRBuilder, _ pointer: IRValue) -> IRValue { b.icmp(LLVMIntEQ, pointer, c.null(c.pointer)) }

    /// Whether `pointer` is not 64-byte aligned.
    private func isMisaligned(_ b: IRBuilder, _ pointer: IRValue) -> IRValue {
        let address = IRValue(ref: LLVMBuildPtrToInt(b.ref, pointer.ref, c.i64.ref, ""))
        return b.icmp(LLVMIntNE, b.and(address, c.i64(WeightsLayout.alignment - 1)), c.i64(0))
    }

    private func constant(_ value: UInt64) -> IRValue { c.i64(Int(Int64(bitPattern: value))) }
}
