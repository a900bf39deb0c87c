import GraphIR
import Passes

/// A pass that runs the verifier on what it produced: a pass that breaks the graph stops
/// compilation with an `InternalError` naming the pass, and the graph it was given is written
/// to the file the error names (with the broken result after it, as comments), so the failure
/// replays with `attnc dump FILE`.
///
/// The optimiser wraps every pass of the pipeline in one, in release builds too: verifying is
/// linear in the graph, and a broken graph reaching the code generator is a crash or wrong code.
struct VerifiedPass: Pass {
    let pass: any Pass

    var name: String { pass.name }

    func run(_ graph: inout Graph, context: PassContext) throws -> Bool {
        let before = graph
        let changed = try pass.run(&graph, context: context)
        let problems = verify(graph)
        guard problems.isEmpty else {
            let after = printGraph(graph).split(separator: "\n", omittingEmptySubsequences: false).map { "// \($0)" }
            throw InternalError(stage: "pass \(pass.name)",
                                problem: "it left a graph the verifier rejects: \(problems.map(\.description).joined(separator: "; "))",
                                ir: printGraph(before) + "\n// What \(pass.name) made of it:\n" + after.joined(separator: "\n") + "\n",
                                fileExtension: "gir")
        }
        return changed
    }
}

extension PassPipeline {
    /// The same pipeline with every pass wrapped in a `VerifiedPass`.
    var verified: PassPipeline {
        var copy = self
        copy.stages = stages.map { stage in
            switch stage {
            case .pass(let pass): return .pass(VerifiedPass(pass: pass))
            case .fixpoint(let name, let passes): return .fixpoint(name, passes.map { VerifiedPass(pass: $0) })
            }
        }
        return copy
    }
}
