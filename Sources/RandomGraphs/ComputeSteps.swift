import GraphIR

/// Steps that compute across elements: reductions, softmax, matmul, linear, convolution,
/// pooling and normalisation.
extension GraphGenerator {
    /// Nil (every axis) sometimes; otherwise a nonempty random subset, adjacent or not, some
    /// spelled negative.
    func randomAxes(rank: Int) -> [Int]? {
        guard rank > 0, random.chance(0.85) else { return nil }
        let axes = Array((0..<rank).shuffled(using: &random).prefix(random.int(1...rank)))
        return axes.map { random.chance(0.3) ? $0 - rank : $0 }
    }

    func reduceStep() -> Bool {
        guard let x = pickFloat() else { return false }
        let f = random.pick(ReduceFunction.allCases)
        guard let result = apply(.reduce(f, axes: randomAxes(rank: x.rank), keepDims: random.chance(0.5)), [x.value]) else { return false }
        record(result[0], exact: x.exact && (f == .amax || f == .amin))
        return true
    }

    func softmaxStep() -> Bool {
        guard let x = pickFloat({ $0.rank >= 1 }) else { return false }
        let axis = random.int(0...(x.rank - 1))
        record(must(.softmax(axis: random.chance(0.3) ? axis - x.rank : axis), [x.value]), exact: false)
        return true
    }

    func matmulStep() -> Bool {
        guard var a = pickFloat() else { return false }
        if a.rank < 2 {
            let shape = factorization(a.count)
            a = record(must(.reshape(shape: shape.count >= 2 ? shape.map { .known($0) } : [1, -1]), [a.value]), exact: a.exact)
        }
        let (transposeA, transposeB) = (random.chance(0.3), random.chance(0.4))
        let rows = a.shape[a.rank - 2], columns = a.shape[a.rank - 1]
        let (m, k) = transposeA ? (columns, rows) : (rows, columns)
        let n = random.pick(GraphGenerator.dims)
        let aBatch = Array(a.shape.dropLast(2))
        var bBatch: [Int]
        switch random.int(0...3) {
        case 0: bBatch = aBatch
        case 1: bBatch = broadcastable(to: aBatch)
        // b brings batch dims a lacks or has as 1.
        default: bBatch = widened(aBatch)
        }
        if aBatch.isEmpty && random.chance(0.2) { bBatch = [random.pick([2, 3])] }
        let bShape = bBatch + (transposeB ? [n, k] : [k, n])
        guard let batch = try? broadcastShapes(aBatch.map { .known($0) }, bBatch.map { .known($0) }),
              batch.compactMap(\.value).reduce(1, *) * m * n * k <= options.maxMultiplyAdds,
              bShape.reduce(1, *) <= options.maxSourceElements else { return false }
        // Sometimes the computed value is the right operand (keys or values in attention).
        if random.chance(0.25) { return matmulWithRight(a, transposeA: random.chance(0.3)) }
        let b = operand(bShape)
        guard let result = apply(.matmul(transposeA: transposeA, transposeB: transposeB), [a.value, b.value]) else { return false }
        record(result[0], exact: false)
        return true
    }

    /// A matmul whose right operand is the pool value `b`.
    private func matmulWithRight(_ b: PoolEntry, transposeA: Bool) -> Bool {
        let transposeB = random.chance(0.5)
        let (k, n) = transposeB ? (b.shape[b.rank - 1], b.shape[b.rank - 2]) : (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let m = random.pick(GraphGenerator.dims)
        let bBatch = Array(b.shape.dropLast(2))
        let aBatch = random.chance(0.5) ? bBatch : broadcastable(to: bBatch)
        let aShape = aBatch + (transposeA ? [k, m] : [m, k])
        guard aShape.reduce(1, *) <= options.maxSourceElements,
              bBatch.reduce(1, *) * m * n * k <= options.maxMultiplyAdds else { return false }
        let a = operand(aShape)
        guard let result = apply(.matmul(transposeA: transposeA, transposeB: transposeB), [a.value, b.value]) else { return false }
        record(result[0], exact: false)
        return true
    }

    func linearStep() -> Bool {
        guard let x = pickFloat({ $0.rank >= 1 }) else { return false }
        let k = x.shape.last!, n = random.pick(GraphGenerator.dims)
        guard x.count / max(k, 1) * n * k <= options.maxMultiplyAdds, n * k <= options.maxSourceElements else { return false }
        let weight = random.chance(0.8) ? parameter([n, k]) : operand([n, k]).value
        var operands = [x.value, weight]
        if random.chance(0.6) {
            operands.append(random.chance(0.8) ? parameter([n], role: "bias") : operand([n]).value)
        }
        guard let result = apply(.linear, operands) else { return false }
        record(result[0], exact: false)
        return true
    }

    /// An NCHW pool value, or a new input of that rank.
    func image() -> PoolEntry {
        if let x = pickFloat({ $0.rank == 4 && $0.shape[2] * $0.shape[3] >= 4 }), random.chance(0.7) { return x }
        var shape = [random.pick([1, 2]), random.pick([1, 2, 3, 5, 16]), random.pick([3, 5, 7, 9, 16, 17]), random.pick([3, 5, 7, 9, 16, 17])]
        while shape.reduce(1, *) > options.maxSourceElements { shape[1] = max(1, shape[1] / 2) }
        return operand(shape)
    }

    func convolutionStep() -> Bool {
        let x = image()
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let groups = random.pick((1...channels).filter { channels % $0 == 0 && (random.chance(0.5) || $0 == 1 || $0 == channels) })
        let outChannels = groups * random.pick([1, 1, 2, 3])
        let (kh, kw) = (random.pick([1, 1, 3, 3, 5, 7]), random.pick([1, 1, 3, 3, 5, 7]))
        let stride = [random.pick([1, 1, 2, 3]), random.pick([1, 1, 2, 3])]
        let dilation = [random.pick([1, 1, 2]), random.pick([1, 1, 2])]
        let padding = Padding2D(top: random.int(0...kh - 1), left: random.int(0...kw - 1),
                                bottom: random.chance(0.5) ? random.int(0...kh - 1) : 0, right: random.int(0...kw - 1))
        let attributes = Conv2DAttributes(stride: stride, padding: padding, dilation: dilation, groups: groups)
        let weightShape = [outChannels, channels / groups, kh, kw]
        let outputHeight = (height + padding.top + padding.bottom - dilation[0] * (kh - 1) - 1) / stride[0] + 1
        let outputWidth = (width + padding.left + padding.right - dilation[1] * (kw - 1) - 1) / stride[1] + 1
        guard outputHeight >= 1, outputWidth >= 1,
              x.shape[0] * outChannels * outputHeight * outputWidth * (channels / groups) * kh * kw <= options.maxMultiplyAdds
        else { return false }
        // Always a declared weight (finite): a NaN or inf kernel value meets the zero padding, and
        // the im2col code computes 0·inf = NaN there where the interpreter skips padded taps.
        let weight = parameter(weightShape)
        var operands = [x.value, weight]
        if random.chance(0.5) {
            operands.append(parameter([outChannels], role: "bias"))
        }
        guard let result = apply(.conv2d(attributes), operands) else { return false }
        record(result[0], exact: false)
        return true
    }

    func poolStep() -> Bool {
        let x = image()
        let kind: PoolKind = random.chance(0.5) ? .max : .average
        let kernel = [random.int(1...4), random.int(1...4)]
        let stride = random.chance(0.3) ? nil : [random.int(1...3), random.int(1...3)]
        let padding = Padding2D(top: random.int(0...kernel[0] / 2), left: random.int(0...kernel[1] / 2),
                                bottom: random.int(0...kernel[0] / 2), right: random.int(0...kernel[1] / 2))
        let dilation = random.chance(0.2) ? [random.int(1...2), random.int(1...2)] : [1, 1]
        let attributes = Pool2DAttributes(kernel: kernel, stride: stride, padding: padding, dilation: dilation,
                                          ceilMode: random.chance(0.4), countIncludePad: random.chance(0.5))
        guard let result = apply(.pool2d(kind, attributes), [x.value]) else { return false }
        record(result[0], exact: x.exact && kind == .max)
        return true
    }

    func layerNormStep() -> Bool {
        guard let x = pickFloat({ $0.rank >= 1 }) else { return false }
        let axis = random.int(0...(x.rank - 1))
        let normalized = Array(x.shape[axis...])
        var input = x.value
        // A computed value may be constant along the normalised dims (a broadcast, a reduction),
        // where the variance is zero and any rounding difference is amplified without bound.
        // Adding a fresh weight over those dims keeps the rows varied, as a bias before a norm does.
        if !sources.contains(x.value.id) {
            guard let varied = apply(.binary(.add), [input, parameter(normalized, role: "shift")]) else { return false }
            input = varied[0]
        }
        var operands = [input]
        if random.chance(0.6) {
            operands.append(parameter(normalized))
            if random.chance(0.6) { operands.append(parameter(normalized, role: "bias")) }
        }
        let epsilon = random.pick([1e-5, 1e-6, 1e-3])
        guard let result = apply(.layerNorm(axis: random.chance(0.3) ? axis - x.rank : axis, epsilon: epsilon), operands) else { return false }
        record(result[0], exact: false)
        return true
    }

    /// A weight of `shape` (an input when weights are off); running variances are positive.
    func parameter(_ shape: [Int], role: String = "weight") -> TensorValue {
        if options.allowsWeights { return addWeight(shape, role: role).value }
        let value = fresh(shape).value
        return role == "running_var" ? positive(value) : value
    }

    func batchNormStep() -> Bool {
        guard let x = pickFloat({ $0.rank >= 2 }) else { return false }
        let channels = [x.shape[1]]
        let operands = [x.value, parameter(channels), parameter(channels, role: "bias"), parameter(channels, role: "running_mean"),
                        parameter(channels, role: "running_var")]
        guard let result = apply(.batchNorm(epsilon: random.pick([1e-5, 1e-3])), operands) else { return false }
        record(result[0], exact: false)
        return true
    }
}
