import Engine
import Foundation
import GraphIR
import ONNXImport
import Reference

/// One ONNX node test: `model.onnx` and its `test_data_set_K` folders of serialized inputs and
/// expected outputs.
struct NodeTestCase {
    let name: String
    let directory: URL
    let summary: ONNXModelSummary

    init(directory: URL) throws {
        self.directory = directory
        name = directory.lastPathComponent
        summary = try ONNXModelSummary(path: directory.appendingPathComponent("model.onnx").path)
    }

    /// The op the case tests: the model's one op type, or for a model spelled in several ops
    /// (an `_expanded` case) the op its name starts with.
    var family: String {
        let types = Set(summary.nodes.map(\.opType))
        if types.count == 1 { return types.first! }
        let base = name.dropFirst("test_".count)
        let match = supportedONNXOps.filter { base.hasPrefix(snakeCase($0) + "_") || base == snakeCase($0) }.max { $0.count < $1.count }
        let label = match ?? String(base.prefix { $0 != "_" })
        return "\(label) (\(name.contains("_expanded") ? "expanded" : "composite"))"
    }

    /// Runs every data set through the interpreter, or with `jit` through the passes and
    /// JIT-compiled code on one thread; nil when all pass, else why the first failure failed.
    func run(tolerance: Tolerance, jit: Bool = false) -> String? {
        let modelPath = directory.appendingPathComponent("model.onnx").path
        let sets: [URL]
        do {
            sets = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.lastPathComponent.hasPrefix("test_data_set_") }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            return "cannot list \(directory.path): \(error)"
        }
        guard !sets.isEmpty else { return "no test_data_set_* folder" }
        for set in sets {
            do {
                let inputs = try readTensors(in: set, prefix: "input", names: summary.inputNames)
                let expected = try readTensors(in: set, prefix: "output", names: summary.outputNames)
                // Inputs may be shape operands (axes, pads, a shape), which attnc needs known at
                // import time: the graph is specialized to the test's values where it needs them.
                let values = Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.tensor) })
                let model = try importONNX(path: modelPath, options: ONNXImportOptions(inputShapes: values.mapValues(\.shape), inputValues: values))
                let outputs = jit
                    ? try InferenceSession(model.graph, weights: model.weights, threads: 1).run(values)
                    : try ReferenceInterpreter.run(model.graph, inputs: values, weights: model.weights)
                for (name, want) in expected {
                    guard let got = outputs.first(where: { $0.name == name })?.tensor else {
                        return "\(set.lastPathComponent): output '\(name)' is missing (outputs: \(outputs.map(\.name)))"
                    }
                    if let mismatch = compare(got, want, tolerance: tolerance) {
                        return "\(set.lastPathComponent): output '\(name)': \(mismatch)"
                    }
                }
            } catch {
                return "\(set.lastPathComponent): \(error)"
            }
        }
        return nil
    }

    /// `PREFIX_J.pb` for every J present, named by the tensor's own name or the graph's J-th name.
    private func readTensors(in set: URL, prefix: String, names: [String]) throws -> [(name: String, tensor: TensorData)] {
        var result: [(String, TensorData)] = []
        for (j, graphName) in names.enumerated() {
            let path = set.appendingPathComponent("\(prefix)_\(j).pb").path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let (name, tensor) = try ONNXTensorFile.read(path: path)
            result.append((names.contains(name) ? name : graphName, tensor))
        }
        return result
    }
}

/// numpy's `allclose` for floats (`|got - want| <= atol + rtol·|want|`, NaN equal to NaN);
/// exact equality for integers and booleans.
struct Tolerance {
    var relative = 1e-3
    var absolute = 1e-5
}

func compare(_ got: TensorData, _ want: TensorData, tolerance: Tolerance) -> String? {
    guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
    guard got.elementType == want.elementType else { return "element type \(got.elementType), expected \(want.elementType)" }
    let (g, w) = (got.doubles, want.doubles)
    for i in g.indices {
        let (a, b) = (g[i], w[i])
        let equal: Bool
        if want.elementType.isFloat {
            equal = (a.isNaN && b.isNaN) || a == b || abs(a - b) <= tolerance.absolute + tolerance.relative * abs(b)
        } else {
            equal = a == b
        }
        if !equal { return "element \(i) is \(a), expected \(b)" }
    }
    return nil
}

/// `LayerNormalization` → `layer_normalization`.
func snakeCase(_ name: String) -> String {
    var out = ""
    for (i, ch) in name.enumerated() {
        if ch.isUppercase && i > 0 { out += "_" }
        out += ch.lowercased()
    }
    return out
}
