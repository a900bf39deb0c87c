import Foundation
import GraphIR
import ONNXImport
import Reference
import Runtime
import Testing

/// Every conformance model imports, verifies, prints as `.gir` text that reads back to the same
/// text, and runs through the reference interpreter to PyTorch's outputs.
@Suite struct ConformanceImportTests {
    @Test func theConformanceModelsAreThere() {
        #expect(TestPaths.conformanceCases.count >= 16, "no conformance models under \(TestPaths.conformance.path)")
    }

    @Test(arguments: TestPaths.conformanceCases)
    func importsPrintsAndRuns(_ name: String) throws {
        let directory = TestPaths.conformance.appendingPathComponent(name)
        let model = try importONNX(path: directory.appendingPathComponent("model.onnx").path)
        #expect(verify(model.graph).isEmpty)

        let text = printGraph(model.graph)
        let reparsed = try parseGraph(text, path: "\(name).gir")
        #expect(verify(reparsed).isEmpty)
        #expect(printGraph(reparsed) == text)
        #expect(Set(model.weights.keys) == Set(model.graph.weights.compactMap { model.graph[$0].name }))

        var inputs: [String: TensorData] = [:]
        for id in model.graph.inputs {
            let inputName = try #require(model.graph[id].name)
            inputs[inputName] = try NumpyFile.read(path: directory.appendingPathComponent("inputs/\(inputName).npy").path)
        }
        let outputs = try ReferenceInterpreter.run(model.graph, inputs: inputs, weights: model.weights)
        for (outputName, tensor) in outputs {
            let expected = try NumpyFile.read(path: directory.appendingPathComponent("expected/\(outputName).npy").path)
            #expect(tensor.shape == expected.shape, "\(name): output \(outputName)")
            let error = relativeL2(tensor.floats, expected.floats)
            #expect(error <= 1e-4, "\(name): output \(outputName) has relative L2 error \(error)")
        }
    }

    @Test func theCausalMaskImportsAsIotaAndACompare() throws {
        let model = try importONNX(path: TestPaths.conformance.appendingPathComponent("sdpa_causal/model.onnx").path)
        let text = printGraph(model.graph)
        #expect(text.contains("""
              %0 = iota(axis=0) : i64[20,20]
              %1 = iota(axis=1) : i64[20,20]
              %"/Trilu_output_0" = gt(%1, %0) : i1[20,20]
              %"/Where_output_0" = select(%"/Trilu_output_0", -inf, %"/Mul_output_0") : f32[2,3,20,20]
            """))
    }

    @Test func initializersBecomeWeightsUnderTheirNames() throws {
        let model = try importONNX(path: TestPaths.conformance.appendingPathComponent("se/model.onnx").path)
        let names = model.graph.weights.compactMap { model.graph[$0].name }
        #expect(!names.isEmpty)
        for name in names { #expect(model.weights[name] != nil) }
        // The SE block's fully connected layers export as Gemm with a transposed weight: linear.
        #expect(printGraph(model.graph).contains(" = linear("))
    }
}
