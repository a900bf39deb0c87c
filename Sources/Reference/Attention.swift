import Foundation
import GraphIR

/// Fused attention, computed the plain way: the whole score matrix in double, a max-subtracted
/// softmax per row, then the weighted sum of values.
func evaluateAttention(_ a: AttentionAttributes, _ x: [ReferenceTensor], _ types: [TensorType]) -> [ReferenceTensor] {
    let (q, k, v) = (x[0], x[1], x[2])
    let weight = a.score == .additive ? x[3] : nil
    let operands = a.maskOperands(count: x.count)
    let mask = operands.mask.map { x[$0] }
    let select = operands.predicate.flatMap { p in operands.fill.map { (predicate: x[p], fill: x[$0]) } }
    let outputShape = types[0].staticShape!
    let batchShape = Array(outputShape.dropLast(2))
    let (sq, d) = (q.shape[q.rank - 2], q.shape[q.rank - 1])
    let sk = k.shape[k.rank - 2]
    let dv = v.shape[v.rank - 1]
    let qBatch = broadcastStrides(Array(q.shape.dropLast(2)), to: batchShape)
    let kBatch = broadcastStrides(Array(k.shape.dropLast(2)), to: batchShape)
    let vBatch = broadcastStrides(Array(v.shape.dropLast(2)), to: batchShape)
    let maskStrides = mask.map { broadcastStrides($0.shape, to: batchShape + [sq, sk]) }
    let selectStrides = select.map { (broadcastStrides($0.predicate.shape, to: batchShape + [sq, sk]),
                                      broadcastStrides($0.fill.shape, to: batchShape + [sq, sk])) }
    var out: [Double] = []
    var probabilities: [Double] = []
    forEachIndex(batchShape) { b in
        func base(_ strides: [Int]) -> Int { zip(b, strides).reduce(0) { $0 + $1.0 * $1.1 } }
        let (qb, kb, vb) = (base(qBatch) * sq * d, base(kBatch) * sk * d, base(vBatch) * sk * dv)
        for i in 0..<sq {
            var scores = [Double](repeating: 0, count: sk)
            for j in 0..<sk {
                var s = 0.0
                for f in 0..<d {
                    let qv = q.data[qb + i * d + f], kv = k.data[kb + j * d + f]
                    s += weight.map { $0.data[f] * Foundation.tanh(qv + kv) } ?? qv * kv
                }
                s *= a.scale
                let index = b + [i, j]
                func at(_ strides: [Int]) -> Int { zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 } }
                if let mask, let strides = maskStrides { s += mask.data[at(strides)] }
                if let select, let (predicateStrides, fillStrides) = selectStrides, select.predicate.data[at(predicateStrides)] != 0 {
                    s = select.fill.data[at(fillStrides)]
                }
                if a.causal && j > i { s = -.infinity }
                scores[j] = s
            }
            let top = scores.max() ?? 0
            let exps = scores.map { Foundation.exp($0 - top) }
            let total = exps.reduce(0, +)
            let p = exps.map { $0 / total }
            for c in 0..<dv {
                var sum = 0.0
                for j in 0..<sk { sum += p[j] * v.data[vb + j * dv + c] }
                out.append(sum)
            }
            probabilities += p
        }
    }
    let output = ReferenceTensor(.f32, outputShape, out)
    return a.weights ? [output, ReferenceTensor(.f32, types[1].staticShape!, probabilities)] : [output]
}
