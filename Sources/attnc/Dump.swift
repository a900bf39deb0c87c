import ArgumentParser
import GraphIR

/// `attnc dump MODEL`: print the IR as text or as a Graphviz graph.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a model's IR as text or as a Graphviz graph.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, dot
    }

    @OptionGroup var model: ModelArgument

    @Option(help: "Output format: text (the .gir form, which reads back) or dot (Graphviz).")
    var format: Format = .text

    func run() throws {
        let graph = try loadModel(model.model)
        switch format {
        case .text: print(printGraph(graph), terminator: "")
        case .dot: print(printDot(graph), terminator: "")
        }
    }
}
