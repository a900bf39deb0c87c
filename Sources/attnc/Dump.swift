import ArgumentParser
import Codegen
import GraphIR

/// `attnc dump MODEL`: print one stage of compilation.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model at one stage of compilation.",
        discussion: """
            graph: the IR as text (reads back as .gir) or, with --format dot, as a Graphviz graph. \
            kernel: the loop-level kernel plan. llvm: the optimised LLVM IR. asm: the host assembly. \
            The kernel, llvm and asm stages need every symbolic dim bound with --bind.
            """)

    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case graph, kernel, llvm, asm
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, dot
    }

    @OptionGroup var model: ModelArgument

    @Option(help: "The stage to print: graph, kernel, llvm or asm.")
    var stage: Stage = .graph

    @Option(help: "Output format of the graph stage: text or dot (Graphviz).")
    var format: Format = .text

    @Option(help: ArgumentHelp("Size of a symbolic dim, repeatable.", valueName: "symbol=size"))
    var bind: [String] = []

    func validate() throws {
        if format == .dot && stage != .graph { throw ValidationError("--format dot applies to the graph stage only") }
    }

    func run() throws {
        let graph = try loadModel(model.model)
        switch stage {
        case .graph:
            print(format == .text ? printGraph(graph) : printDot(graph), terminator: "")
        case .kernel:
            print(try Compiler.plan(try graph.specialized(try parseBindings(bind, for: graph))), terminator: "")
        case .llvm:
            print(try Compiler.llvmText(try graph.specialized(try parseBindings(bind, for: graph))), terminator: "")
        case .asm:
            print(try Compiler.assembly(try graph.specialized(try parseBindings(bind, for: graph))), terminator: "")
        }
    }
}
