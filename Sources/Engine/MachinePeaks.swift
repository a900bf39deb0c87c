import Codegen
import Foundation
import Runtime

/// The machine's ceilings that benchmark figures are measured against: FMA throughput and
/// triad bandwidth from DRAM and from L3, for a thread count. Measured by JIT-compiled probes
/// and cached per CPU, features and thread count in `~/.cache/attnc/machine-peaks.json`.
public struct MachinePeaks: Codable, Sendable {
    public var threads: Int
    public var gflops: Double
    public var dramGBps: Double
    public var l3GBps: Double

    /// Cached figures, or fresh ones (about a second of measuring) saved for next time.
    public static func load(threads: Int, pool: ThreadPool?) throws -> MachinePeaks {
        let host = HostTarget.detect()
        let key = "\(host.cpu) \(host.features) threads=\(threads)"
        var cache = (try? JSONDecoder().decode([String: MachinePeaks].self, from: Data(contentsOf: cacheFile))) ?? [:]
        if let cached = cache[key] { return cached }
        let peaks = try measure(threads: threads, pool: pool)
        cache[key] = peaks
        try? FileManager.default.createDirectory(at: cacheFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? JSONEncoder().encode(cache).write(to: cacheFile)
        return peaks
    }

    static var cacheFile: URL {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/attnc/machine-peaks.json")
    }

    /// Best of several runs of each probe: the machine is shared, and the ceiling is the best it can do.
    public static func measure(threads: Int, pool: ThreadPool?) throws -> MachinePeaks {
        let probe = try ProbeKernels()
        let iterations: Int64 = 20_000_000
        let sink = try AlignedBuffer(byteCount: 64 * threads)
        var bestFMA = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            if let pool {
                pool.parallelFor(threads) { begin, end in
                    for t in begin..<end { probe.fma(iterations, sink.baseAddress + 64 * t) }
                }
            } else {
                probe.fma(iterations, sink.baseAddress)
            }
            bestFMA = min(bestFMA, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        withExtendedLifetime(sink) {}
        let flops = Double(iterations) * Double(2 * probe.lanes * ProbeKernels.chains * threads)
        return MachinePeaks(threads: threads, gflops: flops / bestFMA / 1e9,
                            dramGBps: try triad(probe, floats: 16 << 20, pool: pool),
                            l3GBps: try triad(probe, floats: 512 << 10, pool: pool))
    }

    /// GB/s of `a = b + 3c` over arrays of `floats` elements (bytes moved: three arrays).
    private static func triad(_ probe: ProbeKernels, floats: Int, pool: ThreadPool?) throws -> Double {
        let arrays = try (0..<3).map { _ in try AlignedBuffer(byteCount: floats * 4) }
        var frame = arrays.map { Optional($0.baseAddress) }
        let repeats = max(1, (256 << 20) / (floats * 12))
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats {
                frame.withUnsafeMutableBufferPointer { slots in
                    let context = UnsafeMutableRawPointer(slots.baseAddress)
                    if let pool {
                        // Chunks in multiples of 1024 floats keep every vector whole.
                        pool.parallelFor(floats / 1024) { begin, end in probe.triad(context, Int64(begin * 1024), Int64(end * 1024)) }
                    } else {
                        probe.triad(context, 0, Int64(floats))
                    }
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats))
        }
        // The arrays must outlive every call that writes through the frame's copies of their addresses.
        withExtendedLifetime(arrays) {}
        return Double(floats * 12) / best / 1e9
    }
}
