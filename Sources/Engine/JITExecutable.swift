import Codegen
import GraphIR
import Runtime

extension Executable {
    /// A runnable instance of JIT-compiled code for `graph` (the graph the code was compiled
    /// from): its ports, weights, arena and, when the plan has setup kernels, the persistent
    /// buffer they fill, run once here.
    public convenience init(_ jit: JITModule, graph: Graph, weights: [TensorData], pool: ThreadPool?, profiled: Bool = false) throws {
        try self.init(
            entryAddress: jit.entryAddress, setupAddress: jit.setupAddress, persistentBytes: jit.plan.persistentBytes, codeOwner: jit,
            inputs: graph.inputs.map { Executable.Port(name: graph[$0].name ?? "", type: graph.type(of: $0)) },
            outputs: graph.outputs.map { Executable.Port(name: graph[$0].name ?? "", type: graph.type(of: $0)) },
            weights: weights, arenaBytes: jit.plan.arenaBytes, pool: pool,
            profiledPhases: profiled ? jit.plan.phaseLabels.count : nil)
    }
}
