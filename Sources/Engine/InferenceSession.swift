import Codegen
import Foundation
import GraphIR
import Passes
import Runtime

/// Compiles a graph with its weights to native code and runs it: the Swift API behind
/// `attnc run`.
///
/// ```swift
/// let session = try InferenceSession(graph, weights: weights)
/// let outputs = try session.run(["x": x])
/// ```
public final class InferenceSession {
    public let graph: Graph
    public let plan: KernelPlan
    public let timings: CompileTimings
    public let executable: Executable
    private let jit: JITModule

    /// Remarks the optimiser made (fusions and near misses).
    public let remarks: [Remark]

    /// Optimises and JIT-compiles `graph` (its symbolic dims bound by `symbols`) with `weights`
    /// bound by name.
    /// - Parameters:
    ///   - threads: threads kernels run on; nil uses every core, 1 runs on the caller.
    ///   - optimizer: the pass pipeline to run first (`Optimizer(fuse: false)` for no fusion; nil
    ///     when the graph is already optimised).
    public init(_ graph: Graph, weights: [String: TensorData], weightsFile: String? = nil, symbols: [String: Int] = [:],
                threads: Int? = nil, optimizer: Optimizer? = Optimizer(), options: CompileOptions = CompileOptions()) throws {
        var bound = try graph.specialized(symbols)
        if let optimizer {
            let result = try optimizer.run(bound)
            bound = result.graph
            remarks = result.remarks
        } else {
            remarks = []
        }
        self.graph = bound
        let weightTensors = try bound.weights.map { id -> TensorData in
            let name = bound[id].name ?? ""
            guard let tensor = weights[name] else {
                throw Diagnostic(.error, "missing weight '\(name)' (\(bound.type(of: id)))", file: weightsFile)
            }
            return tensor
        }
        jit = try Compiler.jit(bound, options: options)
        plan = jit.plan
        timings = jit.timings
        let threadCount = threads ?? ThreadPool.defaultThreadCount
        executable = try Executable(jit, graph: bound, weights: weightTensors,
                                    pool: threadCount > 1 ? SharedPools.pool(threads: threadCount) : nil, profiled: options.profile)
    }

    /// Runs on named inputs; returns the outputs in the graph's order.
    public func run(_ inputs: [String: TensorData]) throws -> [(name: String, tensor: TensorData)] {
        let tensors = try graph.inputs.map { id -> TensorData in
            guard let tensor = inputs[graph[id].name ?? ""] else { throw Diagnostic(.error, "missing input '\(graph[id].name ?? "")'") }
            return tensor
        }
        return zip(executable.outputs, try executable.run(tensors)).map { ($0.name, $1) }
    }
}

/// One thread pool per thread count for the whole process: pools are expensive to start and
/// sessions are cheap.
enum SharedPools {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pools: [Int: ThreadPool] = [:]

    static func pool(threads: Int) -> ThreadPool {
        lock.lock()
        defer { lock.unlock() }
        if let pool = pools[threads] { return pool }
        let pool = ThreadPool(threadCount: threads)
        pools[threads] = pool
        return pool
    }
}
