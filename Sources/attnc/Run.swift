import ArgumentParser
import Engine
import Foundation
import GraphIR
import Reference
import Runtime

/// `attnc run MODEL`: run a model on `.npy` inputs and write `.npy` outputs.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on .npy inputs and write one .npy file per output.",
        discussion: """
            Inputs come from --input NAME=FILE.npy; with --random-inputs SEED the inputs not given \
            are filled with seeded standard-normal values. Every graph output NAME is written to \
            DIR/NAME.npy.
            """)

    @OptionGroup var model: ModelArgument

    @Option(help: ArgumentHelp("Weights to bind by name (a PyTorch state_dict saved as safetensors). For an .onnx model the initializers are the weights; tensors given here replace initializers of the same name.", valueName: "file.safetensors"))
    var weights: String?

    @Option(name: .customLong("input"), help: ArgumentHelp("An input tensor, repeatable.", valueName: "name=file.npy"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Fill inputs not given with --input from this seed.", valueName: "seed"))
    var randomInputs: UInt64?

    @Option(help: ArgumentHelp("Directory for the outputs (created if missing).", valueName: "dir"))
    var outputDir: String

    @Flag(help: "Run with the reference interpreter instead of JIT-compiled code.")
    var interp = false

    @OptionGroup var threads: ThreadsOption

    @Flag(help: "Print the arena size and the compile and run times to stderr.")
    var stats = false

    @OptionGroup var passes: PassOptions

    func run() throws {
        let (graph, modelWeights) = try loadModelAndWeights(model.model)
        try refuseIfTooLarge(graph, interpreted: interp)
        let weightTensors = modelWeights.merging(try weights.map { try SafetensorsFile.read(path: $0) } ?? [:]) { $1 }
        let inputTensors = try readInputs(for: graph)
        let bindings = try GraphBindings(graph: graph, inputs: inputTensors, weights: weightTensors, weightsFile: weights)
        let outputs: [(name: String, tensor: TensorData)]
        if interp {
            let start = Date()
            outputs = try ReferenceInterpreter.run(graph, bindings: bindings)
            if stats { printStats("interpreter run \(milliseconds(since: start))") }
        } else {
            let optimized = try passes.optimize(try graph.specialized(bindings.symbols), format: .text, write: writeToStandardError)
            let session = try InferenceSession(optimized, weights: weightTensors, weightsFile: weights, threads: threads.count,
                                               optimizer: nil)
            let start = Date()
            outputs = try session.run(Dictionary(uniqueKeysWithValues: zip(graph.inputs.map { graph[$0].name ?? "" }, bindings.inputs)))
            if stats {
                let t = session.timings
                printStats("arena \(session.plan.arenaBytes) bytes, \(session.plan.kernels.count) kernels, \(session.executable.threadCount) thread(s)")
                printStats("compile \(format(t.total)) (plan \(format(t.plan)), emit \(format(t.emit)), LLVM \(format(t.llvm)), link \(format(t.link)))")
                printStats("run \(milliseconds(since: start))")
            }
        }
        try writeOutputs(outputs)
    }

    private func readInputs(for graph: Graph) throws -> [String: TensorData] {
        var tensors: [String: TensorData] = [:]
        for spec in inputs {
            guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex, spec.index(after: equals) != spec.endIndex else {
                throw ValidationError("--input expects NAME=FILE.npy, got '\(spec)'")
            }
            let name = String(spec[..<equals])
            guard graph.input(named: name) != nil else {
                throw Diagnostic(.error, "--input \(name): graph '\(graph.name)' has no input '\(name)'; its inputs are \(graph.inputs.map { graph[$0].name ?? "" }.joined(separator: ", "))")
            }
            guard tensors[name] == nil else { throw ValidationError("--input \(name) is given twice") }
            tensors[name] = try NumpyFile.read(path: String(spec[spec.index(after: equals)...]))
        }
        if let seed = randomInputs {
            var generator = SeededGenerator(seed: seed)
            for id in graph.inputs {
                let name = graph[id].name ?? ""
                // Draw for every input in order so a given input's values do not depend on which others were supplied.
                guard let tensor = randomTensor(graph.type(of: id), using: &generator) else {
                    if tensors[name] == nil {
                        throw Diagnostic(.error, "--random-inputs cannot fill input '\(name)': its type \(graph.type(of: id)) has symbolic dims; give it with --input")
                    }
                    continue
                }
                if tensors[name] == nil { tensors[name] = tensor }
            }
        }
        return tensors
    }

    private func writeOutputs(_ outputs: [(name: String, tensor: TensorData)]) throws {
        do {
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        } catch {
            throw Diagnostic(.error, "cannot create the output directory: \(error.localizedDescription)", file: outputDir)
        }
        for (name, tensor) in outputs {
            let path = (outputDir as NSString).appendingPathComponent(outputFileName(name))
            try NumpyFile.write(tensor, path: path)
            print("\(name): \(tensor.type) \(checksumText(tensor)) -> \(path)")
        }
    }
}

/// `NAME.npy`, with path separators and other unsafe characters in the name replaced by `_`.
func outputFileName(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber || "_.-".contains($0) ? $0 : "_" }) + ".npy"
}

/// `sum=… l2=…` of a tensor's values, enough to tell two results apart at a glance.
func checksumText(_ tensor: TensorData) -> String {
    let values = tensor.doubles
    let sum = values.reduce(0, +)
    let l2 = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return String(format: "sum=%.6g l2=%.6g", sum, l2)
}

/// `--threads N`, shared by the commands that run compiled code.
struct ThreadsOption: ParsableArguments {
    @Option(name: .customLong("threads"), help: ArgumentHelp("Threads to run kernels on (default: every core).", valueName: "n"))
    var count: Int?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--threads must be at least 1, got \(count)") }
    }
}

func printStats(_ text: String) { writeToStandardError(text + "\n") }

func writeToStandardError(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

func format(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }

func milliseconds(since start: Date) -> String { format(Date().timeIntervalSince(start)) }
