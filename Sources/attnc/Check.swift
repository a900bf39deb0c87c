import ArgumentParser
import GraphIR

/// `attnc check MODEL`: parse and verify, printing every diagnostic.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse and verify a model; exit 1 with diagnostics if it is malformed.")

    @OptionGroup var model: ModelArgument

    func run() throws {
        let graph = try loadModel(model.model)
        let weights = graph.weights.count
        print("\(model.model): ok: graph '\(graph.name)', \(graph.inputs.count) input\(graph.inputs.count == 1 ? "" : "s"), \(weights) weight\(weights == 1 ? "" : "s"), \(graph.nodes.count) node\(graph.nodes.count == 1 ? "" : "s"), \(graph.outputs.count) output\(graph.outputs.count == 1 ? "" : "s")")
    }
}
