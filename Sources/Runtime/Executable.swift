import Foundation
import GraphIR

/// The C signature of a compiled graph's entry function:
/// `int entry(void **frame, parallel_for_fn parallel_for, void *pool)`.
public typealias GeneratedEntry = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, ThreadPool.ParallelForFunction?,
                                                  UnsafeMutableRawPointer?) -> Int32

/// A compiled graph ready to run: its machine code, its weights in aligned memory, one arena for
/// every intermediate buffer, and input and output buffers it reuses on every call.
///
/// The frame handed to the code holds one pointer per slot: inputs, outputs, weights, then the
/// arena (the layout `Codegen.emitModule` expects).
public final class Executable {
    public struct Port: Sendable {
        public let name: String
        public let type: TensorType

        public init(name: String, type: TensorType) {
            self.name = name
            self.type = type
        }
    }

    public let inputs: [Port]
    public let outputs: [Port]
    /// Bytes of the intermediate-buffer arena.
    public let arenaBytes: Int

    private let entry: GeneratedEntry
    /// Keeps the code alive (the JIT session owns it).
    private let codeOwner: AnyObject
    private let pool: ThreadPool?
    private let inputBuffers: [AlignedBuffer]
    private let outputBuffers: [AlignedBuffer]
    private let weightBuffers: [AlignedBuffer]
    private let arena: AlignedBuffer
    /// What the setup function fills once (packed weights).
    private let persistent: AlignedBuffer
    private var frame: [UnsafeMutableRawPointer?]
    private let timer: PhaseTimer?

    /// - Parameters:
    ///   - entryAddress: the compiled entry function.
    ///   - codeOwner: whatever keeps the machine code mapped; held as long as the executable.
    ///   - weights: bound weight tensors in the graph's weight order.
    ///   - pool: the threads kernels run on; nil runs everything on the caller.
    ///   - phases: with a count, the code was compiled to call a timing hook after each of that
    ///     many phases (`CompileOptions.profile`); `phaseSeconds` then holds the last run's times.
    ///   - setupAddress: a function with the entry's ABI that fills the persistent buffer
    ///     (`persistentBytes`) from the weights; run once, here.
    public init(entryAddress: UnsafeRawPointer, setupAddress: UnsafeRawPointer?, persistentBytes: Int, codeOwner: AnyObject,
                inputs: [Port], outputs: [Port], weights: [TensorData], arenaBytes: Int, pool: ThreadPool?,
                profiledPhases phases: Int? = nil) throws {
        entry = unsafeBitCast(entryAddress, to: GeneratedEntry.self)
        self.codeOwner = codeOwner
        self.inputs = inputs
        self.outputs = outputs
        self.arenaBytes = arenaBytes
        self.pool = pool
        let bufferBytes = MemoryLimit.bytes(of: (inputs + outputs).map(\.type) + weights.map(\.type))
        try MemoryLimit.check(bufferBytes.addingReportingOverflow(arenaBytes + persistentBytes).overflow ? .max : bufferBytes + arenaBytes + persistentBytes,
                              for: "the compiled graph (inputs, outputs, weights and intermediate buffers)")
        func allocate(_ port: Port) throws -> AlignedBuffer {
            try AlignedBuffer(byteCount: port.type.elementCount! * port.type.elementType.byteWidth)
        }
        inputBuffers = try inputs.map(allocate)
        outputBuffers = try outputs.map(allocate)
        weightBuffers = try weights.map { try AlignedBuffer(copying: $0) }
        arena = try AlignedBuffer(byteCount: arenaBytes)
        persistent = try AlignedBuffer(byteCount: persistentBytes)
        frame = (inputBuffers + outputBuffers + weightBuffers + [arena] + (setupAddress == nil ? [] : [persistent])).map(\.baseAddress)
        timer = phases.map { PhaseTimer(phases: $0) }
        if let setupAddress { run(unsafeBitCast(setupAddress, to: GeneratedEntry.self)) }
        if let timer {
            frame.append(unsafeBitCast(PhaseTimer.hook, to: UnsafeMutableRawPointer.self))
            frame.append(Unmanaged.passUnretained(timer).toOpaque())
        }
    }

    /// Seconds each phase took in the last `execute()` (profiled executables only).
    public var phaseSeconds: [Double] {
        guard let timer else { return [] }
        return timer.stamps.indices.map { Double(timer.stamps[$0] - ($0 == 0 ? timer.start : timer.stamps[$0 - 1])) / 1e9 }
    }

    /// Threads the kernels run on.
    public var threadCount: Int { pool?.threadCount ?? 1 }

    /// The buffer input `i` is read from; write it before `execute()`.
    public func inputBuffer(_ i: Int) -> AlignedBuffer { inputBuffers[i] }

    /// The buffer output `i` is written to by `execute()`.
    public func outputBuffer(_ i: Int) -> AlignedBuffer { outputBuffers[i] }

    /// Runs the code on whatever the input buffers hold.
    public func execute() {
        timer?.start = DispatchTime.now().uptimeNanoseconds
        run(entry)
    }

    private func run(_ function: GeneratedEntry) {
        let status = frame.withUnsafeMutableBufferPointer { slots in
            function(slots.baseAddress, pool == nil ? ThreadPool.serialParallelFor : ThreadPool.cParallelFor, pool?.unmanagedPointer)
        }
        precondition(status == 0, "compiled code returned \(status)")
    }

    /// Copies the inputs in, runs, and returns copies of the outputs.
    public func run(_ tensors: [TensorData]) throws -> [TensorData] {
        precondition(tensors.count == inputs.count, "\(tensors.count) inputs for \(inputs.count) ports")
        for (i, tensor) in tensors.enumerated() {
            let copy = try AlignedBuffer(copying: tensor)
            inputBuffers[i].baseAddress.copyMemory(from: copy.baseAddress, byteCount: min(copy.byteCount, inputBuffers[i].byteCount))
        }
        execute()
        return try outputs.enumerated().map { i, port in
            try outputBuffers[i].tensorData(port.type.elementType, shape: port.type.staticShape!)
        }
    }
}

/// Timestamps taken by the hook profiled code calls after every phase.
final class PhaseTimer {
    var start: UInt64 = 0
    var stamps: [UInt64]

    init(phases: Int) { stamps = Array(repeating: 0, count: phases) }

    static let hook: @convention(c) (UnsafeMutableRawPointer?, Int64) -> Void = { context, phase in
        let timer = Unmanaged<PhaseTimer>.fromOpaque(context!).takeUnretainedValue()
        timer.stamps[Int(phase)] = DispatchTime.now().uptimeNanoseconds
    }
}
