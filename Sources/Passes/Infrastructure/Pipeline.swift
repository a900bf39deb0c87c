import Foundation
import GraphIR

/// The pass pipeline: a visible, ordered list of stages. A fixpoint stage repeats its passes
/// until none of them changes the graph; one that still changes it after `maximumRounds` rounds
/// is a compiler bug, thrown as an `InternalError` naming the group and the passes that kept
/// changing it, with the graph written to a file (a compiler must not hang, and a thrown error
/// reaches the user as a report instead of a crash).
public struct PassPipeline {
    public enum Stage {
        case pass(any Pass)
        case fixpoint(String, [any Pass])
    }

    public var stages: [Stage]
    /// How many rounds a fixpoint group may take (the simplify group settles in two or three).
    public var maximumRounds = 100

    public init(_ stages: [Stage]) { self.stages = stages }

    /// The default pipeline; `fuse: false` leaves out every fusion (for comparison and bisecting).
    public static func standard(fuse: Bool = true) -> PassPipeline {
        let simplify = Stage.fixpoint("simplify", [Canonicalize(), FoldConstants(), EliminateCommonSubexpressions(), EliminateDeadCode()])
        guard fuse else { return PassPipeline([simplify]) }
        return PassPipeline([
            simplify,
            .pass(FuseAttention()),
            simplify,
            .pass(FuseChannelGate()),
            .pass(FuseSpatialGate()),
            .pass(EliminateDeadCode()),
            .pass(FuseElementwise()),
            .pass(EliminateDeadCode()),
        ])
    }

    /// Every pass name, in the order they first run.
    public var passNames: [String] {
        var names: [String] = []
        for stage in stages {
            switch stage {
            case .pass(let pass): if !names.contains(pass.name) { names.append(pass.name) }
            case .fixpoint(_, let passes): for pass in passes where !names.contains(pass.name) { names.append(pass.name) }
            }
        }
        return names
    }

    /// One pass run, as an observer sees it.
    public struct Event {
        public let pass: String
        public let changed: Bool
        public let seconds: Double
        public let graph: Graph
    }

    public struct Options {
        /// Run the verifier after every pass (on in debug builds and tests).
        public var verifyEachPass: Bool
        /// Start with the first pass after this one (the input is that pass's output).
        public var startAfter: String?
        /// Stop after the first run of this pass.
        public var stopAfter: String?

        public init(verifyEachPass: Bool = PassPipeline.isDebugBuild, startAfter: String? = nil, stopAfter: String? = nil) {
            self.verifyEachPass = verifyEachPass
            self.startAfter = startAfter
            self.stopAfter = stopAfter
        }
    }

    public static var isDebugBuild: Bool {
        #if DEBUG
        return true
        #else
        return false
        #endif
    }

    /// Runs the pipeline. `observe` sees every pass run (for --print-after, --diff, --stats).
    @discardableResult
    public func run(_ graph: inout Graph, context: PassContext, options: Options = Options(),
                    observe: (Event) -> Void = { _ in }) throws -> [Event] {
        for name in [options.startAfter, options.stopAfter].compactMap({ $0 }) where !passNames.contains(name) {
            throw Diagnostic(.error, "unknown pass '\(name)'; the passes are \(passNames.joined(separator: ", "))")
        }
        var events: [Event] = []
        var started = options.startAfter == nil
        func runPass(_ pass: any Pass) throws -> (changed: Bool, stop: Bool) {
            guard started else {
                if pass.name == options.startAfter { started = true }
                return (false, false)
            }
            let start = Date()
            let changed = try pass.run(&graph, context: context)
            let event = Event(pass: pass.name, changed: changed, seconds: Date().timeIntervalSince(start), graph: graph)
            events.append(event)
            observe(event)
            if options.verifyEachPass {
                let problems = verify(graph)
                if !problems.isEmpty {
                    preconditionFailure("pass \(pass.name) broke the graph:\n\(problems.map(\.description).joined(separator: "\n"))\n\(printGraph(graph))")
                }
            }
            return (changed, pass.name == options.stopAfter)
        }
        for stage in stages {
            switch stage {
            case .pass(let pass):
                if try runPass(pass).stop { return events }
            case .fixpoint(let name, let passes):
                var rounds = 0
                var changed = true
                while changed {
                    changed = false
                    var changing: [String] = []
                    for pass in passes {
                        let result = try runPass(pass)
                        if result.stop { return events }
                        if result.changed { changing.append(pass.name) }
                        changed = changed || result.changed
                    }
                    rounds += 1
                    if changed && rounds >= maximumRounds {
                        throw InternalError(stage: "fixpoint group \(name)",
                                            problem: "it did not converge: after \(rounds) rounds \(changing.joined(separator: ", ")) still changed the graph",
                                            ir: printGraph(graph), fileExtension: "gir")
                    }
                    if !started { break }
                }
            }
        }
        if !started, let startAfter = options.startAfter {
            throw Diagnostic(.error, "--start-after \(startAfter): the pipeline never ran that pass")
        }
        return events
    }
}
