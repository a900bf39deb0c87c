import CLLVM

/// Two tiny kernels that measure the machine's ceilings, JIT-compiled like any graph:
///
/// - `probe_fma(i64 iterations, ptr sink)`: 12 independent chains of vector FMAs, enough to keep
///   both FMA pipes busy through their latency; 2 · lanes · 12 FLOPs per iteration.
/// - `probe_triad(ptr frame, i64 begin, i64 end)`: STREAM's triad `a[i] = b[i] + 3·c[i]` over
///   `[begin, end)`, with `frame` holding the three array pointers; a parallel-for task.
public final class ProbeKernels {
    public typealias FMAFunction = @convention(c) (Int64, UnsafeMutableRawPointer?) -> Void
    public typealias TaskFunction = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64) -> Void

    public static let chains = 12
    public let lanes: Int
    public let fma: FMAFunction
    public let triad: TaskFunction
    private let session: JITSession

    public init(target: TargetDescription = .host()) throws {
        lanes = target.vectorWidth
        session = try JITSession(target: target)
        let context = IRContext(forJIT: ())
        let module = IRModule(name: "probe", context: context)
        let machine = try TargetMachine(target)
        module.setTarget(triple: target.triple, dataLayout: machine.dataLayout)
        let b = IRBuilder(module: module)
        let vector = context.f32.vector(lanes)

        let fmaFunction = module.function("probe_fma", context.function(returning: context.void, [context.i64, context.pointer]))
        b.begin(fmaFunction)
        let initial = (0..<Self.chains).map { context.constant(Double($0) * 0.001, vector) }
        let multiplier = context.constant(0.999999, vector), addend = context.constant(0.000001, vector)
        let sums = b.forLoop(context.i64(0), fmaFunction.parameter(0), carrying: initial) { _, acc in
            acc.map { b.multiplyAdd($0, multiplier, addend) }
        }
        let total = sums.dropFirst().reduce(sums[0]) { b.fadd($0, $1) }
        b.store(total, fmaFunction.parameter(1), alignment: 4)
        b.returnVoid()

        let triadFunction = module.function("probe_triad", context.function(returning: context.void, [context.pointer, context.i64, context.i64]))
        b.begin(triadFunction)
        let frame = triadFunction.parameter(0)
        let arrays = (0..<3).map { b.load(context.pointer, b.elementPointer(context.pointer, frame, context.i64($0)), alignment: 8) }
        let three = context.constant(3.0, vector)
        b.forLoop(triadFunction.parameter(1), triadFunction.parameter(2), step: lanes) { i, _ in
            let x = b.load(vector, b.elementPointer(context.f32, arrays[1], i), alignment: 4)
            let y = b.load(vector, b.elementPointer(context.f32, arrays[2], i), alignment: 4)
            b.store(b.multiplyAdd(y, three, x), b.elementPointer(context.f32, arrays[0], i), alignment: 4)
            return []
        }
        b.returnVoid()

        try module.verify()
        try machine.optimize(module)
        try session.add(module)
        fma = unsafeBitCast(try session.lookup("probe_fma"), to: FMAFunction.self)
        triad = unsafeBitCast(try session.lookup("probe_triad"), to: TaskFunction.self)
    }
}
