import CLLVM
import Dispatch
import Foundation

/// Compiles a kernel plan to object files for the JIT on several threads.
///
/// LLVM contexts are single-threaded, so every kernel gets a context and a module of its own,
/// with its task functions external. The modules are emitted one after another (emission is
/// cheap), then optimised and turned into machine code on up to `threads` threads, largest
/// first, so that no thread starts a big kernel while the others run out of work. The runners
/// (`PREFIXentry`, `PREFIXsetup`) come last, in a module that declares the kernels; the JIT's
/// linker resolves the calls.
enum ParallelCompiler {
    struct Output {
        var objects: [[UInt8]]
        /// Seconds spent emitting LLVM IR, and (wall clock) optimising and generating code.
        var emit: Double
        var llvm: Double
    }

    static func compile(_ plan: KernelPlan, options: CompileOptions, threads: Int) throws -> Output {
        var start = Date()
        let dataLayout = try TargetMachine(options.target).dataLayout
        let prefix = options.symbolPrefix
        var modules: [IRModule] = []
        func newModule(_ name: String) -> IRModule {
            let module = IRModule(name: name, context: IRContext())
            module.setTarget(triple: options.target.triple, dataLayout: dataLayout)
            modules.append(module)
            return module
        }
        func emitKernel(_ kernel: Kernel, name: String) throws -> [TaskFunction] {
            let module = newModule(name)
            let emitter = KernelFunctionEmitter(module: module, plan: plan, symbolPrefix: prefix, lanes: options.lanes,
                                                linkage: LLVMExternalLinkage)
            return try emitter.emit(kernel, name: name)
        }
        let setupTasks = try plan.setupKernels.enumerated().flatMap { try emitKernel($1, name: KernelSymbols.setup($0, prefix: prefix)) }
        let tasks = try plan.kernels.enumerated().flatMap { try emitKernel($1, name: KernelSymbols.kernel($0, prefix: prefix)) }
        emitRunners(setup: setupTasks, entry: tasks, into: newModule("\(prefix)runners"), plan: plan, symbolPrefix: prefix,
                    profile: options.profile)
        for module in modules { try module.verify() }
        let emit = Date().timeIntervalSince(start)

        start = Date()
        let order = modules.indices.sorted { modules[$0].instructionCount > modules[$1].instructionCount }
        let queue = WorkQueue(order)
        var objects = [[UInt8]](repeating: [], count: modules.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, modules.count))) { _ in
            queue.run { index in
                let machine = try TargetMachine(options.target)
                try machine.optimize(modules[index], pipeline: options.pipeline)
                let object = try machine.emit(modules[index], as: LLVMObjectFile)
                queue.locked { objects[index] = object }
            }
        }
        if let failure = queue.failure { throw failure }
        return Output(objects: objects, emit: emit, llvm: Date().timeIntervalSince(start))
    }
}

/// Hands out indices to worker threads in order; stops handing out after the first error.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let order: [Int]
    private var next = 0
    private(set) var failure: Error?

    init(_ order: [Int]) { self.order = order }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs `work` on indices until none are left.
    func run(_ work: (Int) throws -> Void) {
        while let index = locked({ () -> Int? in
            guard failure == nil, next < order.count else { return nil }
            next += 1
            return order[next - 1]
        }) {
            do { try work(index) } catch { locked { if failure == nil { failure = error } } }
        }
    }
}
