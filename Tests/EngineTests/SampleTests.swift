import Engine
import Foundation
import GraphIR
import Reference
import Runtime
import Testing

/// Every sample with its conformance weights and inputs through the JIT (1, 2 and 3 threads),
/// unoptimised and optimised, and the interpreter.
@Suite struct SampleTests {
    static let samples = TestPaths.files(in: TestPaths.samples, ending: ".gir").map { $0.deletingPathExtension().lastPathComponent }

    /// The sample's graph, its conformance inputs and weights.
    static func load(_ name: String) throws -> (Graph, inputs: [String: TensorData], weights: [String: TensorData]) {
        let graph = try parseGraph(try String(contentsOf: TestPaths.samples.appendingPathComponent("\(name).gir"), encoding: .utf8),
                                   path: "samples/\(name).gir")
        let directory = TestPaths.conformance.appendingPathComponent(name)
        var inputs: [String: TensorData] = [:]
        for id in graph.inputs {
            let input = graph[id].name ?? ""
            inputs[input] = try NumpyFile.read(path: directory.appendingPathComponent("inputs/\(input).npy").path)
        }
        let weights = try SafetensorsFile.read(path: directory.appendingPathComponent("weights.safetensors").path)
        return (graph, inputs, weights)
    }

    @Test func everySampleHasConformanceData() {
        #expect(Self.samples.count >= 16)
        for name in Self.samples {
            #expect(FileManager.default.fileExists(atPath: TestPaths.conformance.appendingPathComponent("\(name)/case.json").path),
                    "no conformance case for samples/\(name).gir")
        }
    }

    /// As written and as the pass pipeline rewrites it (fusion included).
    @Test(arguments: samples)
    func sampleMatchesTheInterpreter(name: String) throws {
        let (graph, inputs, weights) = try Self.load(name)
        let result = runDifferential(graph, inputs: inputs, weights: weights)
        #expect(result.allProblems.isEmpty, "samples/\(name).gir:\n\(result.allProblems.joined(separator: "\n"))")
    }

    /// The public API on the same data: `InferenceSession` (its default optimiser, two threads).
    @Test(arguments: samples)
    func inferenceSessionMatchesTheInterpreter(name: String) throws {
        let (graph, inputs, weights) = try Self.load(name)
        let expected = try ReferenceInterpreter.run(graph, inputs: inputs, weights: weights)
        let outputs = try InferenceSession(graph, weights: weights, threads: 2).run(inputs)
        #expect(outputs.map(\.name) == expected.map(\.name))
        for (output, reference) in zip(outputs, expected) {
            if let problem = compare(output.tensor, to: reference.tensor, tolerance: 1e-5) {
                Issue.record("samples/\(name).gir output \(reference.name): \(problem)")
            }
        }
    }
}
