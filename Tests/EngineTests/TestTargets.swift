import Codegen
import GraphIR

/// The targets differential tests of a kernel run on. `runDifferential` compiles for the host;
/// on an AVX-512 host that leaves the 8-lane code every AVX2 machine runs unexercised, so kernels
/// with vector tails are checked on AVX2 too (an AVX-512 CPU runs AVX2 code).
enum TestTargets {
    /// The host, then AVX2 (`x86-64-v3`, 8 lanes) when the host is an x86-64 with wider vectors.
    static func hostAndAVX2() throws -> [CompileOptions] {
        let host = CompileOptions()
        guard host.target.triple.hasPrefix("x86_64"), host.lanes > 8 else { return [host] }
        return [host, CompileOptions(target: try TargetCPU.resolve(cpu: "x86-64-v3", features: nil))]
    }

    /// `runDifferential`'s problems on every target of `hostAndAVX2`, each prefixed by its lanes.
    static func problems(_ graph: Graph, inputs: [String: TensorData], weights: [String: TensorData]) throws -> [String] {
        try hostAndAVX2().flatMap { options in
            runDifferential(graph, inputs: inputs, weights: weights, options: options).allProblems.map { "\(options.lanes) lanes: \($0)" }
        }
    }
}
