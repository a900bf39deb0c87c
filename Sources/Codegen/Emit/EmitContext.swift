import CLLVM
import GraphIR

/// What every kernel emitter needs: the builder, the plan, the vector width, and the frame of
/// buffer pointers the kernel function receives.
///
/// Frame layout (the ABI between generated code and its caller): one pointer per slot, inputs
/// first, then outputs, then weights, then the arena base.
final class EmitContext {
    let builder: IRBuilder
    let plan: KernelPlan
    /// f32 lanes per vector register (8 on AVX2).
    let lanes: Int
    /// Globals holding constant buffers, made on first use.
    private var constantGlobals: [BufferID: IRValue] = [:]
    /// The current kernel function's frame argument.
    var frame: IRValue!

    init(builder: IRBuilder, plan: KernelPlan, lanes: Int) {
        self.builder = builder
        self.plan = plan
        self.lanes = lanes
    }

    var context: IRContext { builder.context }
    var module: IRModule { builder.module }

    // MARK: Frame

    static func frameSlot(_ storage: BufferStorage, in plan: KernelPlan) -> Int? {
        switch storage {
        case .input(let i): return i
        case .output(let i): return plan.inputs.count + i
        case .weight(let i): return plan.inputs.count + plan.outputs.count + i
        case .arena: return plan.inputs.count + plan.outputs.count + plan.weights.count
        case .persistent: return plan.inputs.count + plan.outputs.count + plan.weights.count + 1
        case .constant: return nil
        }
    }

    /// Slots: inputs, outputs, weights, the arena, then the persistent buffer when there is one.
    static func frameSlotCount(_ plan: KernelPlan) -> Int {
        plan.inputs.count + plan.outputs.count + plan.weights.count + 1 + (plan.setupKernels.isEmpty ? 0 : 1)
    }

    /// The base address of a buffer.
    func pointer(to buffer: BufferID) -> IRValue {
        let storage = plan[buffer].storage
        guard let slot = EmitContext.frameSlot(storage, in: plan) else { return constantGlobal(buffer) }
        let base = builder.load(context.pointer, builder.elementPointer(context.pointer, frame, context.i64(slot)), alignment: 8)
        switch storage {
        case .arena(let offset), .persistent(let offset):
            return builder.elementPointer(context.i8, base, context.i64(offset))
        default:
            break
        }
        return base
    }

    private func constantGlobal(_ buffer: BufferID) -> IRValue {
        if let global = constantGlobals[buffer] { return global }
        guard case .constant(let data) = plan[buffer].storage else { preconditionFailure("not a constant buffer") }
        let global = module.constantGlobal("constant.\(buffer.index)", context.constantBytes(storageBytes(data)), alignment: 64)
        constantGlobals[buffer] = global
        return global
    }

    // MARK: Types

    /// The type a value of `elementType` has in registers.
    func registerType(_ elementType: ElementType) throws -> IRType {
        switch elementType {
        case .f32: return context.f32
        case .i1: return context.i1
        case .i32: return context.i32
        case .i64: return context.i64
        case .i8, .u8: return context.i8
        case .f64, .f16, .bf16: throw PlanError("the code generator does not support \(elementType.rawValue) tensors yet")
        }
    }

    /// The type a value of `elementType` has in memory (`i1` is a byte).
    func memoryType(_ elementType: ElementType) throws -> IRType {
        elementType == .i1 ? context.i8 : try registerType(elementType)
    }

    // MARK: Loads and stores

    /// Loads `count` lanes (1 = scalar) of `elementType` at `pointer[index]`, contiguous.
    func load(_ elementType: ElementType, _ pointer: IRValue, _ index: IRValue, count: Int) throws -> IRValue {
        let memory = try memoryType(elementType)
        let raw = builder.load(memory.vector(count), builder.elementPointer(memory, pointer, index), alignment: elementType.byteWidth)
        guard elementType == .i1 else { return raw }
        return builder.icmp(LLVMIntNE, raw, context.constant(0, memory.vector(count)))
    }

    /// Stores `value` (scalar or vector) of `elementType` at `pointer[index]`, contiguous.
    func store(_ value: IRValue, _ elementType: ElementType, _ pointer: IRValue, _ index: IRValue) throws {
        let memory = try memoryType(elementType)
        let stored = elementType == .i1 ? builder.zeroExtend(value, memory.vector(value.type.lanes)) : value
        builder.store(stored, builder.elementPointer(memory, pointer, index), alignment: elementType.byteWidth)
    }

    // MARK: Integer helpers

    func i64(_ n: Int) -> IRValue { context.i64(n) }

    func minimum(_ a: IRValue, _ b: IRValue) -> IRValue { builder.select(builder.icmp(LLVMIntSLT, a, b), a, b) }

    /// Horizontal combine of a vector's lanes by halving (a tree, not a serial chain).
    func reduceLanes(_ vector: IRValue, _ combine: (IRValue, IRValue) -> IRValue) -> IRValue {
        var v = vector
        var width = v.type.lanes
        while width > 1 {
            width /= 2
            let low = builder.shuffle(v, v, (0..<width).map { Int32($0) })
            let high = builder.shuffle(v, v, (0..<width).map { Int32($0 + width) })
            v = combine(low, high)
        }
        return v.type.isVector ? builder.extractElement(v, 0) : v
    }
}

/// The bytes of a tensor as stored in memory (f32 little-endian, i1 one byte each).
func storageBytes(_ data: TensorData) -> [UInt8] {
    switch data.storage {
    case .floats(let values):
        return values.withUnsafeBytes { Array($0) }
    case .booleans(let values):
        return values.map { $0 ? 1 : 0 }
    case .integers(let values):
        switch data.elementType {
        case .i32: return values.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
        case .i8, .u8: return values.map { UInt8(truncatingIfNeeded: $0) }
        default: return values.withUnsafeBytes { Array($0) }
        }
    }
}
