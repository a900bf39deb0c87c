import Glibc
import Foundation

/// A fixed set of OS threads that run the chunks of a parallel loop; compiled kernels call it
/// (through `cParallelFor`) many times per inference.
///
/// `parallelFor` splits `[0, count)` into `min(threadCount, count)` contiguous chunks of near-equal
/// size, runs chunk 0 on the calling thread and chunk `i` on worker `i`, and returns when all are
/// done. The workers are started once and live until the pool is released; between loops they poll
/// briefly and then sleep (see `ThreadPoolState` for the handshake).
///
/// One caller at a time gets the workers. A call made while they are taken, from inside a chunk
/// (a nested loop) or from an unrelated thread, runs serially on its own thread instead of waiting,
/// so nesting cannot deadlock.
public final class ThreadPool: @unchecked Sendable {
    /// A chunk of work as generated code sees it: `task(context, begin, end)` handles `[begin, end)`.
    public typealias TaskFunction = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64) -> Void
    /// The C signature of `cParallelFor`: `parallel_for(pool, task, context, count)`.
    public typealias ParallelForFunction =
        @convention(c) (UnsafeMutableRawPointer?, TaskFunction?, UnsafeMutableRawPointer?, Int64) -> Void

    /// The number of threads that run chunks, the caller's included.
    public let threadCount: Int

    /// What the workers hold: were it the pool itself, the pool could never be released.
    private let state = ThreadPoolState()
    private var workers: [pthread_t] = []

    /// The thread count to use when the user gives none: every core the process may run on.
    public static var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Starts `threadCount - 1` worker threads (none for 1); the caller is the remaining one.
    ///
    /// If the system refuses to start a thread, the pool keeps the ones it has and `threadCount`
    /// says how many that makes.
    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a thread pool needs at least one thread, not \(threadCount)")
        precondition(UInt64(threadCount) <= ThreadPoolState.chunkMask, "\(threadCount) threads are too many")
        for index in 1..<threadCount {
            guard let thread = Self.startWorker(index: index, state: state) else { break }
            workers.append(thread)
        }
        self.threadCount = workers.count + 1
    }

    deinit {
        state.stop()
        for thread in workers {
            pthread_join(thread, nil)
        }
    }

    /// Calls `body(begin, end)` for contiguous chunks covering `[0, count)`, in parallel.
    public func parallelFor(_ count: Int, _ body: (_ begin: Int, _ end: Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var body = body
            withUnsafeMutablePointer(to: &body) { pointer in
                run(Self.closureTrampoline, pointer, count: count)
            }
        }
    }

    /// This pool as the untyped, unretained pointer that generated code passes back to `cParallelFor`.
    public var unmanagedPointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// `parallel_for` for generated code: `pool` is an unretained `ThreadPool` (nil runs serially).
    public static let cParallelFor: ParallelForFunction = { pool, task, context, count in
        guard let task else { preconditionFailure("parallel_for called without a task") }
        guard let pool else { return runSerially(task, context, count: count) }
        Unmanaged<ThreadPool>.fromOpaque(pool).takeUnretainedValue().run(task, context, count: Int(count))
    }

    /// `parallel_for` that ignores the pool and runs the whole range as one chunk on the caller.
    public static let serialParallelFor: ParallelForFunction = { _, task, context, count in
        guard let task else { preconditionFailure("parallel_for called without a task") }
        runSerially(task, context, count: count)
    }

    private static func runSerially(_ task: TaskFunction, _ context: UnsafeMutableRawPointer?, count: Int64) {
        precondition(count >= 0, "parallel loop over a negative count \(count)")
        if count > 0 { task(context, 0, count) }
    }

    /// The one path every call takes: trivial and nested loops run inline, the rest go to the workers.
    private func run(_ task: TaskFunction, _ context: UnsafeMutableRawPointer?, count: Int) {
        precondition(count >= 0, "parallel loop over a negative count \(count)")
        guard count > 0 else { return }
        let chunks = min(threadCount, count)
        guard chunks > 1,
              state.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            task(context, 0, Int64(count))
            return
        }
        state.run(task, context, count: count, chunks: chunks)
        state.busy.store(false, ordering: .releasing)
    }

    /// Calls the Swift closure that `context` points to.
    private static let closureTrampoline: TaskFunction = { context, begin, end in
        context.unsafelyUnwrapped.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(begin), Int(end))
    }

    private static func startWorker(index: Int, state: ThreadPoolState) -> pthread_t? {
        let argument = Unmanaged.passRetained(WorkerArgument(index: index, state: state)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let argument = Unmanaged<WorkerArgument>.fromOpaque(raw!).takeRetainedValue()
            argument.state.workerLoop(index: argument.index)
            return nil
        }, argument)
        guard status == 0 else {
            Unmanaged<WorkerArgument>.fromOpaque(argument).release()
            return nil
        }
        return thread
    }
}

/// What a new worker thread needs to know; handed over retained through `pthread_create`.
private final class WorkerArgument {
    let index: Int
    let state: ThreadPoolState

    init(index: Int, state: ThreadPoolState) {
        self.index = index
        self.state = state
    }
}
