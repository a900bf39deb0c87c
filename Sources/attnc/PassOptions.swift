import ArgumentParser
import Engine
import Foundation
import GraphIR
import Passes

/// The options that inspect and steer the pass pipeline, shared by dump, run and bench.
struct PassOptions: ParsableArguments {
    @Flag(name: .customLong("no-fuse"), help: "Turn every fusion off (for comparison and bisecting).")
    var noFuse = false

    @Option(help: ArgumentHelp("Print the IR after these passes (comma-separated, or all).", valueName: "passes"))
    var printAfter: String?

    @Flag(help: "Print a unified diff of the IR for every pass that changed it.")
    var diff = false

    @Option(help: ArgumentHelp("Stop after this pass and print the IR (attnc reads it back).", valueName: "pass"))
    var stopAfter: String?

    @Option(help: ArgumentHelp("The model is the IR after this pass: run only the passes after it.", valueName: "pass"))
    var startAfter: String?

    @Flag(help: "Print what every fusion absorbed, and for each chain that was not fused, the node that stopped it.")
    var remarks = false

    @Flag(name: .customLong("pass-stats"), help: "Print each pass's time and whether it changed the graph.")
    var passStats = false

    var optimizer: Optimizer {
        Optimizer(fuse: !noFuse, options: PassPipeline.Options(startAfter: startAfter, stopAfter: stopAfter))
    }

    /// Whether anything here asks for output.
    var inspects: Bool { printAfter != nil || diff || stopAfter != nil || remarks || passStats }

    /// Runs the pipeline, writing what was asked for to `write`. Returns the optimised graph.
    func optimize(_ graph: Graph, format: GraphFormat, write: (String) -> Void) throws -> Graph {
        let selected = Set((printAfter ?? "").split(separator: ",").map { String($0) })
        var previous = printGraph(graph)
        let result = try optimizer.run(graph) { event in
            let text = printGraph(event.graph)
            if selected.contains("all") || selected.contains(event.pass) {
                write("// ----- IR after \(event.pass)\(event.changed ? "" : " (unchanged)")\n" + format.render(event.graph))
            }
            if diff && event.changed {
                write(unifiedDiff(previous, text, oldName: "before \(event.pass)", newName: "after \(event.pass)"))
            }
            if passStats {
                write(String(format: "pass %-20@ %8.3f ms  %@\n", event.pass as NSString, event.seconds * 1000,
                             (event.changed ? "changed" : "unchanged") as NSString))
            }
            previous = text
        }
        if remarks {
            // Remarks go to stderr, as compilers print them, so printed IR stays readable back.
            for remark in result.remarks { writeToStandardError(remark.description + "\n") }
        }
        return result.graph
    }
}

/// How a graph is printed: the .gir text or Graphviz.
enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
    case text, dot

    func render(_ graph: Graph) -> String { self == .text ? printGraph(graph) : printDot(graph) }
}
