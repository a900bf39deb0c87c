import GraphIR
import Passes

/// Runs the pass pipeline on a graph: what every command does between reading a model and
/// planning kernels.
public struct Optimizer {
    public var fuse = true
    public var options = PassPipeline.Options()

    public init(fuse: Bool = true, options: PassPipeline.Options = PassPipeline.Options()) {
        self.fuse = fuse
        self.options = options
    }

    /// The standard pipeline, every pass checked by the verifier (see `VerifiedPass`).
    public var pipeline: PassPipeline { PassPipeline.standard(fuse: fuse).verified }

    /// The optimised graph, the remarks the passes made, and every pass run (`observe` sees each
    /// one as it happens).
    public func run(_ graph: Graph, observe: (PassPipeline.Event) -> Void = { _ in }) throws
        -> (graph: Graph, remarks: [Remark], events: [PassPipeline.Event]) {
        var graph = graph
        let context = PassContext()
        let events = try pipeline.run(&graph, context: context, options: options, observe: observe)
        return (graph, context.remarks, events)
    }
}
