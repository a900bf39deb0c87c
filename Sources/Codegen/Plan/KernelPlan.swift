import GraphIR

/// The loop-level form of a graph: buffers and the kernels that fill them, in execution order.
/// Every stage of code generation reads this and nothing else; `description` prints it
/// (`attnc dump --stage kernel`).
public struct KernelPlan: Sendable {
    public var graphName: String
    public var buffers: [PlanBuffer] = []
    public var kernels: [Kernel] = []
    /// Kernels that only read weights and constants (packing weight matrices): run once, before
    /// the first run, into persistent buffers, when the planner is asked to hoist them.
    public var setupKernels: [Kernel] = []
    /// Bytes of scratch the arena buffers need, 64-byte aligned.
    public var arenaBytes = 0
    /// Bytes the persistent buffers need (what the setup kernels write).
    public var persistentBytes = 0
    /// Buffers bound to the graph's inputs, outputs and weights, in the graph's order.
    public var inputs: [BufferID] = []
    public var outputs: [BufferID] = []
    public var weights: [BufferID] = []

    public subscript(_ id: BufferID) -> PlanBuffer {
        get { buffers[id.index] }
        set { buffers[id.index] = newValue }
    }

    mutating func addBuffer(_ buffer: PlanBuffer) -> BufferID {
        buffers.append(buffer)
        return BufferID(buffers.count - 1)
    }
}

public struct BufferID: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public var description: String { "b\(index)" }
}

/// Where a buffer's memory comes from.
public enum BufferStorage: Sendable, Equatable {
    case input(Int)
    case output(Int)
    case weight(Int)
    /// A region of the arena, at a byte offset assigned by the arena planner.
    case arena(offset: Int)
    /// A region of the persistent buffer the setup kernels fill once.
    case persistent(offset: Int)
    /// Data compiled into the code.
    case constant(TensorData)
}

extension BufferStorage {
    /// Weights and constants: the same on every run.
    public var isFixed: Bool {
        switch self {
        case .weight, .constant: return true
        default: return false
        }
    }
}

public struct PlanBuffer: Sendable {
    public var name: String
    public var elementType: ElementType
    public var elementCount: Int
    public var storage: BufferStorage

    /// Bytes in memory; `i1` is stored as one byte per element.
    public var byteCount: Int { elementCount * elementType.byteWidth }
}

/// How a kernel addresses a buffer: element `offset + Σ index[d] · strides[d]` over the kernel's
/// iteration dims. Broadcast dims have stride 0; transposes and slices are just other strides.
public struct Access: Sendable, Equatable, CustomStringConvertible {
    public var buffer: BufferID
    public var offset: Int
    public var strides: [Int]

    public var description: String {
        "\(buffer)[\(offset == 0 ? "" : "\(offset) + ")\(strides.map(String.init).joined(separator: ","))]"
    }
}

/// A scalar expression evaluated at every point of an elementwise kernel's iteration space.
public indirect enum ScalarExpression: Sendable, Equatable {
    case load(Access, ElementType)
    case constant(Double, ElementType)
    /// The point's index along a dim (what `iota` computes).
    case index(dim: Int, ElementType)
    case unary(UnaryFunction, ScalarExpression)
    case binary(BinaryFunction, ScalarExpression, ScalarExpression)
    case select(ScalarExpression, ScalarExpression, ScalarExpression)
    case cast(ScalarExpression, to: ElementType)

    /// The element type the expression produces.
    public var elementType: ElementType {
        switch self {
        case .load(_, let t), .constant(_, let t), .index(_, let t), .cast(_, let t): return t
        case .unary(_, let x): return x.elementType
        case .binary(let f, let a, _): return f.isComparison ? .i1 : a.elementType
        case .select(_, let a, _): return a.elementType
        }
    }

    /// Every load in the expression.
    public var loads: [Access] {
        switch self {
        case .load(let a, _): return [a]
        case .constant, .index: return []
        case .unary(_, let x), .cast(let x, _): return x.loads
        case .binary(_, let a, let b): return a.loads + b.loads
        case .select(let c, let a, let b): return c.loads + a.loads + b.loads
        }
    }

    /// The same expression with every access transformed.
    func mapAccesses(_ transform: (Access) -> Access) -> ScalarExpression {
        switch self {
        case .load(let a, let t): return .load(transform(a), t)
        case .constant, .index: return self
        case .unary(let f, let x): return .unary(f, x.mapAccesses(transform))
        case .cast(let x, let t): return .cast(x.mapAccesses(transform), to: t)
        case .binary(let f, let a, let b): return .binary(f, a.mapAccesses(transform), b.mapAccesses(transform))
        case .select(let c, let a, let b): return .select(c.mapAccesses(transform), a.mapAccesses(transform), b.mapAccesses(transform))
        }
    }

    /// The same expression with index dims renumbered.
    func mapIndexDims(_ transform: (Int) -> Int) -> ScalarExpression {
        switch self {
        case .load, .constant: return self
        case .index(let d, let t): return .index(dim: transform(d), t)
        case .unary(let f, let x): return .unary(f, x.mapIndexDims(transform))
        case .cast(let x, let t): return .cast(x.mapIndexDims(transform), to: t)
        case .binary(let f, let a, let b): return .binary(f, a.mapIndexDims(transform), b.mapIndexDims(transform))
        case .select(let c, let a, let b): return .select(c.mapIndexDims(transform), a.mapIndexDims(transform), b.mapIndexDims(transform))
        }
    }

    /// Index dims the expression reads.
    var indexDims: Set<Int> {
        switch self {
        case .load, .constant: return []
        case .index(let d, _): return [d]
        case .unary(_, let x), .cast(let x, _): return x.indexDims
        case .binary(_, let a, let b): return a.indexDims.union(b.indexDims)
        case .select(let c, let a, let b): return c.indexDims.union(a.indexDims).union(b.indexDims)
        }
    }
}

/// One kernel: a loop nest the code generator emits as one function.
public enum Kernel: Sendable {
    /// `output[i] = expression(i)` over `shape`.
    case elementwise(ElementwiseKernel)
    /// Reduces the middle dim of an `[outer, reduced, inner]` view.
    case reduce(ReduceKernel)
    /// Softmax along the middle dim of an `[outer, axis, inner]` view.
    case softmax(SoftmaxKernel)
    /// Layer norm over the trailing `[outer, normalized]` dim.
    case layerNorm(LayerNormKernel)
    /// Copies a matrix operand into register-tile panels for the matmul micro-kernel.
    case pack(PackKernel)
    /// Batched matmul on packed panels, with an optional bias epilogue.
    case matmul(MatmulKernel)
    /// Online-softmax attention over packed query, key and value panels.
    case attention(AttentionKernel)
    /// Attention one query row at a time, reading q, k and v in place (few queries per batch element).
    case attentionRows(AttentionRowsKernel)
    /// Several reductions of the middle dim of an `[outer, reduced, inner]` view in one read.
    case multiReduce(MultiReduceKernel)
    /// A gate's MLP on its pooled descriptors, one batch element per task.
    case gateMLP(GateMLPKernel)
    /// `Σ_c w[c] · x[n, c, s] + b` for every position s (attention-pooling logits).
    case channelWeightedSum(ChannelWeightedSumKernel)
    /// `Σ_s a[n, s] · x[n, c, s]` for every channel c (attention-pooled descriptors).
    case rowDot(RowDotKernel)
    /// A spatial gate's convolution, normalisation and sigmoid over its pooled maps.
    case spatialConv(SpatialConvKernel)
    /// One fused op lowered to several phases run in order (each its own parallel loop).
    case fused(FusedKernel)
    case pool(PoolKernel)
    /// Copies runs of `inner` elements picked by integer indices (see `GatherKernel`).
    case gather(GatherKernel)
    /// Scatter-adds a transposed convolution's columns into its output planes (see `Col2ImKernel`).
    case col2im(Col2ImKernel)
}

public struct ElementwiseKernel: Sendable {
    public var shape: [Int]
    public var output: Access
    public var outputType: ElementType
    public var expression: ScalarExpression
}

public struct ReduceKernel: Sendable {
    public var function: ReduceFunction
    /// `[outer, reduced, inner]`.
    public var outer: Int, reduced: Int, inner: Int
    /// The input as `[outer, reduced, inner]` strides.
    public var input: Access
    /// The output, contiguous `[outer, inner]`.
    public var output: BufferID
}

public struct SoftmaxKernel: Sendable {
    public var outer: Int, axis: Int, inner: Int
    /// Input and output are contiguous `[outer, axis, inner]`.
    public var input: BufferID
    public var output: BufferID
}

public struct LayerNormKernel: Sendable {
    public var outer: Int, normalized: Int
    public var epsilon: Double
    public var input: BufferID
    public var scale: BufferID?
    public var bias: BufferID?
    public var output: BufferID
}

/// Register-tile geometry of the matmul micro-kernel: `rows × columns` accumulators.
public struct MatmulTile: Sendable, Equatable {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }
}

/// Copies `batch` matrices into panels: for the left operand, panels of `tile.rows` rows stored
/// k-major (`[panel][k][row]`); for the right operand, panels of `tile.columns` columns
/// (`[panel][k][column]`). Rows or columns past the edge are zero.
public struct PackKernel: Sendable {
    public enum Side: Sendable { case left, right }
    /// Where the matrix elements come from: a strided matrix, or an image read as im2col.
    public enum Source: Sendable {
        /// Element (b, r, c) at `access.offset + b·batchStrides + r·rowStride + c·columnStride`.
        case matrix(buffer: BufferID, offset: Int, batchStrides: [Int], rowStride: Int, columnStride: Int)
        /// The right operand of a convolution: row k = (channel, ky, kx), column p = (oy, ox).
        case image(Im2Col)
    }
    public var side: Side
    public var source: Source
    public var batchShape: [Int]
    /// Rows and columns of the matrix being packed (`M×K` left, `K×N` right).
    public var rows: Int, columns: Int
    public var tile: MatmulTile
    public var output: BufferID
    /// Every element is multiplied by this while packed (attention folds its scale into q).
    public var scale: Double = 1

    /// Panels per batch element.
    public var panels: Int { side == .left ? (rows + tile.rows - 1) / tile.rows : (columns + tile.columns - 1) / tile.columns }
    /// Floats per batch element of the packed result.
    public var packedCount: Int { side == .left ? panels * tile.rows * columns : panels * tile.columns * rows }
}

/// How a convolution input is read as a `K × (OH·OW)` matrix.
public struct Im2Col: Sendable {
    public var buffer: BufferID
    public var channels: Int, height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var outputHeight: Int, outputWidth: Int
    public var attributes: Conv2DAttributes
    /// Element offset of image `n`, group `g`: `n · batchStride + g · groupStride`.
    public var batchStride: Int, groupStride: Int
}

public struct MatmulKernel: Sendable {
    public var batchShape: [Int]
    public var m: Int, n: Int, k: Int
    public var tile: MatmulTile
    public var packedLeft: BufferID
    public var packedRight: BufferID
    /// Batch strides of the packed operands in floats (0 where an operand is broadcast).
    public var leftBatchStrides: [Int], rightBatchStrides: [Int]
    /// The result: element (b, i, j) at `output.offset + b·output.strides[..batch] + i·rowStride + j`.
    public var output: Access
    public var outputRowStride: Int
    /// Added to every result: element (b, i, j) of `bias` has strides over `[batch..., m, n]`.
    public var bias: Access?
}

public struct PoolKernel: Sendable {
    public var kind: PoolKind
    public var attributes: Pool2DAttributes
    public var planes: Int, height: Int, width: Int
    public var outputHeight: Int, outputWidth: Int
    public var input: BufferID
    public var output: BufferID
}

/// Flash-style attention: for each batch element and panel of `tile.rows` queries, walk the keys
/// `tile.columns` at a time keeping a running max and sum per query row, so the scores exist only
/// one tile at a time. Query, key and value come packed (see `PackKernel`): q as left panels
/// (already scaled), k as right panels of `tile.columns` keys (`[D][keys]`), v as right panels of
/// `tile.columns` value features (`[Sk][features]`).
public struct AttentionKernel: Sendable {
    public var score: AttentionScore
    public var causal: Bool
    public var batchShape: [Int]
    public var queries: Int, keys: Int, features: Int, valueFeatures: Int
    public var tile: MatmulTile
    public var packedQuery: BufferID, packedKey: BufferID, packedValue: BufferID
    /// Batch strides of the packed operands in floats (0 where an operand is broadcast).
    public var queryBatchStrides: [Int], keyBatchStrides: [Int], valueBatchStrides: [Int]
    /// The additive score's weight vector `[features]`.
    public var scoreWeight: BufferID?
    /// The additive mask over `[batch..., queries, keys]`.
    public var mask: ScalarExpression?
    /// Scores replaced after the mask is added (`select=true`).
    public var select: AttentionSelect?
    /// The result over `[batch..., queries, valueFeatures]`.
    public var output: Access
    /// The probabilities over `[batch..., queries, keys]`, when they are a result.
    public var probabilities: Access?
}

/// An attention's `select` mask over `[batch..., queries, keys]`: `s = predicate ? fill : s`.
public struct AttentionSelect: Sendable {
    /// An i1 expression.
    public var predicate: ScalarExpression
    public var fill: ScalarExpression

    public var loads: [Access] { predicate.loads + fill.loads }
}

public struct MultiReduceKernel: Sendable {
    public var outer: Int, reduced: Int, inner: Int
    /// Contiguous `[outer, reduced, inner]`.
    public var input: BufferID
    /// Each function's result, contiguous `[outer, inner]`.
    public var outputs: [(function: ReduceFunction, buffer: BufferID)]
}

public struct GateMLPKernel: Sendable {
    public var batch: Int, channels: Int, hidden: Int
    /// Each pooling's descriptors `[batch, channels]`, summed through the shared MLP.
    public var descriptors: [BufferID]
    public var w1: BufferID, b1: BufferID?
    public var norm: (scale: BufferID, shift: BufferID, epsilon: Double)?
    public var w2: BufferID, b2: BufferID?
    /// Apply a sigmoid to the summed gate.
    public var sigmoid: Bool
    /// The gate `[batch, channels]`.
    public var output: BufferID
}

public struct ChannelWeightedSumKernel: Sendable {
    public var batch: Int, channels: Int, positions: Int
    public var input: BufferID
    public var weight: BufferID, bias: BufferID
    /// `[batch, positions]`.
    public var output: BufferID
}

public struct RowDotKernel: Sendable {
    public var batch: Int, rows: Int, length: Int
    /// `[batch, rows, length]`.
    public var matrix: BufferID
    /// `[batch, length]`.
    public var vector: BufferID
    /// `[batch, rows]`.
    public var output: BufferID
}

public struct SpatialConvKernel: Sendable {
    public var batch: Int, rows: Int, columns: Int
    /// Pooled maps, each read at `n · batchStride + r · rowStride + s · columnStride`.
    public var maps: [BufferID]
    public var batchStride: Int, rowStride: Int, columnStride: Int
    public var weight: BufferID
    /// `kernelHeight`/`kernelWidth` and `padding` are along the kernel's rows and columns; with
    /// `transposedWeight` the weight is read as its transpose (the maps were laid out columns-first).
    public var kernelHeight: Int, kernelWidth: Int
    public var transposedWeight = false
    public var padding: [Int]
    public var bias: BufferID?
    public var norm: (scale: BufferID, shift: BufferID, mean: BufferID, variance: BufferID, epsilon: Double)?
    /// The gate, contiguous `[batch, rows, columns]`.
    public var output: BufferID
}

public struct FusedKernel: Sendable {
    /// The fused op's name, as the plan prints it.
    public var name: String
    public var phases: [Kernel]
}

/// Attention's row mode, for batch elements with one query or a few (decoder states attending
/// over encoder outputs: Bahdanau, Luong). The key/value panels a query tile would share are not
/// worth packing for one row; instead a task takes one query row, computes its scores
/// vectorised along the features of each key row, normalises them, and sums value rows
/// vectorised along the value features. The row's scores live in `scores` (one row per task).
public struct AttentionRowsKernel: Sendable {
    public var score: AttentionScore
    public var scale: Double
    public var causal: Bool
    public var batchShape: [Int]
    public var queries: Int, keys: Int, features: Int, valueFeatures: Int
    /// Strided views over `[batch…, queries, features]`, `[batch…, keys, features]`, `[batch…, keys, valueFeatures]`.
    public var query: Access, key: Access, value: Access
    public var scoreWeight: BufferID?
    public var mask: ScalarExpression?
    public var select: AttentionSelect?
    public var output: Access
    public var probabilities: Access?
    /// `[batch · queries, keys]` scratch.
    public var scores: BufferID
}
