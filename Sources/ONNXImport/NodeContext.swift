import GraphIR

/// What a converter sees of one node: its inputs (known or run-time), its attributes, and ways
/// to add GraphIR ops. Every error is an `ImportProblem`, which the importer prefixes with the
/// node's index, name, op type, domain and opset.
struct NodeContext {
    unowned let importer: GraphImporter
    let proto: Onnx_NodeProto
    let info: NodeInfo
    let inputs: [ImportValue?]
    let attributes: NodeAttributes

    init(importer: GraphImporter, proto: Onnx_NodeProto, info: NodeInfo, inputs: [ImportValue?]) {
        self.importer = importer
        self.proto = proto
        self.info = info
        self.inputs = inputs
        self.attributes = NodeAttributes(proto.attribute)
    }

    var opset: Int { importer.opset }
    var opType: String { info.opType }

    /// How many outputs the node names (an empty name is an omitted optional output).
    var requestedOutputs: Int { proto.output.lastIndex(where: { !$0.isEmpty }).map { $0 + 1 } ?? 0 }

    func wantsOutput(_ i: Int) -> Bool { i < proto.output.count && !proto.output[i].isEmpty }

    /// The name of output `i`, for a known tensor the node produces. A node may name fewer outputs
    /// than it computes (or none); the importer never binds those, so any placeholder will do.
    func outputName(_ i: Int) -> String { i < proto.output.count ? proto.output[i] : "\(info.name)#\(i)" }

    // MARK: Inputs

    /// Input `i`, or nil when the node leaves it out (an empty name, or fewer inputs).
    func input(_ i: Int) -> ImportValue? { i < inputs.count ? inputs[i] : nil }

    func has(_ i: Int) -> Bool { input(i) != nil }

    func inputName(_ i: Int) -> String { i < proto.input.count ? proto.input[i] : "#\(i)" }

    /// Input `i` as a graph value, placing a known tensor in the graph if need be.
    func value(_ i: Int) throws(ImportProblem) -> ValueID {
        guard let input = input(i) else { throw ImportProblem("needs input \(i), which is missing") }
        switch input {
        case .runtime(let id): return id
        case .known(let k): return importer.place(k)
        }
    }

    /// Input `i` as a graph value, or nil when it is omitted.
    func optionalValue(_ i: Int) throws(ImportProblem) -> ValueID? { has(i) ? try value(i) : nil }

    /// The values of input `i` when it is known at import time; nil when it is omitted.
    func known(_ i: Int, _ what: String) throws(ImportProblem) -> TensorData? {
        guard let input = input(i) else { return nil }
        switch input {
        case .known(let k): return k.data
        case .runtime(let id):
            if let value = importer.providedValues[id] { return value }
            throw ImportProblem("\(what) (input \(i), '\(inputName(i))') must be known at import time, but it is computed at run time")
        }
    }

    /// A known integer list input (axes, shape, pads), nil when omitted.
    func knownInts(_ i: Int, _ what: String) throws(ImportProblem) -> [Int]? {
        try known(i, what).map { $0.integers.map { Int(clamping: $0) } }
    }

    /// The type of input `i` (which must be present).
    func type(_ i: Int) throws(ImportProblem) -> TensorType {
        guard let input = input(i) else { throw ImportProblem("needs input \(i), which is missing") }
        switch input {
        case .runtime(let id): return importer.graph.type(of: id)
        case .known(let k): return k.data.type
        }
    }

    /// The static shape of input `i`, or an error saying it needs one.
    func staticShape(_ i: Int) throws(ImportProblem) -> [Int] {
        let t = try type(i)
        guard let shape = t.staticShape else {
            throw ImportProblem("input \(i) ('\(inputName(i))') has symbolic dims (\(t)); this op needs a static shape")
        }
        return shape
    }

    func type(of id: ValueID) -> TensorType { importer.graph.type(of: id) }

    func staticShape(of id: ValueID) throws(ImportProblem) -> [Int] {
        guard let shape = type(of: id).staticShape else {
            throw ImportProblem("needs a static shape, got \(type(of: id))")
        }
        return shape
    }

    // MARK: Adding ops

    /// Adds `op` with its result type inferred (or `declared` for `constant` and `iota`).
    func emit(_ op: Op, _ operands: [ValueID], declared: TensorType? = nil) throws(ImportProblem) -> ValueID {
        try emitAll(op, operands, declared: declared.map { [$0] })[0]
    }

    /// Adds an op with several results.
    func emitAll(_ op: Op, _ operands: [ValueID], declared: [TensorType]? = nil) throws(ImportProblem) -> [ValueID] {
        let types: [TensorType]
        do {
            types = try inferResultTypes(op, operands: operands.map { type(of: $0) }, declared: declared)
        } catch {
            throw ImportProblem("cannot be expressed as GraphIR \(op.mnemonic): \(error.message)")
        }
        // Typing rules compute sizes; whether a tensor that size can exist is the verifier's
        // question, asked here so that an impossible size is this node's error.
        for type in types {
            if let problem = sizeProblem(type) { throw ImportProblem("gives \(op.mnemonic) a result of type \(type): \(problem)") }
        }
        return importer.graph.addNode(op, operands: operands, results: types.map { (nil, $0) })
    }

    /// A scalar constant of the given element type (it prints inline as a literal).
    func scalar(_ value: Double, _ elementType: ElementType) -> ValueID {
        importer.addConstant(TensorData(elementType, shape: [], repeating: value))
    }

    /// A constant tensor made up by the converter.
    func constant(_ data: TensorData) -> ValueID { importer.addConstant(data) }

    /// A tensor of `shape` filled with `value`: a constant when small, else a scalar broadcast in
    /// the graph, so that a huge shape costs nothing at import (the fuzzer found 2³¹ elements
    /// asking for 16 GiB) and is refused with its size when run.
    func filled(_ value: Double, _ elementType: ElementType, shape: [Int]) throws(ImportProblem) -> ValueID {
        guard try checkedElementCount(shape.map(Int64.init)) <= largestFoldedConstant else {
            return try emit(.broadcast(shape: shape.map(Dim.known)), [scalar(value, elementType)])
        }
        return constant(TensorData(elementType, shape: shape, repeating: value))
    }

    /// Output `output` filled with `value`: a known tensor when small (shape arithmetic folds
    /// through it), else left to the graph as `filled` does.
    func filledOutput(_ output: Int, _ value: Double, _ elementType: ElementType, shape: [Int]) throws(ImportProblem) -> ImportValue {
        guard try checkedElementCount(shape.map(Int64.init)) <= largestFoldedConstant else {
            return .runtime(try filled(value, elementType, shape: shape))
        }
        return .known(KnownTensor(data: TensorData(elementType, shape: shape, repeating: value), name: outputName(output)))
    }

    /// Reshapes unless the shape is already `shape`.
    func reshape(_ x: ValueID, _ shape: [Int]) throws(ImportProblem) -> ValueID {
        if type(of: x).shape == shape.map(Dim.known) { return x }
        return try emit(.reshape(shape: shape.map(Dim.known)), [x])
    }

    /// Transposes unless the permutation is the identity.
    func transpose(_ x: ValueID, _ permutation: [Int]) throws(ImportProblem) -> ValueID {
        if permutation == Array(0..<permutation.count) { return x }
        return try emit(.transpose(permutation: permutation), [x])
    }

    /// Casts unless `x` already has the element type.
    func cast(_ x: ValueID, to elementType: ElementType) throws(ImportProblem) -> ValueID {
        if type(of: x).elementType == elementType { return x }
        return try emit(.cast(to: elementType), [x])
    }

    // MARK: Attributes and checks

    /// `axis` made non-negative for `rank`, or an error naming the attribute.
    func normalizedAxis(_ axis: Int, rank: Int, _ what: String = "axis") throws(ImportProblem) -> Int {
        guard axis >= -rank && axis < rank else { throw ImportProblem("\(what) \(axis) is out of range for rank \(rank)") }
        return axis < 0 ? axis + rank : axis
    }

    func unsupported(_ what: String) -> ImportProblem { ImportProblem(what) }
}

/// A converter: reads a node through its context and gives the values of its outputs, in order
/// (it may give fewer than the node names when the rest are optional and not requested).
typealias NodeConverter = (NodeContext) throws(ImportProblem) -> [ImportValue]

/// The most elements a fill made at import time (`ConstantOfShape`, padding) may have and still
/// be a known value or a constant.
let largestFoldedConstant = 1 << 16
