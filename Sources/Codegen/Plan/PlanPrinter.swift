import GraphIR

/// The kernel plan as text: every buffer with its storage, then every kernel with its loops.
extension KernelPlan: CustomStringConvertible {
    public var description: String {
        var lines = ["kernel plan \(graphName): \(buffers.count) buffers, \(kernels.count) kernels, arena \(arenaBytes) bytes"
                     + (setupKernels.isEmpty ? "" : ", \(setupKernels.count) setup kernels, \(persistentBytes) persistent bytes")]
        for (i, buffer) in buffers.enumerated() {
            lines.append("  b\(i) \(buffer.name.isEmpty ? "_" : buffer.name): \(buffer.elementType.rawValue) x \(buffer.elementCount) \(storageText(buffer.storage))")
        }
        for (i, kernel) in setupKernels.enumerated() {
            lines.append("  setup\(i) \(kernel.text)")
        }
        for (i, kernel) in kernels.enumerated() {
            if case .fused(let group) = kernel {
                lines.append("  k\(i) \(group.name), \(group.phases.count) phases:")
                for (j, phase) in group.phases.enumerated() { lines.append("    \(j). \(phase.text)") }
            } else {
                lines.append("  k\(i) \(kernel.text)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func storageText(_ storage: BufferStorage) -> String {
        switch storage {
        case .input(let i): return "input \(i)"
        case .output(let i): return "output \(i)"
        case .weight(let i): return "weight \(i)"
        case .arena(let offset): return "arena @\(offset)"
        case .persistent(let offset): return "persistent @\(offset)"
        case .constant: return "constant"
        }
    }
}

extension KernelPlan {
    /// One label per kernel phase, in run order: `k3`, or `k3.0`, `k3.1`… for a fused kernel.
    public var phaseLabels: [String] {
        kernels.enumerated().flatMap { i, kernel -> [String] in
            if case .fused(let group) = kernel { return group.phases.indices.map { "k\(i).\($0)" } }
            return ["k\(i)"]
        }
    }

    /// The text of the kernel or phase a label names.
    public func phaseText(_ label: String) -> String {
        let parts = label.dropFirst().split(separator: ".").compactMap { Int($0) }
        guard let first = parts.first, first < kernels.count else { return "" }
        if parts.count == 2, case .fused(let group) = kernels[first], parts[1] < group.phases.count {
            return "\(group.name) phase: " + group.phases[parts[1]].text
        }
        return kernels[first].text
    }
}

private func list(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }

extension Kernel {
    var text: String {
        switch self {
        case .elementwise(let k):
            return "elementwise \(list(k.shape)): \(k.output) = \(k.expression.text)"
        case .reduce(let k):
            return "reduce \(k.function.rawValue) \(k.input.buffer)[outer \(k.outer), reduced \(k.reduced), inner \(k.inner)] -> \(k.output)"
        case .softmax(let k):
            return "softmax \(k.input)[outer \(k.outer), axis \(k.axis), inner \(k.inner)] -> \(k.output)"
        case .layerNorm(let k):
            let extras = [k.scale.map { "scale \($0)" }, k.bias.map { "bias \($0)" }].compactMap { $0 }.joined(separator: " ")
            return "layer_norm \(k.input)[outer \(k.outer), normalized \(k.normalized)] eps \(formatFloat(k.epsilon)) \(extras) -> \(k.output)"
        case .pack(let k):
            let source: String
            switch k.source {
            case .matrix(let buffer, let offset, let batchStrides, let rowStride, let columnStride):
                source = "\(buffer)[\(offset == 0 ? "" : "\(offset) + ")batch \(list(batchStrides)), row \(rowStride), column \(columnStride)]"
            case .image(let image):
                source = "im2col \(image.buffer)[\(image.channels)x\(image.height)x\(image.width), kernel \(image.kernelHeight)x\(image.kernelWidth)]"
            }
            return "pack \(k.side == .left ? "left" : "right") \(source)\(k.scale == 1 ? "" : " scaled \(formatFloat(k.scale))") batch \(list(k.batchShape)) \(k.rows)x\(k.columns) in \(k.tile.rows)x\(k.tile.columns) tiles -> \(k.output)"
        case .matmul(let k):
            let bias = k.bias.map { " + \($0)" } ?? ""
            return "matmul batch \(list(k.batchShape)) \(k.m)x\(k.n)x\(k.k) \(k.packedLeft) * \(k.packedRight)\(bias) -> \(k.output.buffer)[batch \(list(k.output.strides)), row \(k.outputRowStride)] tile \(k.tile.rows)x\(k.tile.columns)"
        case .attention(let k):
            let extras = [k.causal ? "causal" : nil, k.scoreWeight.map { "weight \($0)" }, k.mask.map { "mask \($0.text)" },
                          k.select.map { "select \($0.predicate.text) fill \($0.fill.text)" },
                          k.probabilities.map { "probabilities \($0)" }].compactMap { $0 }
            return "attention \(k.score.rawValue) batch \(list(k.batchShape)) queries \(k.queries) keys \(k.keys) features \(k.features)->\(k.valueFeatures) \(k.packedQuery) \(k.packedKey) \(k.packedValue)\(extras.isEmpty ? "" : " " + extras.joined(separator: " ")) -> \(k.output) tile \(k.tile.rows)x\(k.tile.columns)"
        case .attentionRows(let k):
            let extras = [k.causal ? "causal" : nil, k.scoreWeight.map { "weight \($0)" }, k.mask.map { "mask \($0.text)" },
                          k.select.map { "select \($0.predicate.text) fill \($0.fill.text)" },
                          k.probabilities.map { "probabilities \($0)" }].compactMap { $0 }
            return "attention rows \(k.score.rawValue) scale \(formatFloat(k.scale)) batch \(list(k.batchShape)) keys \(k.keys) features \(k.features)->\(k.valueFeatures) q \(k.query) k \(k.key) v \(k.value)\(extras.isEmpty ? "" : " " + extras.joined(separator: " ")) -> \(k.output)"
        case .multiReduce(let k):
            return "reduce \(k.outputs.map { "\($0.function.rawValue) -> \($0.buffer)" }.joined(separator: ", ")) of \(k.input)[outer \(k.outer), reduced \(k.reduced), inner \(k.inner)] in one read"
        case .gateMLP(let k):
            return "gate mlp \(k.descriptors.map(\.description).joined(separator: " + ")) through \(k.w1)[\(k.hidden)x\(k.channels)]\(k.norm == nil ? "" : ", layer norm"), relu, \(k.w2)\(k.sigmoid ? ", sigmoid" : "") -> \(k.output)[\(k.batch)x\(k.channels)]"
        case .channelWeightedSum(let k):
            return "weighted channel sum \(k.input)[\(k.batch)x\(k.channels)x\(k.positions)] by \(k.weight) + \(k.bias) -> \(k.output)"
        case .rowDot(let k):
            return "row dot \(k.matrix)[\(k.batch)x\(k.rows)x\(k.length)] with \(k.vector) -> \(k.output)"
        case .spatialConv(let k):
            return "spatial conv \(k.maps.map(\.description).joined(separator: ", ")) [\(k.batch)x\(k.rows)x\(k.columns)] kernel \(k.kernelHeight)x\(k.kernelWidth) by \(k.weight)\(k.norm == nil ? "" : ", batch norm"), sigmoid -> \(k.output)"
        case .fused(let k):
            return "\(k.name) (\(k.phases.count) phases)"
        case .pool(let k):
            return "\(k.kind == .max ? "max" : "avg")_pool \(k.input)[\(k.planes)x\(k.height)x\(k.width)] kernel \(list(k.attributes.kernel)) stride \(list(k.attributes.stride)) -> \(k.output)[\(k.outputHeight)x\(k.outputWidth)]"
        case .gather(let k):
            return "gather \(k.data)[outer \(k.outer), axis \(k.axisSize), inner \(k.inner)] at \(k.indices) (\(k.indexType.rawValue) x \(k.indexCount)) -> \(k.output)"
        case .col2im(let k):
            let a = k.attributes
            return "col2im \(k.columns)[\(k.images)x\(k.groups)x\(k.taps)x\(k.height * k.width)] kernel \(k.kernelHeight)x\(k.kernelWidth) stride \(list(a.stride)) dilation \(list(a.dilation)) padding top \(a.padding.top) left \(a.padding.left)\(k.bias.map { " + \($0)" } ?? "") -> \(k.output)[\(k.images)x\(k.groups * k.channelsPerGroup)x\(k.outputHeight)x\(k.outputWidth)]"
        }
    }
}

extension ScalarExpression {
    var text: String {
        switch self {
        case .load(let access, _): return access.description
        case .constant(let x, let t): return t.isFloat ? formatFloat(x) : String(Int(x))
        case .index(let d, _): return "i\(d)"
        case .unary(let f, let x): return "\(f.rawValue)(\(x.text))"
        case .binary(let f, let a, let b): return "\(f.rawValue)(\(a.text), \(b.text))"
        case .select(let c, let a, let b): return "select(\(c.text), \(a.text), \(b.text))"
        case .cast(let x, let t): return "cast<\(t.rawValue)>(\(x.text))"
        }
    }
}
