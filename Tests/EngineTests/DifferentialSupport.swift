import Codegen
import Engine
import Foundation
import GraphIR
import Reference
import Runtime

/// Where the tests find samples, regression cases and the shared conformance data.
enum TestPaths {
    /// The package root: this file is `<root>/Tests/EngineTests/DifferentialSupport.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let samples = packageRoot.appendingPathComponent("samples")
    static let regressions = packageRoot.appendingPathComponent("Tests/EngineTests/Regressions")
    static let conformance = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")

    /// Files in `directory` ending in `suffix`, sorted by name.
    static func files(in directory: URL, ending suffix: String) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { directory.appendingPathComponent($0) }
    }
}

/// The outputs of one graph from the interpreter and from the JIT at 1 and 2 threads, and
/// everything that disagrees.
struct DifferentialResult {
    var expected: [TensorData] = []
    var serial: [TensorData] = []
    var parallel: [TensorData] = []
    /// One line per disagreement; empty when the JIT matches.
    var problems: [String] = []
    /// Outputs that passed only by the conditioning bound (see `runDifferential`).
    var conditioned: [String] = []
    /// The graph the JIT compiled, when the pass pipeline made it.
    var optimizedText: String?
}

/// How far each output moves (L2, the larger of two tries) when every float input and weight
/// is scaled by a random factor in [1 - 1e-6, 1 + 1e-6]; infinite when NaN or inf moves.
func perturbationSensitivity(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                             expected: [TensorData]) -> [Double] {
    var random = SeededGenerator(seed: 0x9E27)
    func perturbed(_ tensors: [String: TensorData]) -> [String: TensorData] {
        tensors.mapValues { tensor in
            guard case .floats(let values) = tensor.storage else { return tensor }
            return TensorData(shape: tensor.shape, floats: values.map { $0 * Float(1 + 1e-6 * Double.random(in: -1...1, using: &random)) })
        }
    }
    var result = Array(repeating: 0.0, count: expected.count)
    for _ in 0..<2 {
        guard let outputs = try? ReferenceInterpreter.run(graph, inputs: perturbed(inputs), weights: perturbed(weights)) else {
            return Array(repeating: 0, count: expected.count)
        }
        for i in expected.indices { result[i] = max(result[i], l2Distance(outputs[i].tensor, expected[i]) ?? .infinity) }
    }
    return result
}

/// The L2 distance over elements finite in both; nil when NaN or inf positions differ.
func l2Distance(_ a: TensorData, _ b: TensorData) -> Double? {
    var sum = 0.0
    for (x, y) in zip(a.doubles, b.doubles) {
        if x.isFinite && y.isFinite {
            sum += (x - y) * (x - y)
        } else if !(x.isNaN && y.isNaN) && x != y {
            return nil
        }
    }
    return sum.squareRoot()
}

func l2Norm(_ a: TensorData) -> Double { a.doubles.reduce(0) { $1.isFinite ? $0 + $1 * $1 : $0 }.squareRoot() }

/// Runs `graph` through the reference interpreter and through JIT-compiled code, once on the
/// calling thread and once on a private two-thread pool (private, so that tests running
/// concurrently cannot take the workers and make the run serial).
///
/// Float outputs must have NaN and ±inf exactly where the interpreter has them and a relative L2
/// error of at most `tolerance` over the finite elements; integer and i1 outputs must be equal.
/// The 1- and 2-thread outputs must be bit-identical.
///
/// One escape from the relative bound, for outputs no f32 computation can get that close to a
/// double one: when an output fails it, the interpreter runs again on inputs and weights
/// perturbed by a relative 1e-6, and the output passes if its error is within
/// `tolerance · ‖expected‖ + 10 · ‖perturbed − expected‖`. A sum of many signed values that
/// nearly cancel (a mean of random data, a mean-subtracted row with a large offset) moves a lot
/// under that perturbation; a well-conditioned output moves by about 1e-6 relative, so for it the
/// bound stays `tolerance`. `conditioned` lists the outputs that passed this way.
///
/// With `optimized`, the JIT compiles the graph the standard pass pipeline makes of it (fusion
/// included), and its outputs are still compared with the interpreter's on the original graph.
func runDifferential(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                     tolerance: Double = 1e-5, optimized: Bool = false) -> DifferentialResult {
    var result = DifferentialResult()
    do {
        result.expected = try ReferenceInterpreter.run(graph, inputs: inputs, weights: weights).map(\.tensor)
    } catch {
        result.problems.append("the interpreter failed: \(error)")
        return result
    }
    let original = graph
    do {
        let graph = optimized ? try Optimizer().run(original).graph : original
        if optimized { result.optimizedText = printGraph(graph) }
        let jit = try Compiler.jit(graph)
        let inputPorts = graph.inputs.map { Executable.Port(name: graph[$0].name ?? "", type: graph.type(of: $0)) }
        let outputPorts = graph.outputs.map { Executable.Port(name: graph[$0].name ?? "", type: graph.type(of: $0)) }
        let weightTensors = graph.weights.map { weights[graph[$0].name ?? ""]! }
        let inputTensors = graph.inputs.map { inputs[graph[$0].name ?? ""]! }
        func run(_ pool: ThreadPool?) throws -> [TensorData] {
            let executable = try Executable(entryAddress: jit.entryAddress, codeOwner: jit, inputs: inputPorts, outputs: outputPorts,
                                            weights: weightTensors, arenaBytes: jit.plan.arenaBytes, pool: pool)
            return try executable.run(inputTensors)
        }
        result.serial = try run(nil)
        result.parallel = try run(ThreadPool(threadCount: 2))
    } catch {
        result.problems.append("the JIT failed: \(error)")
        return result
    }
    let graph = original
    var sensitivities: [Double]?
    for (i, name) in graph.outputNames.enumerated() {
        if var problem = compare(result.serial[i], to: result.expected[i], tolerance: tolerance) {
            if result.expected[i].elementType.isFloat {
                sensitivities = sensitivities ?? perturbationSensitivity(graph, inputs: inputs, weights: weights, expected: result.expected)
                let error = l2Distance(result.serial[i], result.expected[i])
                let bound = tolerance * l2Norm(result.expected[i]) + 10 * sensitivities![i]
                if let error, error <= bound {
                    result.conditioned.append("output \(i) %\(name): error \(error) within \(bound) (sensitivity \(sensitivities![i]))")
                    problem = ""
                } else {
                    problem += " (the perturbation bound is \(bound))"
                }
            }
            if !problem.isEmpty { result.problems.append("output \(i) %\(name), 1 thread: \(problem)") }
        }
        if !bitIdentical(result.serial[i], result.parallel[i]) {
            result.problems.append("output \(i) %\(name): 1 and 2 threads differ\(compare(result.parallel[i], to: result.serial[i], tolerance: 0).map { ": \($0)" } ?? " (in bits only)")")
        }
    }
    return result
}

/// Why `actual` does not match `expected`, or nil when it does (see `runDifferential`).
func compare(_ actual: TensorData, to expected: TensorData, tolerance: Double) -> String? {
    guard actual.shape == expected.shape, actual.elementType == expected.elementType else {
        return "got \(actual.type), expected \(expected.type)"
    }
    let (a, e) = (actual.doubles, expected.doubles)
    guard expected.elementType.isFloat else {
        let wrong = a.indices.filter { a[$0] != e[$0] }
        guard let first = wrong.first else { return nil }
        return "\(wrong.count) of \(a.count) elements differ; first at \(index(first, expected.shape)): \(a[first]), expected \(e[first])"
    }
    var difference = 0.0, norm = 0.0
    var worst: (index: Int, error: Double)?
    for i in a.indices {
        if a[i].isNaN || e[i].isNaN || a[i].isInfinite || e[i].isInfinite {
            guard a[i].isNaN == e[i].isNaN, a[i].isNaN || a[i] == e[i] else {
                return "element \(index(i, expected.shape)) is \(a[i]), expected \(e[i])"
            }
            continue
        }
        let error = Swift.abs(a[i] - e[i])
        difference += error * error
        norm += e[i] * e[i]
        if error > (worst?.error ?? 0) { worst = (i, error) }
    }
    let relative = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
    guard relative > tolerance else { return nil }
    let detail = worst.map { "; worst element \(index($0.index, expected.shape)): \(a[$0.index]), expected \(e[$0.index])" } ?? ""
    return "relative L2 error \(relative) > \(tolerance)\(detail)"
}

/// Whether two tensors hold the same bits.
func bitIdentical(_ a: TensorData, _ b: TensorData) -> Bool {
    guard a.shape == b.shape, a.elementType == b.elementType else { return false }
    if case .floats(let x) = a.storage, case .floats(let y) = b.storage {
        return zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
    return a.storage == b.storage
}

/// The multi-index of flat index `i` in `shape`, for messages.
private func index(_ i: Int, _ shape: [Int]) -> [Int] {
    var rest = i
    var index = Array(repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

/// Cases of a `.gir` file separated by `// -----` lines, each parsed (with its line numbers).
func parseCases(_ url: URL) throws -> [Graph] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var graphs: [Graph] = []
    var lines: [Substring] = []
    var firstLine = 0
    func flush() throws {
        let body = lines.joined(separator: "\n")
        if body.contains("graph ") {
            // Blank lines keep diagnostics pointing at the right line of the file.
            graphs.append(try parseGraph(String(repeating: "\n", count: firstLine) + body, path: url.path))
        }
    }
    for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        if line.trimmingCharacters(in: .whitespaces) == "// -----" {
            try flush()
            lines = []
            firstLine = n + 1
        } else {
            lines.append(line)
        }
    }
    try flush()
    return graphs
}
