import ArgumentParser
import Codegen
import Engine
import Foundation
import GraphIR
import Runtime

/// `attnc bench MODEL`: compile once, run many times on random inputs, report time and throughput.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a model's compiled code on random inputs.",
        discussion: """
            Reports the median and minimum time per run, GFLOP/s and GB/s (FLOPs and compulsory \
            bytes counted from the graph), and their share of the machine's FMA peak and L3 \
            bandwidth, measured once by built-in probes and cached in ~/.cache/attnc (or given \
            with --peak-gflops and --peak-gbps). Weights not given with --weights are random.
            """)

    @OptionGroup var model: ModelArgument

    @Option(help: ArgumentHelp("Weights to bind by name (random weights when omitted).", valueName: "file.safetensors"))
    var weights: String?

    @OptionGroup var threads: ThreadsOption

    @Option(help: "Untimed runs before timing.")
    var warmup = 3

    @Option(name: .customLong("repeat"), help: "Timed runs (default: as many as fit in half a second, at least 10).")
    var repeatCount: Int?

    @Option(help: ArgumentHelp("Size of a symbolic dim, repeatable.", valueName: "symbol=size"))
    var bind: [String] = []

    @OptionGroup var passes: PassOptions

    @Option(help: ArgumentHelp("FMA peak per core in GFLOP/s instead of the probe's.", valueName: "gflops"))
    var peakGflops: Double?

    @Option(help: ArgumentHelp("L3 bandwidth in GB/s at this thread count instead of the probe's.", valueName: "gbps"))
    var peakGbps: Double?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Time every kernel phase and print where the time goes.")
    var profile = false

    func validate() throws {
        if warmup < 0 { throw ValidationError("--warmup must be >= 0") }
        if let repeatCount, repeatCount < 1 { throw ValidationError("--repeat must be >= 1") }
    }

    func run() throws {
        let start = Date()
        let (graph, modelWeights) = try loadModelAndWeights(model.model)
        let symbols = try parseBindings(bind, for: graph)
        let bound = try graph.specialized(symbols)
        try refuseIfTooLarge(bound)
        var generator = SeededGenerator(seed: 1)
        // An ONNX model brings its initializers; --weights replaces them by name.
        let weightTensors = try weights.map { modelWeights.merging(try SafetensorsFile.read(path: $0)) { $1 } }
            ?? (!modelWeights.isEmpty ? modelWeights : nil)
            ?? Dictionary(uniqueKeysWithValues: bound.weights.map { id in
                (bound[id].name ?? "", randomTensor(bound.type(of: id), using: &generator, scale: 0.05)!)
            })
        var options = CompileOptions()
        options.profile = profile
        let session = try InferenceSession(bound, weights: weightTensors, weightsFile: weights, threads: threads.count,
                                           optimizer: passes.optimizer, options: options)
        let compileSeconds = Date().timeIntervalSince(start)
        let executable = session.executable
        for (i, id) in bound.inputs.enumerated() {
            let copy = try AlignedBuffer(copying: randomTensor(bound.type(of: id), using: &generator)!)
            executable.inputBuffer(i).baseAddress.copyMemory(from: copy.baseAddress, byteCount: copy.byteCount)
        }
        for _ in 0..<warmup { executable.execute() }
        var times: [Double] = []
        var phaseTimes: [[Double]] = []
        let timingStart = Date()
        while times.count < (repeatCount ?? 10) || (repeatCount == nil && Date().timeIntervalSince(timingStart) < 0.5) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            executable.execute()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            if profile { phaseTimes.append(executable.phaseSeconds) }
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let cost = bound.cost
        let gflops = cost.flops / (median / 1000) / 1e9
        let gbps = cost.compulsoryBytes / (median / 1000) / 1e9
        let threadCount = executable.threadCount
        var peaks: MachinePeaks?
        if peakGflops == nil || peakGbps == nil {
            peaks = try MachinePeaks.load(threads: threadCount, pool: threadCount > 1 ? ThreadPool(threadCount: threadCount) : nil)
        }
        let peakFlops = peakGflops.map { $0 * Double(threadCount) } ?? peaks!.gflops
        let peakBandwidth = peakGbps ?? peaks!.l3GBps
        let report: [String: Any] = [
            "model": model.model, "threads": threadCount, "runs": times.count,
            "median_ms": median, "min_ms": times[0], "compile_ms": compileSeconds * 1000,
            "gflops": gflops, "gbps": gbps, "flops": cost.flops, "compulsory_bytes": cost.compulsoryBytes,
            "peak_gflops": peakFlops, "percent_of_fma_peak": 100 * gflops / peakFlops,
            "l3_gbps": peakBandwidth, "percent_of_l3_bandwidth": 100 * gbps / peakBandwidth,
            "arena_bytes": session.plan.arenaBytes, "kernels": session.plan.kernels.count,
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(model.model): graph '\(graph.name)', \(threadCount) thread\(threadCount == 1 ? "" : "s"), \(times.count) runs")
            print(String(format: "  compile   %.1f ms (parse, passes, plan, LLVM, machine code)", compileSeconds * 1000))
            print(String(format: "  time      median %.4f ms, min %.4f ms", median, times[0]))
            print(String(format: "  compute   %.2f GFLOP/s, %.1f%% of the %.0f GFLOP/s FMA peak", gflops, 100 * gflops / peakFlops, peakFlops))
            print(String(format: "  memory    %.2f GB/s of compulsory traffic, %.1f%% of %.0f GB/s L3 bandwidth", gbps, 100 * gbps / peakBandwidth, peakBandwidth))
            print("  arena     \(session.plan.arenaBytes) bytes, \(session.plan.kernels.count) kernels")
            if profile { printProfile(session.plan, phaseTimes) }
        }
    }
}

/// Median time of each kernel phase, largest first, with the phase's description.
private func printProfile(_ plan: KernelPlan, _ runs: [[Double]]) {
    guard let first = runs.first else { return }
    let medians = first.indices.map { i -> Double in
        let sorted = runs.map { $0[i] }.sorted()
        return sorted[sorted.count / 2] * 1000
    }
    let total = medians.reduce(0, +)
    print("  profile   (median ms per phase)")
    for (i, label) in plan.phaseLabels.enumerated().sorted(by: { medians[$0.offset] > medians[$1.offset] }) {
        print(String(format: "    %-7@ %9.4f ms %5.1f%%  %@", label as NSString, medians[i], 100 * medians[i] / max(total, 1e-12),
                     String(plan.phaseText(label).prefix(110)) as NSString))
    }
}

/// `--bind S=128` options as a symbol table; every symbol the graph has must be bound.
func parseBindings(_ specs: [String], for graph: Graph) throws -> [String: Int] {
    var symbols: [String: Int] = [:]
    for spec in specs {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let size = Int(parts[1]), size >= 0 else {
            throw ValidationError("--bind expects SYMBOL=SIZE, got '\(spec)'")
        }
        guard graph.symbols.contains(parts[0]) else {
            throw Diagnostic(.error, "--bind \(parts[0]): graph '\(graph.name)' has no symbolic dim '\(parts[0])'" +
                             (graph.symbols.isEmpty ? "" : "; its symbols are \(graph.symbols.joined(separator: ", "))"))
        }
        symbols[parts[0]] = size
    }
    if let missing = graph.symbols.first(where: { symbols[$0] == nil }) {
        throw Diagnostic(.error, "symbolic dim \(missing) is not bound; give its size with --bind \(missing)=SIZE")
    }
    return symbols
}
