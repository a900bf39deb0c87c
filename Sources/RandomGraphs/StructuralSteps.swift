import GraphIR

/// Data-movement steps. They read values of any element type (f32, integers, i1) and keep
/// exactness: they copy bits.
extension GraphGenerator {
    func reshapeStep() -> Bool {
        guard let x = pick({ _ in true }) else { return false }
        var shape = factorization(x.count)
        if random.chance(0.3), !shape.isEmpty { shape[random.int(0...(shape.count - 1))] = -1 }
        guard let result = apply(.reshape(shape: shape.map { .known($0) }), [x.value]) else { return false }
        record(result[0], exact: x.exact, bound: x.bound)
        return true
    }

    /// A random shape of rank 0 to 4 with `count` elements, sometimes with size-1 dims.
    func factorization(_ count: Int) -> [Int] {
        var primes: [Int] = []
        var n = count, p = 2
        while n > 1 {
            while n % p == 0 {
                primes.append(p)
                n /= p
            }
            p += 1
        }
        primes.shuffle(using: &random)
        let rank = min(4, max(primes.isEmpty ? 0 : 1, random.int(1...4)))
        var shape = Array(repeating: 1, count: rank)
        for prime in primes { shape[random.int(0...(rank - 1))] *= prime }
        return shape
    }

    func transposeStep() -> Bool {
        guard let x = pick({ $0.rank >= 2 }) else { return false }
        var permutation = Array(0..<x.rank)
        while permutation == Array(0..<x.rank) { permutation.shuffle(using: &random) }
        record(must(.transpose(permutation: permutation), [x.value]), exact: x.exact, bound: x.bound)
        return true
    }

    func concatStep() -> Bool {
        guard let x = pick({ $0.rank >= 1 }) else { return false }
        let axis = random.int(0...(x.rank - 1))
        var operands = [x]
        for _ in 0..<random.int(1...2) {
            var shape = x.shape
            shape[axis] = random.chance(0.3) ? x.shape[axis] : random.pick(GraphGenerator.dims)
            guard shape.reduce(1, *) <= options.maxSourceElements else { continue }
            operands.append(operand(shape, x.elementType))
        }
        if random.chance(0.3) { operands.shuffle(using: &random) }
        guard operands.count > 1,
              let result = apply(.concat(axis: random.chance(0.3) ? axis - x.rank : axis), operands.map(\.value)) else { return false }
        record(result[0], exact: operands.allSatisfy(\.exact), bound: operands.map(\.bound).max()!)
        return true
    }

    func sliceStep() -> Bool {
        guard let x = pick({ $0.rank >= 1 }) else { return false }
        let axes = Array((0..<x.rank).shuffled(using: &random).prefix(random.int(1...x.rank)))
        var starts: [Int] = [], ends: [Int] = [], steps: [Int] = []
        for axis in axes {
            let size = x.shape[axis]
            var step = random.pick([1, 1, 1, 2, 3, -1, -2])
            var start = random.int(-size - 2...size + 2)
            var end = random.int(-size - 2...size + 2)
            if SliceRange(start: start, end: end, step: step, size: size).count == 0 {
                // Fall back to a range that keeps something, spelled with negative indices sometimes.
                step = step > 0 ? step : -step
                start = random.chance(0.5) ? 0 : -size
                end = random.chance(0.5) ? size : size + 5
            }
            starts.append(start)
            ends.append(end)
            steps.append(step)
        }
        let spelled = axes.map { random.chance(0.3) ? $0 - x.rank : $0 }
        guard let result = apply(.slice(axes: spelled, starts: starts, ends: ends, steps: steps), [x.value]) else { return false }
        record(result[0], exact: x.exact, bound: x.bound)
        return true
    }

    func splitStep() -> Bool {
        guard let x = pick({ $0.shape.contains { $0 >= 2 } }) else { return false }
        let axis = random.pick(x.shape.indices.filter { x.shape[$0] >= 2 })
        let size = x.shape[axis]
        let pieces = min(size, random.int(2...3))
        var cuts = Set<Int>()
        while cuts.count < pieces - 1 { cuts.insert(random.int(1...(size - 1))) }
        let bounds = [0] + cuts.sorted() + [size]
        let sizes = zip(bounds.dropFirst(), bounds).map { $0 - $1 }
        guard let results = apply(.split(axis: random.chance(0.3) ? axis - x.rank : axis, sizes: sizes), [x.value]) else { return false }
        for result in results.shuffled(using: &random) { record(result, exact: x.exact, bound: x.bound) }
        return true
    }

    func broadcastStep() -> Bool {
        guard let x = pick({ $0.shape.contains(1) || $0.rank < 3 }) else { return false }
        let shape = widened(x.shape)
        guard let result = apply(.broadcast(shape: shape.map { .known($0) }), [x.value]) else { return false }
        record(result[0], exact: x.exact, bound: x.bound)
        return true
    }

    func squeezeStep() -> Bool {
        guard let x = pick({ _ in true }) else { return false }
        let ones = x.shape.indices.filter { x.shape[$0] == 1 }
        let result: [TensorValue]?
        if !ones.isEmpty && random.chance(0.6) {
            let axes = Array(ones.shuffled(using: &random).prefix(random.int(1...ones.count)))
            result = apply(.squeeze(axes: axes.map { random.chance(0.3) ? $0 - x.rank : $0 }), [x.value])
        } else {
            guard x.rank < 4 else { return false }
            let rank = x.rank + random.int(1...(4 - x.rank))
            let axes = Array((0..<rank).shuffled(using: &random).prefix(rank - x.rank))
            result = apply(.unsqueeze(axes: axes.map { random.chance(0.3) ? $0 - rank : $0 }), [x.value])
        }
        guard let result else { return false }
        record(result[0], exact: x.exact, bound: x.bound)
        return true
    }

    func constantStep() -> Bool {
        let shape = randomShape(rank: random.int(0...3), limit: 64)
        let count = shape.reduce(1, *)
        let value: TensorValue
        if random.chance(0.5) {
            value = splat(random.pick([0.0, 1.0, -2.5, 0.125]), TensorType(.f32, dims: shape))
        } else {
            value = builder.constant((0..<count).map { _ in (random.normal() * 16).rounded() / 16 }, TensorType(.f32, dims: shape))
        }
        record(value, exact: true)
        // A constant alone is dull: combine it with a pool value when one broadcasts.
        if let x = pickFloat({ (try? broadcastShapes($0.shape.map { .known($0) }, shape.map { .known($0) })) != nil }),
           let result = apply(.binary(random.pick([.add, .mul, .maximum])), random.chance(0.5) ? [x.value, value] : [value, x.value]) {
            record(result[0], exact: x.exact)
        }
        return true
    }

    func iotaStep() -> Bool {
        let shape = randomShape(rank: random.int(1...3), limit: 4096)
        let type: ElementType = random.pick([.f32, .i32, .i64])
        let axis = random.int(0...(shape.count - 1))
        let value = builder.iota(TensorType(type, dims: shape), axis: random.chance(0.3) ? axis - shape.count : axis)
        record(value, exact: true, bound: Double(shape.max()!))
        return true
    }
}
