import Codegen
import Engine
import Foundation
import GraphIR
import Passes
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

/// The interpreter's outputs for one graph, and everything the JIT's disagree in.
struct DifferentialResult {
    var expected: [TensorData] = []
    /// One line per disagreement; empty when the JIT matches.
    var problems: [String] = []
    /// Outputs that passed only by the conditioning bound (see `runDifferential`).
    var conditioned: [String] = []
    /// The graph the JIT compiled, when the pass pipeline made it.
    var optimizedText: String?
    /// Why the pass pipeline could not optimise the graph (a pass bug, not a codegen one); the
    /// optimised variant was not compiled then.
    var passFailure: String?

    /// Every problem, the pass pipeline's included.
    var allProblems: [String] { problems + (passFailure.map { ["optimized: \($0)"] } ?? []) }
}

/// How far each output moves (L2, the larger of two tries) when every float input and weight,
/// and every result of an op that rounds (arithmetic, transcendentals, sums, products,
/// normalisations), is scaled by its own random factor in [1 - 1e-6, 1 + 1e-6]: about 16 f32
/// rounding errors at every step, which is what an f32 implementation may differ by. Outputs that
/// are sums of nearly cancelling terms, or exactly zero in real arithmetic (the mean of a
/// normalised row), move by as much as their f32 rounding noise. Infinite when NaN or inf moves.
func perturbationSensitivity(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                             expected: [TensorData]) -> [Double] {
    var random = SeededGenerator(seed: 0x9E27)
    func jitter(_ tensor: TensorData) -> TensorData {
        guard case .floats(let values) = tensor.storage else { return tensor }
        return TensorData(shape: tensor.shape, floats: values.map { $0 * Float(1 + 1e-6 * Double.random(in: -1...1, using: &random)) })
    }
    let (noisy, noise) = graphWithRoundingNoise(graph)
    var result = Array(repeating: 0.0, count: expected.count)
    for _ in 0..<2 {
        var noisyInputs = inputs.mapValues(jitter)
        for (name, type) in noise { noisyInputs[name] = jitter(TensorData(.f32, shape: type.staticShape!, repeating: 1)) }
        guard let outputs = try? ReferenceInterpreter.run(noisy, inputs: noisyInputs, weights: weights.mapValues(jitter)) else {
            return Array(repeating: 0, count: expected.count)
        }
        for i in expected.indices { result[i] = max(result[i], l2Distance(outputs[i].tensor, expected[i]) ?? .infinity) }
    }
    return result
}

/// `graph` with every f32 result of a rounding op multiplied by a new input of its type (the
/// noise), and the names of those inputs. Ops that only move, select or compare values, and
/// maximum, minimum, abs, neg and relu, compute exactly and are left alone.
func graphWithRoundingNoise(_ graph: Graph) -> (Graph, noise: [(name: String, type: TensorType)]) {
    func rounds(_ op: Op) -> Bool {
        switch op {
        case .reshape, .squeeze, .unsqueeze, .transpose, .slice, .split, .concat, .broadcast, .select, .cast, .constant, .iota,
             .gather, .binary(.maximum), .binary(.minimum), .unary(.abs), .unary(.neg), .unary(.relu), .unary(.identity),
             .reduce(.amax, _, _), .reduce(.amin, _, _), .pool2d(.max, _):
            return false
        default:
            return true
        }
    }
    var copy = Graph(name: graph.name)
    var map: [ValueID: ValueID] = [:]
    var noise: [(name: String, type: TensorType)] = []
    for id in graph.inputs { map[id] = copy.addInput(graph[id].name ?? "", graph.type(of: id)) }
    for id in graph.weights { map[id] = copy.addWeight(graph[id].name ?? "", graph.type(of: id)) }
    for node in graph.nodes {
        let results = copy.addNode(node.op, operands: node.operands.map { map[$0]! },
                                   results: node.results.map { (name: graph[$0].name, type: graph.type(of: $0)) })
        for (old, new) in zip(node.results, results) {
            let type = graph.type(of: old)
            guard rounds(node.op), type.elementType == .f32 else {
                map[old] = new
                continue
            }
            let name = "__noise\(noise.count)"
            noise.append((name, type))
            let factor = copy.addInput(name, type)
            map[old] = copy.addNode(.binary(.mul), operands: [new, factor], results: [(name: "__noisy\(noise.count)", type: type)])[0]
        }
    }
    copy.outputs = graph.outputs.map { map[$0]! }
    return (copy, noise)
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
/// The 1-, 2- and 3-thread outputs must be bit-identical.
///
/// One escape from the relative bound, for outputs no f32 computation can get that close to a
/// double one: when an output fails it, the interpreter runs again with its inputs, weights and
/// every rounded intermediate perturbed by a relative 1e-6 (`perturbationSensitivity`), and the
/// output passes if its error is within `tolerance · ‖expected‖ + 10 · ‖perturbed − expected‖`.
/// A sum of many signed values that nearly cancel (a mean of random data, the mean of a
/// normalised row, which is 0 in real arithmetic) moves a lot under that perturbation; a
/// well-conditioned output moves by about 1e-6 relative, so for it the bound stays `tolerance`.
/// `conditioned` lists the outputs that passed this way.
///
/// Every variant is checked: the graph as built, and (`.optimized`) the graph the standard pass
/// pipeline makes of it (fusion included), still compared with the interpreter's outputs on the
/// graph as built. Problems of the optimised variant start with "optimized".
///
/// `options` picks the target the JIT compiles for: the host by default, or a narrower one the
/// host also runs (AVX2 on an AVX-512 machine, see `TestTargets`).
func runDifferential(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                     tolerance: Double = 1e-5, variants: [CompiledVariant] = [.asBuilt, .optimized],
                     options: CompileOptions = CompileOptions()) -> DifferentialResult {
    var result = DifferentialResult()
    do {
        result.expected = try ReferenceInterpreter.run(graph, inputs: inputs, weights: weights).map(\.tensor)
    } catch {
        result.problems.append("the interpreter failed: \(error)")
        return result
    }
    var sensitivities: [Double]?
    for variant in variants {
        let label = variant == .optimized ? "optimized, " : ""
        let serial: [TensorData], parallel: [(threads: Int, outputs: [TensorData])]
        do {
            var compiled = graph
            if variant == .optimized {
                switch optimizeVerifyingEachPass(graph) {
                case .success(let optimized): compiled = optimized
                case .failure(let failure):
                    result.passFailure = failure.description
                    continue
                }
                result.optimizedText = printGraph(compiled)
            }
            (serial, parallel) = try runCompiled(compiled, inputs: inputs, weights: weights, options: options)
        } catch {
            result.problems.append("\(label)the JIT failed: \(error)")
            continue
        }
        for (i, name) in graph.outputNames.enumerated() {
            if var problem = compare(serial[i], to: result.expected[i], tolerance: tolerance) {
                if result.expected[i].elementType.isFloat {
                    sensitivities = sensitivities ?? perturbationSensitivity(graph, inputs: inputs, weights: weights, expected: result.expected)
                    let error = l2Distance(serial[i], result.expected[i])
                    let bound = tolerance * l2Norm(result.expected[i]) + 10 * sensitivities![i]
                    if let error, error <= bound {
                        result.conditioned.append("\(label)output \(i) %\(name): error \(error) within \(bound) (sensitivity \(sensitivities![i]))")
                        problem = ""
                    } else {
                        problem += " (the perturbation bound is \(bound))"
                    }
                }
                if !problem.isEmpty { result.problems.append("\(label)output \(i) %\(name), 1 thread: \(problem)") }
            }
            for (threads, outputs) in parallel where !bitIdentical(serial[i], outputs[i]) {
                let difference = compare(outputs[i], to: serial[i], tolerance: 0).map { ": \($0)" } ?? " (in bits only)"
                result.problems.append("\(label)output \(i) %\(name): 1 and \(threads) threads differ\(difference)")
            }
        }
    }
    return result
}

/// A pass that left a graph the verifier rejects, or a fixpoint group that never settled.
struct PassFailure: Error, CustomStringConvertible {
    var description: String
}

/// The standard pipeline (`Optimizer().pipeline`), run pass by pass with the verifier after
/// each, so that a broken pass becomes a reported failure instead of the precondition failure
/// the pipeline itself stops with (which would end the whole test process).
func optimizeVerifyingEachPass(_ graph: Graph) -> Result<Graph, PassFailure> {
    var graph = graph
    let context = PassContext()
    func run(_ pass: any Pass) throws -> Bool {
        let before = printGraph(graph)
        let changed = try pass.run(&graph, context: context)
        let problems = verify(graph)
        guard problems.isEmpty else {
            throw PassFailure(description: """
                pass \(pass.name) broke the graph: \(problems.map(\.description).joined(separator: "\n"))
                before:
                \(before)
                after:
                \(printGraph(graph))
                """)
        }
        return changed
    }
    do {
        for stage in Optimizer().pipeline.stages {
            switch stage {
            case .pass(let pass):
                _ = try run(pass)
            case .fixpoint(let name, let passes):
                var rounds = 0
                while try passes.reduce(false, { try run($1) || $0 }) {
                    rounds += 1
                    guard rounds < 50 else {
                        throw PassFailure(description: "fixpoint group \(name) did not converge; the graph keeps changing:\n\(printGraph(graph))")
                    }
                }
            }
        }
    } catch let failure as PassFailure {
        return .failure(failure)
    } catch {
        return .failure(PassFailure(description: "the pass pipeline threw: \(error)"))
    }
    return .success(graph)
}

/// Which graph the JIT compiles: the one given, or what the standard pass pipeline makes of it.
enum CompiledVariant: Equatable {
    case asBuilt, optimized
}

/// JIT-compiles `graph` once and runs it on the calling thread, on a private 2-thread pool and
/// on a private 3-thread pool (more threads than this machine's cores, and an odd split of
/// every task range). The serial executable runs twice, first on decoy inputs (every float 0.75,
/// every integer 1): a kernel that leaves part of its output unwritten then shows the decoy
/// run's values instead of zeros from fresh memory.
func runCompiled(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData],
                 options: CompileOptions = CompileOptions()) throws
    -> (serial: [TensorData], parallel: [(threads: Int, outputs: [TensorData])]) {
    let jit = try Compiler.jit(graph, options: options)
    let weightTensors = graph.weights.map { weights[graph[$0].name ?? ""]! }
    let inputTensors = graph.inputs.map { inputs[graph[$0].name ?? ""]! }
    func executable(_ pool: ThreadPool?) throws -> Executable {
        try Executable(jit, graph: graph, weights: weightTensors, pool: pool)
    }
    let serial = try executable(nil)
    _ = try serial.run(inputTensors.map { TensorData($0.elementType, shape: $0.shape, repeating: $0.elementType.isFloat ? 0.75 : 1) })
    return (try serial.run(inputTensors), try [2, 3].map { ($0, try executable(ThreadPool(threadCount: $0)).run(inputTensors)) })
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
