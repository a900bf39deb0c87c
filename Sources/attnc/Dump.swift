import ArgumentParser
import Codegen
import Engine
import GraphIR

/// `attnc dump MODEL`: print one stage of compilation.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model at one stage of compilation.",
        discussion: """
            input: the IR as read (text reads back as .gir; --format dot draws it). graph: the IR \
            after the pass pipeline (--no-fuse, --print-after, --diff, --stop-after, --start-after \
            and --remarks inspect it). kernel: the loop-level kernel plan. llvm: the optimised LLVM \
            IR. asm: the host assembly. The kernel, llvm and asm stages need every symbolic dim \
            bound with --bind.
            """)

    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case input, graph, kernel, llvm, asm
    }

    @OptionGroup var model: ModelArgument

    @Option(help: "The stage to print: input, graph, kernel, llvm or asm.")
    var stage: Stage = .input

    @Option(help: "How graphs are printed: text or dot (Graphviz).")
    var format: GraphFormat = .text

    @Option(help: ArgumentHelp("Size of a symbolic dim, repeatable.", valueName: "symbol=size"))
    var bind: [String] = []

    @OptionGroup var passes: PassOptions

    func validate() throws {
        if format == .dot && [.kernel, .llvm, .asm].contains(stage) { throw ValidationError("--format dot applies to graph stages only") }
    }

    func run() throws {
        let graph = try loadModel(model.model)
        // Any pass option implies the pipeline runs.
        if stage == .input && !passes.inspects {
            print(format.render(graph), terminator: "")
            return
        }
        let optimized = try passes.optimize(graph, format: format) { print($0, terminator: "") }
        if passes.stopAfter != nil {
            print(format.render(optimized), terminator: "")
            return
        }
        switch stage {
        case .input:
            return
        case .graph:
            print(format.render(optimized), terminator: "")
        case .kernel:
            print(try Compiler.plan(try optimized.specialized(try parseBindings(bind, for: optimized))), terminator: "")
        case .llvm:
            print(try Compiler.llvmText(try optimized.specialized(try parseBindings(bind, for: optimized))), terminator: "")
        case .asm:
            print(try Compiler.assembly(try optimized.specialized(try parseBindings(bind, for: optimized))), terminator: "")
        }
    }
}
