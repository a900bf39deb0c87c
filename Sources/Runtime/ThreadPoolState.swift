import Glibc
import Synchronization

/// The state a `ThreadPool` shares with its workers, and the handshake that hands them work.
///
/// The caller writes the job (`task`, `context`, `count`) into plain fields, then publishes one
/// atomic word, `generation << 24 | chunks`, with a release store. Worker `i` that sees a new word
/// runs chunk `i` if `i < chunks` and reads the job fields only in that case; a worker that does not
/// take part never reads them, so the caller may overwrite them once every participant has counted
/// `pending` down to zero. A word with `chunks == 0` tells the workers to exit.
///
/// Both waits poll first (`SpinWait`) and then block on a condition variable. A sleeper announces
/// itself in an atomic before re-checking its condition, and the waker changes the condition before
/// reading that atomic; both use sequentially consistent operations, so either the sleeper sees the
/// change or the waker sees the sleeper and signals under the mutex. No wake-up is lost.
final class ThreadPoolState: @unchecked Sendable {
    static let chunkBits = 24
    static let chunkMask: UInt64 = (1 << chunkBits) - 1

    /// `generation << chunkBits | chunks` of the newest job.
    let published = Atomic<UInt64>(0)
    /// Worker chunks of the current job that have not finished.
    let pending = Atomic<Int>(0)
    let sleepingWorkers = Atomic<Int>(0)
    let callerSleeping = Atomic<Bool>(false)
    /// Set while a caller owns the workers; a second caller (nested or concurrent) runs serially.
    let busy = Atomic<Bool>(false)

    // pthread rather than `Synchronization.Mutex`: ThreadSanitizer understands pthread locks but
    // not the raw futex calls that `Mutex` makes on Linux.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let workAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let workDone = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    // The job. Written only by the caller that holds `busy`, while no worker is reading it.
    private var generation: UInt64 = 0
    private var task: ThreadPool.TaskFunction?
    private var context: UnsafeMutableRawPointer?
    private var count = 0

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(workDone, nil)
    }

    deinit {
        pthread_cond_destroy(workDone)
        pthread_cond_destroy(workAvailable)
        pthread_mutex_destroy(mutex)
        workDone.deallocate()
        workAvailable.deallocate()
        mutex.deallocate()
    }

    /// The start of chunk `index` when `count` items are split into `chunks` near-equal runs.
    @inline(__always)
    static func chunkStart(_ index: Int, of chunks: Int, count: Int) -> Int {
        // Full width: index * count overflows for counts near Int.max.
        chunks.dividingFullWidth(index.multipliedFullWidth(by: count)).quotient
    }

    // MARK: Caller side

    /// Runs `task` over `[0, count)` in `chunks` pieces, piece 0 on this thread; the caller holds `busy`.
    func run(_ task: ThreadPool.TaskFunction, _ context: UnsafeMutableRawPointer?, count: Int, chunks: Int) {
        self.task = task
        self.context = context
        self.count = count
        pending.store(chunks - 1, ordering: .relaxed)  // Published by the store below.
        publish(chunks: chunks)
        task(context, 0, Int64(Self.chunkStart(1, of: chunks, count: count)))
        waitForWorkers()
    }

    /// Tells every worker to exit once it has finished its current chunk.
    func stop() {
        publish(chunks: 0)
    }

    private func publish(chunks: Int) {
        generation += 1
        published.store(generation << Self.chunkBits | UInt64(chunks), ordering: .sequentiallyConsistent)
        if sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(workAvailable)
            pthread_mutex_unlock(mutex)
        }
    }

    private func waitForWorkers() {
        if SpinWait.poll(until: { pending.load(ordering: .acquiring) == 0 }) { return }
        pthread_mutex_lock(mutex)
        callerSleeping.store(true, ordering: .sequentiallyConsistent)
        while pending.load(ordering: .sequentiallyConsistent) != 0 {
            pthread_cond_wait(workDone, mutex)
        }
        callerSleeping.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    // MARK: Worker side

    /// The loop of worker `index` (1 ..< threadCount); returns when the pool stops.
    func workerLoop(index: Int) {
        var seen: UInt64 = 0
        while true {
            seen = waitForWork(after: seen)
            let chunks = Int(seen & Self.chunkMask)
            if chunks == 0 { return }
            guard index < chunks, let task else { continue }
            let begin = Self.chunkStart(index, of: chunks, count: count)
            let end = Self.chunkStart(index + 1, of: chunks, count: count)
            task(context, Int64(begin), Int64(end))
            finishChunk()
        }
    }

    private func waitForWork(after seen: UInt64) -> UInt64 {
        var word = seen
        if SpinWait.poll(until: { word = published.load(ordering: .acquiring); return word != seen }) {
            return word
        }
        pthread_mutex_lock(mutex)
        sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
        word = published.load(ordering: .sequentiallyConsistent)
        while word == seen {
            pthread_cond_wait(workAvailable, mutex)
            word = published.load(ordering: .sequentiallyConsistent)
        }
        sleepingWorkers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return word
    }

    private func finishChunk() {
        let remaining = pending.subtract(1, ordering: .sequentiallyConsistent).newValue
        if remaining == 0 && callerSleeping.load(ordering: .sequentiallyConsistent) {
            pthread_mutex_lock(mutex)
            pthread_cond_signal(workDone)
            pthread_mutex_unlock(mutex)
        }
    }
}
