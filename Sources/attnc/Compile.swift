import ArgumentParser
import Codegen
import Engine
import Foundation
import GraphIR
import Runtime

/// `attnc compile MODEL -o NAME.o --header NAME.h`: ahead-of-time compilation to an object file
/// and a C header that link into a C program with no runtime (docs/AOT.md).
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a model to an object file and a C header (ahead of time).",
        discussion: """
            The object defines PREFIX_scratch_size, PREFIX_run and PREFIX_set_parallel_for (and \
            PREFIX_set_weights with --weights-mode file) and needs only libc and libm: \
            cc main.c NAME.o -lm. Every symbol it defines starts with PREFIX_. Symbolic dims must \
            be bound with --bind. See docs/AOT.md for the C ABI.
            """)

    @OptionGroup var model: ModelArgument

    @Option(help: ArgumentHelp("Weights to bind by name (a PyTorch state_dict saved as safetensors). For an .onnx model the initializers are the weights; tensors given here replace initializers of the same name.", valueName: "file.safetensors"))
    var weights: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The object file to write.", valueName: "NAME.o"))
    var output: String

    @Option(help: ArgumentHelp("The C header to write (default: NAME.h beside the object).", valueName: "NAME.h"))
    var header: String?

    @Option(help: ArgumentHelp("Prefix of every symbol and macro (default: the object's file name as a C identifier).", valueName: "name"))
    var prefix: String?

    @Option(help: ArgumentHelp("embed: weights inside the object; file: NAME.weights beside it, handed over with PREFIX_set_weights.", valueName: "embed|file"))
    var weightsMode: WeightsMode = .embed

    @Option(help: ArgumentHelp("CPU to compile for: \(TargetCPU.names.joined(separator: ", ")) (default: native, the host).", valueName: "cpu"))
    var targetCPU: String?

    @Option(help: ArgumentHelp("Features to add to or remove from the CPU's, e.g. +avx2,+fma or -avx512f.", valueName: "features"))
    var targetFeatures: String?

    @Option(help: ArgumentHelp("Size of a symbolic dim, repeatable; every symbol must be bound.", valueName: "symbol=size"))
    var bind: [String] = []

    @OptionGroup var passes: PassOptions

    func validate() throws {
        if let prefix, !CIdentifier.isValid(prefix) {
            throw ValidationError("--prefix '\(prefix)' is not a C identifier (letters, digits and _, not starting with a digit)")
        }
        if output.isEmpty { throw ValidationError("-o needs a file name") }
    }

    func run() throws {
        let target = try TargetCPU.resolve(cpu: targetCPU, features: targetFeatures)
        let (graph, modelWeights) = try loadModelAndWeights(model.model)
        let symbols = try parseBindings(bind, for: graph)
        let weightTensors = modelWeights.merging(try weights.map { try SafetensorsFile.read(path: $0) } ?? [:]) { $1 }
        let optimized = try passes.optimize(try graph.specialized(symbols), format: .text, write: writeToStandardError)
        let ordered = try optimized.weights.map { id -> TensorData in
            let name = optimized[id].name ?? ""
            guard let tensor = weightTensors[name] else {
                throw Diagnostic(.error, "missing weight '\(name)' (\(optimized.type(of: id)))" + (weights == nil ? "; give the weights with --weights FILE.safetensors" : ""),
                                 file: weights)
            }
            return tensor
        }
        let base = (output as NSString).deletingPathExtension
        let stem = (base as NSString).lastPathComponent
        let weightsPath = base + ".weights"
        let options = AOTOptions(prefix: prefix ?? CIdentifier.sanitized(stem), target: target, weightsMode: weightsMode,
                                 weightsFileName: (weightsPath as NSString).lastPathComponent,
                                 sourceName: (model.model as NSString).lastPathComponent, generator: "attnc \(Attnc.version)")
        let bundle = try AOTCompiler.compile(optimized, weights: ordered, options: options)
        let headerPath = header ?? base + ".h"
        try write(bundle.object, to: output)
        try write(Array(bundle.header.utf8), to: headerPath)
        if let file = bundle.weightsFile { try write(file, to: weightsPath) }
        print("\(output): prefix \(options.prefix), \(target.triple) \(target.cpu) (\(target.vectorWidth) lanes), "
              + "\(bundle.plan.kernels.count) kernels, scratch \(bundle.scratchBytes) bytes")
        print("\(headerPath): \(optimized.inputs.count) input(s), \(optimized.outputs.count) output(s)")
        if bundle.weightsFile != nil { print("\(weightsPath): \(bundle.weightsFile!.count) bytes") }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw Diagnostic(.error, "cannot write: the directory \(directory) does not exist", file: path)
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw Diagnostic(.error, "cannot write: \(error.localizedDescription)", file: path)
        }
    }
}

extension WeightsMode: ExpressibleByArgument {}
