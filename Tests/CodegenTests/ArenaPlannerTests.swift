@testable import Codegen
import Testing

@Suite struct ArenaPlannerTests {
    @Test func buffersWithDisjointLifetimesShareMemory() {
        let (offsets, total) = planArena(sizes: [1000, 1000, 1000], lifetimes: [0...1, 2...3, 4...5])
        #expect(offsets == [0, 0, 0])
        #expect(total == 1024)
    }

    @Test func buffersAliveTogetherNeverOverlap() {
        let (offsets, total) = planArena(sizes: [100, 200, 300], lifetimes: [0...2, 1...3, 2...4])
        #expect(Set(offsets).count == 3)
        #expect(total == 128 + 256 + 320)
    }

    @Test func offsetsAreAlignedTo64Bytes() {
        let (offsets, _) = planArena(sizes: [3, 5, 7, 11], lifetimes: [0...3, 0...3, 0...3, 0...3])
        #expect(offsets.allSatisfy { $0 % 64 == 0 })
    }

    /// Many random plans: no two buffers alive at the same time share a byte, and the arena is
    /// never larger than giving every buffer its own space.
    @Test func randomPlansRespectLiveness() {
        var state: UInt64 = 12345
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<500 {
            let count = 1 + next(20)
            let sizes = (0..<count).map { _ in 1 + next(5000) }
            let lifetimes = (0..<count).map { _ -> ClosedRange<Int> in
                let start = next(30)
                return start...(start + next(10))
            }
            let (offsets, total) = planArena(sizes: sizes, lifetimes: lifetimes)
            let aligned = sizes.map { ($0 + 63) / 64 * 64 }
            #expect(total <= aligned.reduce(0, +))
            for i in 0..<count {
                #expect(offsets[i] + aligned[i] <= total)
                for j in (i + 1)..<count where lifetimes[i].overlaps(lifetimes[j]) {
                    let disjoint = offsets[i] + aligned[i] <= offsets[j] || offsets[j] + aligned[j] <= offsets[i]
                    #expect(disjoint, "buffers \(i) and \(j) overlap while both alive")
                }
            }
        }
    }
}
