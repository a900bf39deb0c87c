import Foundation
import GraphIR

/// A fused channel gate, computed the plain way (see `ChannelGateAttributes`).
func evaluateChannelGate(_ a: ChannelGateAttributes, _ x: [ReferenceTensor]) -> ReferenceTensor {
    let input = x[0]
    let (batch, channels) = (input.shape[0], input.shape[1])
    let spatial = input.shape[2...].reduce(1, *)
    var next = 1
    func take() -> [Double] { defer { next += 1 }; return x[next].data }
    let attention = a.pools == [.attention] ? (weight: take(), bias: take()[0]) : nil
    let w1 = take(), b1 = a.bias ? take() : nil
    let norm = a.layerNorm ? (scale: take(), shift: take()) : nil
    let w2 = take(), b2 = a.bias ? take() : nil
    let hidden = w1.count / channels
    var out = input.data
    var map: [Double] = []
    for n in 0..<batch {
        func at(_ c: Int, _ s: Int) -> Double { input.data[(n * channels + c) * spatial + s] }
        var descriptors: [[Double]] = []
        for pool in a.pools {
            switch pool {
            case .avg:
                descriptors.append((0..<channels).map { c in (0..<spatial).reduce(0) { $0 + at(c, $1) } / Double(spatial) })
            case .max:
                descriptors.append((0..<channels).map { c in
                    let values = (0..<spatial).map { at(c, $0) }
                    return values.contains { $0.isNaN } ? .nan : values.max()!
                })
            case .attention:
                let logits = (0..<spatial).map { s in (0..<channels).reduce(attention!.bias) { $0 + attention!.weight[$1] * at($1, s) } }
                let top = logits.max()!
                let exps = logits.map { Foundation.exp($0 - top) }
                let total = exps.reduce(0, +)
                descriptors.append((0..<channels).map { c in (0..<spatial).reduce(0) { $0 + exps[$1] / total * at(c, $1) } })
            }
        }
        var gate = Array(repeating: 0.0, count: channels)
        for d in descriptors {
            var h = (0..<hidden).map { j in (0..<channels).reduce(b1?[j] ?? 0) { $0 + w1[j * channels + $1] * d[$1] } }
            if let norm {
                let mean = h.reduce(0, +) / Double(hidden)
                let variance = h.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(hidden)
                h = h.indices.map { (h[$0] - mean) / (variance + a.epsilon).squareRoot() * norm.scale[$0] + norm.shift[$0] }
            }
            h = h.map { $0.isNaN ? $0 : max($0, 0) }
            for c in 0..<channels {
                gate[c] += (0..<hidden).reduce(b2?[c] ?? 0) { $0 + w2[c * hidden + $1] * h[$1] }
            }
        }
        for c in 0..<channels {
            let g = a.combine == .scale ? 1 / (1 + Foundation.exp(-gate[c])) : gate[c]
            map.append(g)
            for s in 0..<spatial {
                let i = (n * channels + c) * spatial + s
                out[i] = a.combine == .scale ? input.data[i] * g : input.data[i] + g
            }
        }
    }
    if a.mapOnly { return ReferenceTensor(input.elementType, [batch, channels] + Array(repeating: 1, count: input.rank - 2), map) }
    return ReferenceTensor(input.elementType, input.shape, out)
}

/// A fused spatial gate, computed the plain way (see `SpatialGateAttributes`).
func evaluateSpatialGate(_ a: SpatialGateAttributes, _ x: [ReferenceTensor]) -> ReferenceTensor {
    let input = x[0]
    let strides = rowMajorStrides(input.shape)
    let (c, r, s) = (a.dims[0], a.dims[1], a.dims[2])
    let (channels, rows, columns) = (input.shape[c], input.shape[r], input.shape[s])
    let weight = x[1]
    let (kh, kw) = (weight.shape[2], weight.shape[3])
    var out = input.data
    var mapShape = input.shape
    mapShape[c] = 1
    let mapStrides = rowMajorStrides(mapShape)
    var gateMap = Array(repeating: 0.0, count: mapShape.reduce(1, *))
    for n in 0..<input.shape[0] {
        func at(_ ci: Int, _ ri: Int, _ si: Int) -> Double {
            input.data[n * strides[0] + ci * strides[c] + ri * strides[r] + si * strides[s]]
        }
        // maps[k][ri][si]: the channel pooling k at each position.
        let maps = a.pools.map { pool in
            (0..<rows).map { ri in
                (0..<columns).map { si -> Double in
                    let values = (0..<channels).map { at($0, ri, si) }
                    switch pool {
                    case .mean: return values.reduce(0, +) / Double(channels)
                    case .max: return values.contains { $0.isNaN } ? .nan : values.max()!
                    }
                }
            }
        }
        for ri in 0..<rows {
            for si in 0..<columns {
                var z = 0.0
                for (k, map) in maps.enumerated() {
                    for dy in 0..<kh {
                        let y = ri + dy - a.padding[0]
                        guard y >= 0 && y < rows else { continue }
                        for dx in 0..<kw {
                            let xx = si + dx - a.padding[1]
                            guard xx >= 0 && xx < columns else { continue }
                            z += weight.data[(k * kh + dy) * kw + dx] * map[y][xx]
                        }
                    }
                }
                if a.bias { z += x[2].data[0] }
                if a.batchNorm {
                    let n = a.normOperand
                    z = (z - x[n + 2].data[0]) / (x[n + 3].data[0] + a.epsilon).squareRoot() * x[n].data[0] + x[n + 1].data[0]
                }
                let g = 1 / (1 + Foundation.exp(-z))
                gateMap[n * mapStrides[0] + ri * mapStrides[r] + si * mapStrides[s]] = g
                for ci in 0..<channels {
                    let i = n * strides[0] + ci * strides[c] + ri * strides[r] + si * strides[s]
                    out[i] = input.data[i] * g
                }
            }
        }
    }
    if a.mapOnly { return ReferenceTensor(input.elementType, mapShape, gateMap) }
    return ReferenceTensor(input.elementType, input.shape, out)
}
