import CLLVM
import GraphIR

/// Emits a matmul on packed panels, blocked for the caches as BLIS does: a task owns a block of
/// `rowPanelsPerBlock` left panels × `columnPanelsPerBlock` right panels of one batch element,
/// walks k in chunks of `kChunk` (so a left block stays in L2 and a right panel in L1), and calls
/// the register-blocked micro-kernel for every tile. The micro-kernel accumulates a
/// `tile.rows × tile.columns` tile in vector registers with `llvm.fmuladd`.
///
/// Blocks are at most 12 × 16 panels and of near-equal size (13 row panels make blocks of 7 and 6,
/// not 12 and 1, which would leave one thread most of the work). When that gives fewer than
/// `minimumTasks` tasks, column blocks double first, then row blocks: a 32×512 product was one
/// 6×16-panel block, which no second thread could share.
struct MatmulEmitter {
    let kernel: MatmulKernel
    let lanes: Int
    let rowPanelsPerBlock: Int
    let columnPanelsPerBlock: Int
    let kChunk = 256
    /// Enough tasks for every thread of a small machine to get a share and for the split to even out.
    static let minimumTasks = 8

    init(kernel: MatmulKernel, lanes: Int) {
        self.kernel = kernel
        self.lanes = lanes
        let batch = kernel.batchShape.reduce(1, *)
        let rowPanels = (kernel.m + kernel.tile.rows - 1) / kernel.tile.rows
        let columnPanels = (kernel.n + kernel.tile.columns - 1) / kernel.tile.columns
        func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / max(b, 1) }
        var rowBlockCount = ceilDiv(rowPanels, 12), columnBlockCount = ceilDiv(columnPanels, 16)
        while batch * rowBlockCount * columnBlockCount < Self.minimumTasks {
            if columnBlockCount < columnPanels {
                columnBlockCount = min(columnPanels, columnBlockCount * 2)
            } else if rowBlockCount < rowPanels {
                rowBlockCount = min(rowPanels, rowBlockCount * 2)
            } else {
                break
            }
        }
        rowPanelsPerBlock = max(1, ceilDiv(rowPanels, rowBlockCount))
        columnPanelsPerBlock = max(1, ceilDiv(columnPanels, columnBlockCount))
    }

    private var rowPanels: Int { (kernel.m + kernel.tile.rows - 1) / kernel.tile.rows }
    private var columnPanels: Int { (kernel.n + kernel.tile.columns - 1) / kernel.tile.columns }
    private var rowBlocks: Int { (rowPanels + rowPanelsPerBlock - 1) / rowPanelsPerBlock }
    private var columnBlocks: Int { (columnPanels + columnPanelsPerBlock - 1) / columnPanelsPerBlock }

    var taskCount: Int { kernel.batchShape.reduce(1, *) * rowBlocks * columnBlocks }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue, microKernel: IRFunction) throws {
        let b = e.builder
        let tile = kernel.tile
        let left = e.pointer(to: kernel.packedLeft), right = e.pointer(to: kernel.packedRight)
        let output = e.pointer(to: kernel.output.buffer)
        let bias = kernel.bias.map { e.pointer(to: $0.buffer) } ?? e.context.null(e.context.pointer)
        let biasRowStride = kernel.bias.map { $0.strides[$0.strides.count - 2] } ?? 0
        let biasColumnStride = kernel.bias.map { $0.strides[$0.strides.count - 1] } ?? 0
        let batchRank = kernel.batchShape.count
        try b.forLoop(begin, end) { task, _ in
            let blocks = rowBlocks * columnBlocks
            let batchIndex = decompose(e, b.sdiv(task, e.i64(blocks)), kernel.batchShape)
            let block = b.srem(task, e.i64(blocks))
            let rowBlock = b.sdiv(block, e.i64(columnBlocks)), columnBlock = b.srem(block, e.i64(columnBlocks))
            func batchOffset(_ strides: [Int], base: Int) -> IRValue {
                var offset = e.i64(base)
                for d in 0..<batchRank where strides[d] != 0 { offset = b.add(offset, b.mul(batchIndex[d], e.i64(strides[d]))) }
                return offset
            }
            let leftBase = batchOffset(kernel.leftBatchStrides, base: 0)
            let rightBase = batchOffset(kernel.rightBatchStrides, base: 0)
            let outputBase = batchOffset(kernel.output.strides, base: kernel.output.offset)
            let biasBase = kernel.bias.map { batchOffset(Array($0.strides.prefix(batchRank)), base: $0.offset) } ?? e.i64(0)
            let firstRowPanel = b.mul(rowBlock, e.i64(rowPanelsPerBlock))
            let lastRowPanel = e.minimum(b.add(firstRowPanel, e.i64(rowPanelsPerBlock)), e.i64(rowPanels))
            let firstColumnPanel = b.mul(columnBlock, e.i64(columnPanelsPerBlock))
            let lastColumnPanel = e.minimum(b.add(firstColumnPanel, e.i64(columnPanelsPerBlock)), e.i64(columnPanels))
            // At least one chunk, also for k = 0 (an empty contraction): the micro-kernel's
            // first-and-last pass is what writes the result (zeros, plus the bias).
            try b.forLoop(e.i64(0), e.i64(max(kernel.k, 1)), step: kChunk) { k0, _ in
                let count = e.minimum(e.i64(kChunk), b.sub(e.i64(kernel.k), k0))
                let first = b.icmp(LLVMIntEQ, k0, e.i64(0))
                let last = b.icmp(LLVMIntSGE, b.add(k0, e.i64(kChunk)), e.i64(kernel.k))
                try b.forLoop(firstColumnPanel, lastColumnPanel) { columnPanel, _ in
                    let column = b.mul(columnPanel, e.i64(tile.columns))
                    let columns = e.minimum(e.i64(tile.columns), b.sub(e.i64(kernel.n), column))
                    let rightPanel = b.add(rightBase, b.add(b.mul(columnPanel, e.i64(tile.columns * kernel.k)), b.mul(k0, e.i64(tile.columns))))
                    try b.forLoop(firstRowPanel, lastRowPanel) { rowPanel, _ in
                        let row = b.mul(rowPanel, e.i64(tile.rows))
                        let rows = e.minimum(e.i64(tile.rows), b.sub(e.i64(kernel.m), row))
                        let leftPanel = b.add(leftBase, b.add(b.mul(rowPanel, e.i64(tile.rows * kernel.k)), b.mul(k0, e.i64(tile.rows))))
                        let outputAt = b.add(outputBase, b.add(b.mul(row, e.i64(kernel.outputRowStride)), column))
                        let biasAt = b.add(biasBase, b.add(b.mul(row, e.i64(biasRowStride)), b.mul(column, e.i64(biasColumnStride))))
                        b.call(microKernel, [
                            b.elementPointer(e.context.f32, left, leftPanel), b.elementPointer(e.context.f32, right, rightPanel), count,
                            b.elementPointer(e.context.f32, output, outputAt), e.i64(kernel.outputRowStride), rows, columns, first, last,
                            b.elementPointer(e.context.f32, bias, biasAt),
                        ])
                        return []
                    }
                    return []
                }
                return []
            }
            return []
        }
    }

    /// What distinguishes micro-kernels: the tile and how the bias is read.
    struct MicroKernelKind: Hashable {
        let rows: Int, columns: Int
        /// nil: no bias; 0: one value per row; 1: one value per column.
        let biasColumnStride: Int?
        let biasRowStride: Int
    }

    var microKernelKind: MicroKernelKind {
        MicroKernelKind(rows: kernel.tile.rows, columns: kernel.tile.columns,
                        biasColumnStride: kernel.bias.map { $0.strides[$0.strides.count - 1] },
                        biasRowStride: kernel.bias.map { $0.strides[$0.strides.count - 2] } ?? 0)
    }
}

/// `void micro(a, b, k, c, ldc, rows, columns, first, last, bias)`: c[rows × columns] = (first ? 0
/// : c) + a-panel · b-panel over k (+ bias when last). Full tiles store whole vectors; edge tiles
/// use masked loads and stores.
func emitMicroKernel(_ module: IRModule, name: String, kind: MatmulEmitter.MicroKernelKind, lanes: Int) -> IRFunction {
    let c = module.context
    let f32 = c.f32, vector = c.f32.vector(lanes)
    let type = c.function(returning: c.void, [c.pointer, c.pointer, c.i64, c.pointer, c.i64, c.i64, c.i64, c.i1, c.i1, c.pointer])
    let function = module.function(name, type, linkage: LLVMInternalLinkage)
    let b = IRBuilder(module: module)
    b.begin(function)
    let (a, bPanel, k, out, ldc, rows, columns, first, last, bias) =
        (function.parameter(0), function.parameter(1), function.parameter(2), function.parameter(3), function.parameter(4),
         function.parameter(5), function.parameter(6), function.parameter(7), function.parameter(8), function.parameter(9))
    let vectorsPerRow = kind.columns / lanes
    let zero = c.constant(0.0, vector)

    func step(_ kIndex: IRValue, _ acc: [IRValue]) -> [IRValue] {
        let bRow = b.mul(kIndex, c.i64(kind.columns))
        let bVectors = (0..<vectorsPerRow).map { v in
            b.load(vector, b.elementPointer(f32, bPanel, b.add(bRow, c.i64(v * lanes))), alignment: 4 * lanes)
        }
        let aRow = b.mul(kIndex, c.i64(kind.rows))
        var next = acc
        for r in 0..<kind.rows {
            let aValue = b.splat(b.load(f32, b.elementPointer(f32, a, b.add(aRow, c.i64(r))), alignment: 4), lanes: lanes)
            for v in 0..<vectorsPerRow {
                let i = r * vectorsPerRow + v
                next[i] = b.multiplyAdd(aValue, bVectors[v], acc[i])
            }
        }
        return next
    }

    let initial = Array(repeating: zero, count: kind.rows * vectorsPerRow)
    let unroll = 4
    let unrolledEnd = b.sub(k, b.srem(k, c.i64(unroll)))
    var acc = b.forLoop(c.i64(0), unrolledEnd, step: unroll, carrying: initial) { kk, acc in
        var values = acc
        for u in 0..<unroll { values = step(b.add(kk, c.i64(u)), values) }
        return values
    }
    acc = b.forLoop(unrolledEnd, k, carrying: acc) { kk, acc in step(kk, acc) }

    // The epilogue: add what c held (after the first k chunk) and the bias (after the last).
    func biasVector(row r: Int, vector v: Int, mask: IRValue?) -> IRValue? {
        guard let stride = kind.biasColumnStride else { return nil }
        if stride == 0 {
            let at = b.elementPointer(f32, bias, c.i64(r * kind.biasRowStride))
            return b.splat(b.load(f32, at, alignment: 4), lanes: lanes)
        }
        let at = b.elementPointer(f32, bias, c.i64(v * lanes))
        return mask.map { maskedLoad(b, at, $0, vector) } ?? b.load(vector, at, alignment: 4)
    }
    func finish(_ sum: IRValue, old: IRValue, bias: IRValue?) -> IRValue {
        var value = b.fadd(sum, b.select(first, zero, old))
        if let bias { value = b.select(last, b.fadd(value, bias), value) }
        return value
    }

    let fullTile = b.and(b.icmp(LLVMIntEQ, rows, c.i64(kind.rows)), b.icmp(LLVMIntEQ, columns, c.i64(kind.columns)))
    let fullPath = b.block("full"), edgePath = b.block("edge"), done = b.block("done")
    b.branch(if: fullTile, then: fullPath, else: edgePath)

    b.position(at: fullPath)
    for r in 0..<kind.rows {
        for v in 0..<vectorsPerRow {
            let at = b.elementPointer(f32, out, b.add(b.mul(c.i64(r), ldc), c.i64(v * lanes)))
            let value = finish(acc[r * vectorsPerRow + v], old: b.load(vector, at, alignment: 4), bias: biasVector(row: r, vector: v, mask: nil))
            b.store(value, at, alignment: 4)
        }
    }
    b.branch(to: done)

    b.position(at: edgePath)
    let laneIndex = b.signExtend(c.constantVector((0..<lanes).map { Int32($0) }), c.i64.vector(lanes))
    for r in 0..<kind.rows {
        b.ifThen(b.icmp(LLVMIntSLT, c.i64(r), rows)) {
            for v in 0..<vectorsPerRow {
                let mask = b.icmp(LLVMIntSLT, b.add(laneIndex, c.constant(v * lanes, c.i64.vector(lanes))), b.splat(columns, lanes: lanes))
                let at = b.elementPointer(f32, out, b.add(b.mul(c.i64(r), ldc), c.i64(v * lanes)))
                let value = finish(acc[r * vectorsPerRow + v], old: maskedLoad(b, at, mask, vector),
                                   bias: biasVector(row: r, vector: v, mask: mask))
                maskedStore(b, value, at, mask)
            }
        }
    }
    b.branch(to: done)
    b.position(at: done)
    b.returnVoid()
    return function
}

/// `llvm.masked.load`: lanes off in `mask` read nothing and give `passthrough` (0 by default).
/// `alignment` is the element's (4 for f32).
func maskedLoad(_ b: IRBuilder, _ pointer: IRValue, _ mask: IRValue, _ type: IRType, passthrough: IRValue? = nil,
                alignment: Int = 4) -> IRValue {
    let c = b.context
    let intrinsic = b.module.intrinsic("llvm.masked.load.\(IRBuilder.mangle(type)).p0", returning: type,
                                       [c.pointer, c.i32, mask.type, type])
    return b.call(intrinsic, [pointer, c.i32(alignment), mask, passthrough ?? c.constant(0.0, type)])
}

/// A mask of the first `count` lanes (count known at compile time).
func leadingLanes(_ c: IRContext, _ count: Int, of lanes: Int) -> IRValue {
    c.constantMask((0..<lanes).map { $0 < count })
}

/// A mask of the first `count` lanes (count known at run time, 0...lanes).
func leadingLanes(_ b: IRBuilder, _ count: IRValue, of lanes: Int) -> IRValue {
    let c = b.context
    let laneIndex = b.signExtend(c.constantVector((0..<lanes).map { Int32($0) }), c.i64.vector(lanes))
    return b.icmp(LLVMIntSLT, laneIndex, b.splat(count, lanes: lanes))
}

/// `llvm.masked.store`: lanes off in `mask` write nothing. `alignment` is the element's.
func maskedStore(_ b: IRBuilder, _ value: IRValue, _ pointer: IRValue, _ mask: IRValue, alignment: Int = 4) {
    let c = b.context
    let intrinsic = b.module.intrinsic("llvm.masked.store.\(IRBuilder.mangle(value.type)).p0", returning: c.void,
                                       [value.type, c.pointer, c.i32, mask.type])
    b.call(intrinsic, [value, pointer, c.i32(alignment), mask])
}
