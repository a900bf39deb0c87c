import Foundation
import GraphIR

/// Steps that build, from ordinary ops, the patterns the fusion passes look for: softmax
/// attention in many spellings, channel gates and spatial gates. With the pass pipeline they
/// become fused kernels (or, for the near misses the variations produce, stay as they are), so
/// both the fused kernels and the passes' decisions are compared with the interpreter.
extension GraphGenerator {
    /// Softmax attention: dot-product or additive scores, in `[…, Sq, Sk]` or `[…, Sk, Sq]`
    /// layout, with keys stored either way round, a scale on the query or on the scores (mul or
    /// div), an additive mask, a causal `select(-inf)` mask, a boolean mask or a near miss
    /// (-1e9), and the weighted sum as a matmul (either operand order) or a product summed over
    /// the key axis; queries, keys and values are pool values, fresh tensors or multi-head
    /// projections of one input.
    func attentionStep() -> Bool {
        let batch = random.pick([[], [2], [1, 3], [2, 2], [2, 1], [3]])
        let sq = random.pick([1, 3, 7, 9, 16, 17, 33])
        // Multi-head self-attention projects queries and keys from one input: Sk = Sq.
        let selfAttention = batch.count == 2 && random.chance(0.4)
        let sk = selfAttention ? sq : random.pick([1, 2, 5, 9, 16, 17, 33, 65])
        let (d, dv) = (random.pick([1, 5, 7, 16, 17, 33]), random.pick([1, 3, 7, 16, 33]))
        let batchCount = batch.reduce(1, *)
        guard batchCount * sq * sk * max(d, dv) <= options.maxMultiplyAdds, batchCount * sq * sk * 2 <= options.maxElements else { return false }
        if random.chance(0.2) { return additiveAttention(batch: batch, sq: sq, sk: sk, d: d, dv: dv) }

        let keysTransposed = random.chance(0.3)
        let swapped = random.chance(0.25)
        var q: TensorValue, k: TensorValue, v: TensorValue
        if selfAttention {
            let x = operand([batch[0], sq, random.pick([5, 16, 33])]).value
            q = heads(x, count: batch[1], size: d)
            k = heads(x, count: batch[1], size: d)
            v = heads(x, count: batch[1], size: dv)
            if keysTransposed { k = must(.transpose(permutation: [0, 1, 3, 2]), [k]) }
        } else {
            q = operand(batch + [sq, d]).value
            k = operand(broadcastable(to: batch) + (keysTransposed ? [d, sk] : [sk, d])).value
            v = operand(broadcastable(to: batch) + [sk, dv]).value
        }
        let scale = random.pick([nil, 0.125, 0.5, 1 / Double(d).squareRoot()])
        if let scale, random.chance(0.3) { q = binary(.mul, q, self.scalar(scale)) }
        // Scores: [.., Sq, Sk], or [.., Sk, Sq] when swapped.
        guard var scores = swapped
            ? apply(.matmul(transposeA: keysTransposed, transposeB: true), [k, q])?[0]
            : apply(.matmul(transposeA: false, transposeB: !keysTransposed), [q, k])?[0] else { return false }
        if let scale, !q.type.shape.isEmpty, random.chance(0.7) {
            switch random.int(0...2) {
            case 0: scores = binary(.mul, scores, self.scalar(scale))
            case 1: scores = binary(.div, scores, self.scalar(1 / scale))
            default: scores = binary(.mul, self.scalar(scale), scores)
            }
        }
        let (rows, columns) = swapped ? (sk, sq) : (sq, sk)
        switch random.int(0...5) {
        case 0:
            let mask = operand(broadcastable(to: batch + [rows, columns]))
            scores = random.chance(0.5) ? binary(.add, scores, mask.value) : binary(.add, mask.value, scores)
        case 1, 2:
            // Causal: the key index past the query index is masked.
            let row = builder.iota(TensorType(.i32, dims: [rows, columns]), axis: 0)
            let column = builder.iota(TensorType(.i32, dims: [rows, columns]), axis: 1)
            let future = swapped ? binary(.gt, row, column) : binary(.gt, column, row)
            let fill = random.chance(0.8) ? -Double.infinity : -1e9
            scores = must(.select, [future, self.scalar(fill), scores])
        case 3:
            let keep = operand(broadcastable(to: batch + [rows, columns]), .i1)
            scores = must(.select, [keep.value, scores, self.scalar(-.infinity)])
        default: break
        }
        let keyAxis = swapped ? scores.rank - 2 : scores.rank - 1
        let probabilities = must(.softmax(axis: random.chance(0.5) ? keyAxis : keyAxis - scores.rank), [scores])
        let output: TensorValue?
        if swapped {
            output = random.chance(0.5) ? apply(.matmul(transposeA: true, transposeB: false), [probabilities, v])?[0]
                : apply(.matmul(transposeA: true, transposeB: false), [v, probabilities])?[0]
        } else {
            switch random.int(0...3) {
            case 0, 1: output = apply(.matmul(transposeA: false, transposeB: false), [probabilities, v])?[0]
            case 2: output = apply(.matmul(transposeA: true, transposeB: true), [v, probabilities])?[0]
            default:
                // Σ_k p[.., q, k] · v[.., k, f]: a broadcast product summed over the key axis.
                // v may be larger than the element limit allows once unsqueezed (its size is not
                // bounded by the check above), so each step may decline.
                guard let weights = apply(.unsqueeze(axes: [-1]), [probabilities])?[0],
                      let values = apply(.unsqueeze(axes: [-3]), [v])?[0],
                      let product = apply(.binary(.mul), [weights, values]) else { return false }
                output = apply(.reduce(.sum, axes: [-2], keepDims: false), [product[0]])?[0]
            }
        }
        guard let output else { return false }
        // Sometimes the probabilities are read again (they become a second result of the fused op).
        if random.chance(0.2) { record(probabilities, exact: false) }
        record(output, exact: false)
        return true
    }

    /// `x · W` split into `count` heads of `size`: `[B, S, E]` to `[B, count, S, size]`.
    private func heads(_ x: TensorValue, count: Int, size: Int) -> TensorValue {
        let shape = x.type.staticShape!
        let projected = must(.linear, [x, parameter([count * size, shape[2]])])
        let split = must(.reshape(shape: [.known(shape[0]), .known(shape[1]), .known(count), .known(size)]), [projected])
        return must(.transpose(permutation: [0, 2, 1, 3]), [split])
    }

    /// Bahdanau scores `vᵀ tanh(W₁q + W₂k)` as linear layers on broadcast query and key parts.
    private func additiveAttention(batch: [Int], sq: Int, sk: Int, d: Int, dv: Int) -> Bool {
        let hidden = random.pick([3, 7, 16])
        guard batch.reduce(1, *) * sq * sk * hidden <= options.maxElements else { return false }
        let q = operand(batch + [sq, d]).value, k = operand(batch + [sk, d]).value, v = operand(batch + [sk, dv]).value
        let queryPart = must(.unsqueeze(axes: [-2]), [must(.linear, [q, parameter([hidden, d])])])
        let keyPart = must(.unsqueeze(axes: [-3]), [must(.linear, [k, parameter([hidden, d]), parameter([hidden], role: "bias")])])
        let energy = must(.unary(.tanh), [binary(.add, queryPart, keyPart)])
        let scores = must(.squeeze(axes: [-1]), [must(.linear, [energy, parameter([1, hidden])])])
        let probabilities = must(.softmax(axis: -1), [scores])
        guard let output = apply(.matmul(transposeA: false, transposeB: false), [probabilities, v]) else { return false }
        record(output[0], exact: false)
        return true
    }

    /// A channel gate (squeeze-and-excitation, CBAM's channel half): average and/or max pooling,
    /// a shared two-layer MLP (linear layers, or 1×1 convolutions on the kept dims), the branches
    /// summed, then `x · sigmoid(g)` — or, sometimes, `x + g` (a residual transform).
    func channelGateStep() -> Bool {
        let x = image()
        let (n, c) = (x.shape[0], x.shape[1])
        let hidden = random.pick([1, 2, 3, 5])
        let convolutional = random.chance(0.3)
        let w1 = parameter(convolutional ? [hidden, c, 1, 1] : [hidden, c])
        let b1 = random.chance(0.7) ? parameter([hidden], role: "bias") : nil
        let w2 = parameter(convolutional ? [c, hidden, 1, 1] : [c, hidden])
        let b2 = random.chance(0.7) ? parameter([c], role: "bias") : nil
        let pools: [ReduceFunction] = random.pick([[.mean], [.amax], [.mean, .amax], [.amax, .mean]])
        var total: TensorValue?
        for pool in pools {
            let axes = random.chance(0.5) ? [2, 3] : [-1, -2]
            let pooled = must(.reduce(pool, axes: axes, keepDims: convolutional), [x.value])
            let layer: Op = convolutional ? .conv2d(Conv2DAttributes()) : .linear
            let hiddenValue = must(.unary(.relu), [must(layer, [pooled, w1] + (b1.map { [$0] } ?? []))])
            let branch = must(layer, [hiddenValue, w2] + (b2.map { [$0] } ?? []))
            total = total.map { binary(.add, $0, branch) } ?? branch
        }
        guard var gate = total else { return false }
        if !convolutional {
            gate = random.chance(0.5) ? must(.reshape(shape: [.known(n), .known(c), 1, 1]), [gate]) : must(.unsqueeze(axes: [2, 3]), [gate])
        }
        let result: TensorValue
        if random.chance(0.15) {
            result = binary(.add, x.value, gate)
        } else {
            let scale = must(.unary(.sigmoid), [gate])
            result = random.chance(0.5) ? binary(.mul, x.value, scale) : binary(.mul, scale, x.value)
        }
        record(result, exact: false)
        return true
    }

    /// A spatial gate (CBAM's spatial half, SAM, a triplet-attention branch): mean and/or max
    /// over the channels, a k×k convolution to one map, optional batch norm, sigmoid, and the
    /// product with the input — sometimes on a rotated input that is rotated back afterwards.
    func spatialGateStep() -> Bool {
        let original = image()
        let rotation = random.chance(0.25) ? random.pick([[0, 2, 1, 3], [0, 3, 2, 1], [0, 1, 3, 2]]) : nil
        let x = rotation.map { must(.transpose(permutation: $0), [original.value]) } ?? original.value
        let pools: [ReduceFunction] = random.pick([[.mean, .amax], [.amax, .mean], [.mean], [.amax]])
        let maps = pools.map { must(.reduce($0, axes: [random.chance(0.5) ? 1 : -3], keepDims: true), [x]) }
        let pooled = maps.count == 1 ? maps[0] : must(.concat(axis: 1), maps)
        let k = random.pick([1, 3, 5, 7])
        let padding = random.chance(0.85) ? Padding2D(k / 2, k / 2) : Padding2D(top: k / 2, left: 0, bottom: k / 2, right: k - 1)
        var operands = [pooled, parameter([1, maps.count, k, k])]
        if random.chance(0.3) { operands.append(parameter([1], role: "bias")) }
        guard var gate = apply(.conv2d(Conv2DAttributes(padding: padding)), operands)?[0] else { return false }
        if random.chance(0.3) {
            gate = must(.batchNorm(epsilon: 1e-5), [gate, parameter([1]), parameter([1], role: "bias"),
                                                    parameter([1], role: "running_mean"), parameter([1], role: "running_var")])
        }
        guard var result = apply(.binary(.mul), [x, must(.unary(.sigmoid), [gate])])?[0] else { return false }
        if let rotation {
            var inverse = rotation
            for (i, p) in rotation.enumerated() { inverse[p] = i }
            result = must(.transpose(permutation: inverse), [result])
        }
        record(result, exact: false)
        return true
    }
}
