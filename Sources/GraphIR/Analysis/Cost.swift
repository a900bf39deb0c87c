/// Work a graph does and the bytes it must move, counted as `../shared/bench` counts them:
/// 2 FLOPs per multiply-add of a matmul or convolution, 1 per element of an elementwise op,
/// 5 per softmax element, 1 per element read by a reduction or pooling window. Compulsory bytes
/// are the inputs, outputs and weights, each once.
public struct GraphCost: Sendable, Equatable {
    public var flops: Double
    public var compulsoryBytes: Double
}

extension Graph {
    /// The graph's cost; the graph must have static shapes.
    public var cost: GraphCost {
        var flops = 0.0
        func count(_ id: ValueID) -> Double { Double(type(of: id).elementCount ?? 0) }
        for node in nodes {
            let out = count(node.results[0])
            switch node.op {
            case .unary(.identity), .constant, .iota, .reshape, .transpose, .concat, .slice, .gather, .split, .broadcast,
                 .squeeze, .unsqueeze, .cast:
                break
            case .unary, .binary, .select:
                flops += out
            case .attention(let a):
                // As ../shared/bench counts it: both products, then 1 + 5 per score (scale, softmax), +1 with a mask.
                let q = type(of: node.operands[0]).staticShape ?? [], v = type(of: node.operands[2]).staticShape ?? []
                let d = Double(q.last ?? 0), dv = Double(v.last ?? 0)
                let scores = out / Double(max(v.last ?? 1, 1)) * Double(type(of: node.operands[1]).staticShape?.dropLast().last ?? 0)
                let product = a.score == .dot ? 2 * d : 4 * d
                flops += scores * (product + 2 * dv + 6 + (node.operands.count > a.fixedOperandCount ? 1 : 0))
            case .channelGate(let a):
                // Each pooling reads x once, the MLP is two small products per pooling, applying reads x again.
                let x = type(of: node.operands[0]).staticShape ?? [1, 1]
                let w1 = type(of: node.operands[a.pools == [.attention] ? 3 : 1]).staticShape ?? [0, 0]
                let pools = Double(a.pools.count) * (a.pools == [.attention] ? 3 : 1)
                flops += out * pools + Double(x[0]) * Double(a.pools.count) * 4 * Double(w1[0] * w1[1]) + out
            case .spatialGate(let a):
                let w = type(of: node.operands[1]).staticShape ?? [1, 1, 1, 1]
                let x = type(of: node.operands[0]).staticShape ?? [1, 1, 1, 1]
                let map = out / Double(x[a.dims[0]])
                flops += out * Double(a.pools.count) + map * (2 * Double(w[1] * w[2] * w[3]) + 1) + out
            case .elementwise(let expression):
                flops += out * Double(expression.operationCount)
            case .reduce:
                flops += count(node.operands[0])
            case .softmax:
                flops += 5 * out
            case .layerNorm:
                flops += 8 * out
            case .batchNorm:
                flops += 2 * out
            case .matmul(let transposeA, _):
                let a = type(of: node.operands[0]).staticShape ?? []
                let k = a.isEmpty ? 0 : (transposeA ? a[a.count - 2] : a[a.count - 1])
                flops += 2 * out * Double(k)
            case .linear:
                let w = type(of: node.operands[1]).staticShape ?? [0, 0]
                flops += 2 * out * Double(w[1]) + (node.operands.count > 2 ? out : 0)
            case .conv2d:
                let w = type(of: node.operands[1]).staticShape ?? [0, 0, 0, 0]
                flops += 2 * out * Double(w[1] * w[2] * w[3]) + (node.operands.count > 2 ? out : 0)
            case .convTranspose2d:
                let w = type(of: node.operands[1]).staticShape ?? [0, 0, 0, 0]
                flops += 2 * count(node.operands[0]) * Double(w[1] * w[2] * w[3]) + (node.operands.count > 2 ? out : 0)
            case .pool2d(_, let attributes):
                flops += out * Double(attributes.kernel.reduce(1, *))
            }
        }
        let bytes = (inputs + outputs + weights).reduce(0.0) { $0 + count($1) * Double(type(of: $1).elementType.byteWidth) }
        return GraphCost(flops: flops, compulsoryBytes: bytes)
    }
}
