import GraphIR
import Runtime

/// Refuses a graph that cannot fit in this machine's memory before anything is allocated (or
/// random inputs are made): its inputs, outputs and weights, or with the interpreter every value
/// (held as doubles). The compiled path checks its intermediate buffers too, in `Executable`.
func refuseIfTooLarge(_ graph: Graph, interpreted: Bool = false) throws {
    if interpreted {
        let values = graph.values.map { TensorType(.f64, $0.type.shape) }
        try MemoryLimit.check(MemoryLimit.bytes(of: values), for: "the interpreter on graph '\(graph.name)' (every value, as doubles)")
    } else {
        let ports = (graph.inputs + graph.outputs + graph.weights).map { graph.type(of: $0) }
        try MemoryLimit.check(MemoryLimit.bytes(of: ports), for: "graph '\(graph.name)' (its inputs, outputs and weights)")
    }
}
