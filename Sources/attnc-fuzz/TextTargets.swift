import Foundation
import GraphIR
import ONNXImport
import Runtime

/// `.gir` text: parse, verify, and for a graph that verifies, print and parse again. Every
/// rejection must be a diagnostic (never a crash), and a printed graph must read back to the
/// same text (the round-trip promise of docs/IR.md).
func fuzzGir(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let graph = try? parseGraph(text, path: "fuzz.gir"), verify(graph).isEmpty else { return }
    checkRoundTrip(graph, what: "a parsed graph")
}

/// ONNX protobuf: import; an imported graph must verify (the importer checks, and reports a graph
/// that does not as an `InternalError`) and round-trip through the text form.
func fuzzONNX(_ bytes: [UInt8]) {
    let model: ImportedModel
    do {
        model = try importONNX(bytes: Data(bytes), path: "fuzz.onnx")
    } catch let error as InternalError {
        fuzzFinding("the ONNX importer built a graph the verifier rejects: \(error)")
    } catch {
        return
    }
    checkRoundTrip(model.graph, what: "an imported graph")
}

/// `.npy`: decode; a decoded tensor must encode, and decode again to the same bits (compared
/// as encoded bytes, since NaN is not equal to itself).
func fuzzNumpy(_ bytes: [UInt8]) {
    guard let tensor = try? NumpyFile.decode(bytes, path: "fuzz.npy") else { return }
    guard let encoded = try? NumpyFile.encode(tensor) else {
        fuzzFinding("a decoded tensor of type \(tensor.type) cannot be encoded")
    }
    guard let again = try? NumpyFile.decode(encoded, path: "fuzz.npy"), (try? NumpyFile.encode(again)) == encoded else {
        fuzzFinding("a decoded tensor of type \(tensor.type) does not survive encoding and decoding")
    }
}

/// safetensors: decode; every entry must hold as many elements as its shape says.
func fuzzSafetensors(_ bytes: [UInt8]) {
    guard let entries = try? SafetensorsFile.decodeEntries(bytes, path: "fuzz.safetensors") else { return }
    for entry in entries {
        let count = entry.tensor.shape.reduce(1, *)
        guard entry.tensor.doubles.count == count else {
            fuzzFinding("tensor '\(entry.name)' of shape \(entry.tensor.shape) holds \(entry.tensor.doubles.count) elements")
        }
    }
}

private func checkRoundTrip(_ graph: Graph, what: String) {
    let printed = printGraph(graph)
    let reparsed: Graph
    do {
        reparsed = try parseGraph(printed, path: "printed.gir")
    } catch {
        fuzzFinding("\(what) prints as text that does not parse: \(error)\n\(printed)")
    }
    let problems = verify(reparsed)
    guard problems.isEmpty else { fuzzFinding("\(what) prints as text that does not verify: \(problems)\n\(printed)") }
    let again = printGraph(reparsed)
    guard again == printed else { fuzzFinding("\(what) does not round-trip:\n\(printed)\nprints again as\n\(again)") }
}
