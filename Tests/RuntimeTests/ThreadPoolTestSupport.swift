import Foundation
import Glibc
import Testing

/// Runs `body` on a thread of its own and returns its result, or records an issue and returns nil
/// if it has not finished after `seconds`: a hung thread pool fails its test instead of blocking
/// the whole run. The stuck thread is abandoned.
func withWatchdog<Result: Sendable>(seconds: Double, sourceLocation: Testing.SourceLocation = #_sourceLocation,
                                    _ body: @escaping @Sendable () -> Result) -> Result? {
    let result = Locked<Result?>(nil)
    Thread {
        let value = body()
        result.withLock { $0 = value }
    }.start()
    let deadline = Date().addingTimeInterval(seconds)
    while result.withLock({ $0 == nil }) {
        guard Date() < deadline else {
            Issue.record("did not finish within \(seconds) s: the thread pool hangs", sourceLocation: sourceLocation)
            return nil
        }
        usleep(1_000)
    }
    return result.withLock { $0 }
}

/// A value behind a lock. Not `Synchronization.Mutex`: on Linux it locks with raw futex calls,
/// which ThreadSanitizer cannot see, so it would report the values it protects as raced.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// The chunks one `parallelFor` produced, and the threads that ran them.
final class ChunkLog: Sendable {
    struct Entry: Sendable, Comparable {
        let begin: Int
        let end: Int
        let thread: pthread_t
        static func < (a: Entry, b: Entry) -> Bool { a.begin < b.begin }
    }

    private let entries = Locked<[Entry]>([])

    func record(_ begin: Int, _ end: Int) {
        let entry = Entry(begin: begin, end: end, thread: pthread_self())
        entries.withLock { $0.append(entry) }
    }

    /// The `(begin, end)` pairs in order of `begin`.
    var ranges: [[Int]] { entries.withLock { $0.sorted().map { [$0.begin, $0.end] } } }

    var distinctThreads: Int { entries.withLock { Set($0.map(\.thread)).count } }
}

/// The chunks `parallelFor` promises: `min(threads, count)` runs `[i*count/T, (i+1)*count/T)`.
func expectedRanges(count: Int, threads: Int) -> [[Int]] {
    let chunks = min(threads, count)
    return (0..<chunks).map { [$0 * count / chunks, ($0 + 1) * count / chunks] }
}

/// Per-index hit counters that chunks on different threads may bump at the same time.
final class HitCounters: @unchecked Sendable {
    let counts: UnsafeMutableBufferPointer<Int>

    init(_ count: Int) {
        counts = .allocate(capacity: count)
        counts.initialize(repeating: 0)
    }

    deinit { counts.deallocate() }

    /// Bumps every index in `[begin, end)`; disjoint chunks touch disjoint memory.
    func hit(_ begin: Int, _ end: Int) {
        for index in begin..<end { counts[index] += 1 }
    }
}
