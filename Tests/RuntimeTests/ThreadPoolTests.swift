import Foundation
import Glibc
import Runtime
import Synchronization
import Testing

/// The pool splits loops as promised, really runs them on its threads, survives back-to-back and
/// nested use, and can be driven from generated code through its C entry point.
///
/// Every test drives its pool inside `withWatchdog`, so a broken hand-over fails the test instead of
/// hanging the run; the expectations are checked afterwards, on the test's own thread.
@Suite struct ThreadPoolTests {
    @Test(arguments: [1, 2, 3, 8])
    func everyIndexOnceInContiguousNearEqualChunks(threads: Int) {
        let counts = [0, 1, 2, 3, 7, 1000]
        let results = withWatchdog(seconds: 30) {
            let pool = ThreadPool(threadCount: threads)
            return counts.map { count in
                let log = ChunkLog()
                let hits = HitCounters(count)
                pool.parallelFor(count) { begin, end in
                    log.record(begin, end)
                    hits.hit(begin, end)
                }
                return (pool.threadCount, log.ranges, hits.counts.allSatisfy { $0 == 1 })
            }
        }
        for (count, (threadCount, ranges, eachIndexOnce)) in zip(counts, results ?? []) {
            #expect(threadCount == threads)
            #expect(ranges == expectedRanges(count: count, threads: threads), "count \(count)")
            #expect(eachIndexOnce, "count \(count)")
        }
    }

    @Test(arguments: [2, 3, 8])
    func chunksRunOnDistinctThreads(threads: Int) {
        let distinct = withWatchdog(seconds: 30) {
            let pool = ThreadPool(threadCount: threads)
            return [threads, 1000].map { count in
                let log = ChunkLog()
                pool.parallelFor(count) { begin, end in log.record(begin, end) }
                return log.distinctThreads
            }
        }
        #expect(distinct == [threads, threads])
    }

    @Test func chunkZeroRunsOnTheCaller() {
        let ranOnCaller = withWatchdog(seconds: 30) {
            let pool = ThreadPool(threadCount: 2)
            let caller = pthread_self()
            let chunkZeroThread = Locked<pthread_t?>(nil)
            pool.parallelFor(2) { begin, _ in
                if begin == 0 { chunkZeroThread.withLock { $0 = pthread_self() } }
            }
            return chunkZeroThread.withLock { $0 } == caller
        }
        #expect(ranOnCaller == true)
    }

    /// Thousands of loops in a row, separated by gaps that sweep across the time workers poll
    /// before they sleep (so that work is published just as they give up), with a slow chunk now
    /// and then so that the caller sleeps too. A lost wake-up hangs, and the watchdog fails it.
    @Test(arguments: [2, 3, 8])
    func backToBackCallsDoNotHang(threads: Int) {
        let total = withWatchdog(seconds: 60) {
            let pool = ThreadPool(threadCount: threads)
            let sum = Atomic<Int>(0)
            for iteration in 0..<4_000 {
                let count = 1 + iteration % 11
                pool.parallelFor(count) { begin, end in
                    if iteration % 500 == 7 && begin > 0 { usleep(300) }
                    sum.add(end - begin, ordering: .relaxed)
                }
                busyWait(microseconds: iteration * 37 % 120)
            }
            return sum.load(ordering: .relaxed)
        }
        #expect(total == (0..<4_000).reduce(0) { $0 + 1 + $1 % 11 })
    }

    /// Burns `microseconds` on the calling thread; `usleep` cannot sleep less than about 50 µs.
    func busyWait(microseconds: Int) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(microseconds) * 1_000
        while DispatchTime.now().uptimeNanoseconds < deadline {}
    }

    @Test func nestedCallsRunSeriallyWithoutDeadlock() {
        let total = withWatchdog(seconds: 30) {
            let pool = ThreadPool(threadCount: 3)
            let hits = HitCounters(6 * 100)
            for _ in 0..<100 {
                pool.parallelFor(6) { outerBegin, outerEnd in
                    for row in outerBegin..<outerEnd {
                        pool.parallelFor(100) { begin, end in hits.hit(row * 100 + begin, row * 100 + end) }
                    }
                }
            }
            return hits.counts.reduce(0, +)
        }
        #expect(total == 6 * 100 * 100)
    }

    @Test func concurrentCallersShareOnePool() {
        let total = withWatchdog(seconds: 30) {
            let pool = ThreadPool(threadCount: 2)
            let sum = Atomic<Int>(0)
            let done = Atomic<Int>(0)
            for _ in 0..<2 {
                Thread {
                    for _ in 0..<1_000 {
                        pool.parallelFor(10) { begin, end in sum.add(end - begin, ordering: .relaxed) }
                    }
                    done.add(1, ordering: .releasing)
                }.start()
            }
            while done.load(ordering: .acquiring) < 2 { usleep(1_000) }
            return sum.load(ordering: .relaxed)
        }
        #expect(total == 2 * 1_000 * 10)
    }

    /// Fills `context` (an `Int64` array) with `index * 2` over `[begin, end)`.
    static let doubleIndices: ThreadPool.TaskFunction = { context, begin, end in
        let values = context!.assumingMemoryBound(to: Int64.self)
        for index in begin..<end { values[Int(index)] = index * 2 }
    }

    @Test func cEntryPointThroughAFunctionPointer() {
        let results = withWatchdog(seconds: 30) {
            let pool = ThreadPool(threadCount: 3)
            // Generated code holds only an address; go through one as it does.
            let address = unsafeBitCast(ThreadPool.cParallelFor, to: UnsafeRawPointer.self)
            let parallelFor = unsafeBitCast(address, to: ThreadPool.ParallelForFunction.self)
            let entries = [(parallelFor, pool.unmanagedPointer), (parallelFor, nil),
                           (ThreadPool.serialParallelFor, pool.unmanagedPointer)]
            return entries.map { entry, poolPointer in
                var values = [Int64](repeating: -1, count: 1000)
                values.withUnsafeMutableBufferPointer { buffer in
                    entry(poolPointer, Self.doubleIndices, buffer.baseAddress, 1000)
                    entry(poolPointer, Self.doubleIndices, buffer.baseAddress, 0)
                }
                return values
            }
        }
        #expect(results == Array(repeating: (0..<1000).map { Int64($0) * 2 }, count: 3))
    }

    /// The kernel's id for the calling thread, read from `/proc/thread-self` (`<pid>/task/<tid>`);
    /// Glibc's `gettid` is not visible to Swift.
    static func kernelThreadID() -> String {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
        return String(link.split(separator: "/").last ?? "")
    }

    /// Kernel thread ids of the workers that ran chunks of `pool`'s loops (the caller left out).
    static func workerThreadIDs(_ pool: ThreadPool) -> Set<String> {
        let ids = Locked<Set<String>>([])
        pool.parallelFor(pool.threadCount) { _, _ in
            let id = kernelThreadID()
            ids.withLock { _ = $0.insert(id) }
        }
        return ids.withLock { $0 }.subtracting([kernelThreadID()])
    }

    /// Whether the kernel still lists thread `id` after up to a second. `pthread_join` returns when
    /// the thread has exited, which can be a moment before the kernel drops it from `/proc`.
    static func threadStillListed(_ id: String) -> Bool {
        for _ in 0..<1_000 {
            guard FileManager.default.fileExists(atPath: "/proc/self/task/\(id)") else { return false }
            usleep(1_000)
        }
        return true
    }

    /// Releasing a pool stops its threads; ThreadSanitizer would also report any it forgot to join.
    @Test func releasingThePoolStopsItsWorkers() {
        let survivors = withWatchdog(seconds: 30) {
            var survivors: [String] = []
            for iteration in 0..<200 {
                var pool: ThreadPool? = ThreadPool(threadCount: 1 + iteration % 4)
                let workers = Self.workerThreadIDs(pool!)
                if workers.count != pool!.threadCount - 1 || workers.contains("") { return ["unknown"] }
                pool = nil
                survivors += workers.filter(Self.threadStillListed)
            }
            return survivors
        }
        #expect(survivors == [])
    }

    @Test func poolsWithoutLoopsStartAndStop() {
        let finished = withWatchdog(seconds: 30) {
            for threads in 1...8 { _ = ThreadPool(threadCount: threads) }
            return true
        }
        #expect(finished == true)
    }
}
