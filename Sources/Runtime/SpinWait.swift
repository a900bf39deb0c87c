import Glibc

/// Bounded busy-waiting for the thread pool's handshakes.
///
/// A parallel region in a small model lasts a few microseconds, and a futex wake-up costs about as
/// much again, so a waiting thread first polls, then yields its core for a while, and only then
/// blocks. Yielding (rather than pure polling) matters when the pool has more threads than cores.
enum SpinWait {
    /// Polls before the first yield; a few hundred nanoseconds when the cache line is quiet.
    static let pollsBeforeYielding = 1_000
    /// How long a waiter keeps polling and yielding before it blocks.
    static let budgetNanoseconds: UInt64 = 50_000

    /// Polls `condition` until it holds (returns true) or the budget is spent (returns false).
    @inline(__always)
    static func poll(until condition: () -> Bool) -> Bool {
        for _ in 0..<pollsBeforeYielding where condition() { return true }
        let deadline = monotonicNanoseconds() + budgetNanoseconds
        repeat {
            sched_yield()
            for _ in 0..<16 where condition() { return true }
        } while monotonicNanoseconds() < deadline
        return false
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
