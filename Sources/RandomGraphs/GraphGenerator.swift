import GraphIR

/// A value the generator may use as an operand, with what it knows about the value.
struct PoolEntry {
    var value: TensorValue
    var shape: [Int]
    var elementType: ElementType
    /// Whether every correct implementation computes it bit for bit (see `randomGraph`): only
    /// such values feed comparisons, float-to-integer casts and remainders.
    var exact: Bool
    /// A bound on `|value|` for integer values, so integer arithmetic stays far from overflow.
    var bound: Double

    var rank: Int { shape.count }
    var count: Int { shape.reduce(1, *) }
    var isFloat: Bool { elementType == .f32 }
    var isInteger: Bool { elementType.isInteger }
}

/// The state of one random graph being built: the builder, the generator's random stream and
/// the pool of values steps draw operands from. Each step lives in an extension by op family.
final class GraphGenerator {
    static let dims = [1, 2, 3, 5, 7, 9, 16, 17, 33, 65]

    let builder: GraphBuilder
    var random: GraphRandom
    let options: RandomGraphOptions
    var pool: [PoolEntry] = []
    /// Values some op reads; the others are candidates for outputs.
    var consumed: Set<ValueID> = []
    var inputCount = 0
    var weightCount = 0
    /// Inputs and weights: their values vary along every dim.
    var sources: Set<ValueID> = []

    init(seed: UInt64, options: RandomGraphOptions) {
        builder = GraphBuilder("random_\(seed)")
        random = GraphRandom(seed: seed)
        self.options = options
    }

    init(bytes: [UInt8], options: RandomGraphOptions) {
        builder = GraphBuilder("fuzzed")
        random = GraphRandom(bytes: bytes)
        self.options = options
    }

    func generate() -> Graph {
        for _ in 0..<random.int(1...max(1, min(2, options.maxInputs))) {
            let type: ElementType = random.chance(0.9) ? .f32 : random.pick([.i1, .i32])
            _ = addInput(randomShape(rank: random.int(1...4)), type)
        }
        let steps = random.int(1...max(1, options.maxSteps))
        var made = 0, attempts = 0
        while made < steps && attempts < 40 * steps {
            attempts += 1
            if step() { made += 1 }
        }
        chooseOutputs()
        do {
            return try builder.finish()
        } catch {
            preconditionFailure("the random graph generator built an invalid graph: \(error)")
        }
    }

    /// One random step; false when the drawn op found no suitable operands (the caller retries).
    private func step() -> Bool {
        let steps: [(weight: Int, run: () -> Bool)] = [
            (10, unaryStep), (12, binaryStep), (7, selectStep), (5, integerStep), (3, castStep),
            (6, reduceStep), (4, softmaxStep), (6, matmulStep), (3, linearStep), (4, convolutionStep),
            (3, poolStep), (4, reshapeStep), (4, transposeStep), (3, concatStep), (5, sliceStep),
            (2, splitStep), (2, broadcastStep), (3, squeezeStep), (2, layerNormStep), (2, batchNormStep),
            (2, constantStep), (1, iotaStep), (4, attentionStep), (2, channelGateStep), (2, spatialGateStep),
        ]
        return steps[random.weightedIndex(steps.map(\.weight))].run()
    }

    // MARK: Applying ops

    /// Adds `op` when it type-checks and its results fit the size limit; nil otherwise, and the
    /// graph is unchanged.
    func apply(_ op: Op, _ operands: [TensorValue], declared: [TensorType]? = nil) -> [TensorValue]? {
        guard let types = try? inferResultTypes(op, operands: operands.map(\.type), declared: declared),
              types.allSatisfy({ ($0.elementCount ?? .max) <= options.maxElements }) else { return nil }
        for operand in operands { consumed.insert(operand.id) }
        return builder.apply(op, operands, declared: declared)
    }

    /// Adds a result to the pool and returns its entry.
    @discardableResult
    func record(_ value: TensorValue, exact: Bool, bound: Double = .infinity) -> PoolEntry {
        let entry = PoolEntry(value: value, shape: value.type.staticShape!, elementType: value.type.elementType,
                              exact: exact, bound: bound)
        pool.append(entry)
        return entry
    }

    /// `op` on operands that are valid for it by construction.
    func must(_ op: Op, _ operands: [TensorValue]) -> TensorValue {
        guard let result = apply(op, operands) else {
            preconditionFailure("\(op.mnemonic) rejected \(operands.map(\.type)) in the random graph generator")
        }
        return result[0]
    }

    func scalar(_ x: Double, _ type: ElementType = .f32) -> TensorValue { builder.constant(x, TensorType(type, [])) }
    /// A named splat constant of `type` (never printed inline, so it can be an output).
    func splat(_ x: Double, _ type: TensorType) -> TensorValue {
        builder.apply(.constant(.splat(x)), [], declared: [type])[0]
    }

    func unary(_ f: UnaryFunction, _ x: TensorValue) -> TensorValue { must(.unary(f), [x]) }
    func binary(_ f: BinaryFunction, _ x: TensorValue, _ y: TensorValue) -> TensorValue { must(.binary(f), [x, y]) }

    /// `abs(x) + 0.5`: positive and away from zero.
    func positive(_ x: TensorValue) -> TensorValue { binary(.add, unary(.abs, x), scalar(0.5)) }

    /// `±(abs(x) + 0.5)`: a divisor away from zero, of either sign.
    func nonzero(_ x: TensorValue) -> TensorValue {
        let p = positive(x)
        return random.chance(0.3) ? unary(.neg, p) : p
    }

    /// `minimum(maximum(x, low), high)`.
    func clamp(_ x: TensorValue, _ low: Double, _ high: Double) -> TensorValue {
        binary(.minimum, binary(.maximum, x, scalar(low, x.type.elementType)), scalar(high, x.type.elementType))
    }

    // MARK: Choosing operands

    /// A random pool entry passing `filter`, favouring recent ones so chains grow deep.
    func pick(_ filter: (PoolEntry) -> Bool) -> PoolEntry? {
        let candidates = pool.filter(filter)
        guard !candidates.isEmpty else { return nil }
        if random.chance(0.5) { return candidates[max(0, candidates.count - random.int(1...2))] }
        return random.pick(candidates)
    }

    func pickFloat(_ filter: (PoolEntry) -> Bool = { _ in true }) -> PoolEntry? { pick { $0.isFloat && filter($0) } }

    /// A random shape of `rank` that holds at most `limit` elements (the source limit by default).
    func randomShape(rank: Int, limit: Int? = nil) -> [Int] {
        let limit = limit ?? options.maxSourceElements
        var shape = (0..<rank).map { _ in random.pick(GraphGenerator.dims) }
        while shape.reduce(1, *) > limit, let i = shape.indices.max(by: { shape[$0] < shape[$1] }) {
            shape[i] = GraphGenerator.dims.last { $0 < shape[i] } ?? 1
        }
        return shape
    }

    /// A shape that broadcasts to `target`: some dims 1, sometimes fewer leading dims.
    func broadcastable(to target: [Int]) -> [Int] {
        var shape = target.map { random.chance(0.35) ? 1 : $0 }
        if random.chance(0.3) { shape.removeFirst(random.int(0...shape.count)) }
        return shape
    }

    /// A shape `shape` broadcasts to: some size-1 dims widened, sometimes a leading dim added.
    func widened(_ shape: [Int]) -> [Int] {
        var result = shape.map { $0 == 1 && random.chance(0.6) ? random.pick(GraphGenerator.dims) : $0 }
        if result.count < 4 && random.chance(0.25) { result.insert(random.pick(GraphGenerator.dims), at: 0) }
        while result.reduce(1, *) > options.maxElements / 2, let i = result.indices.first(where: { d in
            let aligned = d - (result.count - shape.count)
            return result[d] > 1 && (aligned < 0 || shape[aligned] == 1)
        }) {
            result[i] = 1
        }
        return result
    }

    /// A value of `shape` and `type`: a pool value, a reshaped pool value, or a fresh input,
    /// weight or constant. With `exact`, only exact values.
    func operand(_ shape: [Int], _ type: ElementType = .f32, exact: Bool = false) -> PoolEntry {
        let usable = { (e: PoolEntry) in e.elementType == type && (!exact || e.exact) && (!type.isInteger || e.bound <= 1e4) }
        let same = pool.filter { usable($0) && $0.shape == shape }
        if !same.isEmpty && random.chance(0.5) { return random.pick(same) }
        let count = shape.reduce(1, *)
        let reshapable = pool.filter { usable($0) && $0.count == count }
        if !reshapable.isEmpty && random.chance(0.4) {
            let source = random.pick(reshapable)
            return record(must(.reshape(shape: shape.map { .known($0) }), [source.value]), exact: source.exact, bound: source.bound)
        }
        return fresh(shape, type)
    }

    /// A new input, weight or constant of `shape`.
    func fresh(_ shape: [Int], _ type: ElementType = .f32) -> PoolEntry {
        let count = shape.reduce(1, *)
        let bound: Double = type == .i1 ? 1 : 16
        switch random.int(0...9) {
        case 0...1 where inputCount < options.maxInputs:
            return addInput(shape, type)
        case 2:
            let value = type == .f32 ? random.pick([0.5, -1.25, 2.0, 3.0]) : Double(random.int(0...3))
            return record(splat(value, TensorType(type, dims: shape)), exact: true, bound: Swift.abs(value))
        case 3 where count <= 64:
            let values = (0..<count).map { _ in
                type == .f32 ? (random.normal() * 8).rounded() / 8 : Double(random.int(0...Int(bound)))
            }
            return record(builder.constant(values, TensorType(type, dims: shape)), exact: true, bound: bound)
        default:
            if options.allowsWeights && type == .f32 { return addWeight(shape) }
            if inputCount < options.maxInputs { return addInput(shape, type) }
            return record(splat(type == .f32 ? 0.75 : 1, TensorType(type, dims: shape)), exact: true, bound: 1)
        }
    }

    @discardableResult
    func addInput(_ shape: [Int], _ type: ElementType) -> PoolEntry {
        defer { inputCount += 1 }
        let value = builder.input("x\(inputCount)", TensorType(type, dims: shape))
        sources.insert(value.id)
        return record(value, exact: true, bound: type == .i1 ? 1 : 16)
    }

    /// A weight; `role` names it like a PyTorch state_dict entry (`*.running_var` weights are
    /// generated positive, see `randomWeights`).
    func addWeight(_ shape: [Int], role: String = "weight") -> PoolEntry {
        defer { weightCount += 1 }
        let value = builder.weight("layer\(weightCount).\(role)", TensorType(.f32, dims: shape))
        sources.insert(value.id)
        return record(value, exact: true)
    }

    // MARK: Outputs

    /// The last value, plus up to two values nothing reads; sometimes an input, a constant or a
    /// view of another output, which need an output copy.
    private func chooseOutputs() {
        var outputs: [TensorValue] = []
        func add(_ value: TensorValue) {
            guard !outputs.contains(where: { $0.id == value.id }) else { return }
            outputs.append(value)
        }
        add(pool.last!.value)
        let extra = random.int(0...max(0, options.maxOutputs - 1))
        let unused = pool.filter { !consumed.contains($0.value.id) && !sources.contains($0.value.id) }
        for _ in 0..<extra {
            switch random.int(0...9) {
            case 0: add(random.pick(pool).value)
            case 1: add(must(.reshape(shape: [-1]), [outputs[0]]))
            default: if let entry = unused.randomElement(using: &random) { add(entry.value) }
            }
        }
        for value in outputs.prefix(max(1, options.maxOutputs)) { builder.output(value) }
    }
}
