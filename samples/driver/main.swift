// A Swift program that uses attnc as a library: build multi-head self-attention with the graph
// builder, JIT-compile it, run it on random input, and print a checksum and the time per run.
//
//     swift run -c release attnc-driver-sample [sequence-length] [threads]
import Engine
import Foundation
import GraphIR
import Runtime

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let sequence = arguments.first ?? 512
let threads = arguments.count > 1 ? arguments[1] : nil
let (batch, embedding, heads) = (1, 512, 8)
let headSize = embedding / heads

// The graph, written the way the PyTorch module reads.
let b = GraphBuilder("mha")
let x = b.input("x", f32[.known(batch), .known(sequence), .known(embedding)])
func projection(_ name: String) -> (TensorValue, TensorValue) {
    (b.weight("\(name).weight", f32[.known(embedding), .known(embedding)]), b.weight("\(name).bias", f32[.known(embedding)]))
}
func splitHeads(_ t: TensorValue) -> TensorValue {
    t.reshape([.known(batch), .known(sequence), .known(heads), .known(headSize)]).transpose([0, 2, 1, 3])
}
let (wq, bq) = projection("q_proj"), (wk, bk) = projection("k_proj"), (wv, bv) = projection("v_proj"), (wo, bo) = projection("out_proj")
let q = splitHeads(x.linear(wq, bq)), k = splitHeads(x.linear(wk, bk)), v = splitHeads(x.linear(wv, bv))
let attention = (q.matmul(k, transposeB: true) * (1 / Double(headSize).squareRoot())).softmax(axis: -1).matmul(v)
let merged = attention.transpose([0, 2, 1, 3]).reshape([.known(batch), .known(sequence), .known(embedding)])
b.output(merged.linear(wo, bo), as: "out")
let graph = try b.finish()

// Random weights and input, the same on every run.
var generator = SeededGenerator(seed: 42)
var weights: [String: TensorData] = [:]
for id in graph.weights {
    weights[graph[id].name!] = randomTensor(graph.type(of: id), using: &generator, scale: 0.05)
}
let input = randomTensor(graph.type(of: graph.inputs[0]), using: &generator)!

let compileStart = Date()
let session = try InferenceSession(graph, weights: weights, threads: threads)
let compileMilliseconds = Date().timeIntervalSince(compileStart) * 1000

let output = try session.run(["x": input])[0].tensor
let checksum = output.floats.reduce(0.0) { $0 + Double($1) }

// Time the compiled code alone: inputs already in place, outputs left in the executable.
let runs = 20
let runStart = Date()
for _ in 0..<runs { session.executable.execute() }
let runMilliseconds = Date().timeIntervalSince(runStart) * 1000 / Double(runs)

print("multi-head attention, x: \(graph.type(of: graph.inputs[0])), \(heads) heads, \(session.executable.threadCount) thread(s)")
print(String(format: "compile %.1f ms, run %.3f ms, output %@ checksum %.6f", compileMilliseconds, runMilliseconds,
             output.type.description, checksum))
