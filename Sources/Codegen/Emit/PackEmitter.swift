import CLLVM
import GraphIR

/// Copies a matmul operand into micro-kernel panels (see `PackKernel`). A task packs one panel
/// of one batch element. A right operand whose columns are contiguous is copied with vector
/// loads; everything else element by element, with rows or columns past the edge set to zero.
struct PackEmitter {
    let kernel: PackKernel
    let lanes: Int

    var taskCount: Int { kernel.batchShape.reduce(1, *) * kernel.panels }

    /// Floats in one panel.
    private var panelSize: Int {
        kernel.side == .left ? kernel.tile.rows * kernel.columns : kernel.tile.columns * kernel.rows
    }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let destination = e.pointer(to: kernel.output)
        let source: IRValue
        switch kernel.source {
        case .matrix(let buffer, _, _, _, _): source = e.pointer(to: buffer)
        case .image(let image): source = e.pointer(to: image.buffer)
        }
        try b.forLoop(begin, end) { task, _ in
            let batch = b.sdiv(task, e.i64(kernel.panels))
            let panel = b.srem(task, e.i64(kernel.panels))
            let batchIndex = decompose(e, batch, kernel.batchShape)
            let panelBase = b.mul(task, e.i64(panelSize))
            switch kernel.source {
            case .matrix(_, let offset, let batchStrides, let rowStride, let columnStride):
                var base = e.i64(offset)
                for (index, stride) in zip(batchIndex, batchStrides) where stride != 0 {
                    base = b.add(base, b.mul(index, e.i64(stride)))
                }
                if kernel.side == .left {
                    try packLeft(e, source, base, panel: panel, rowStride: rowStride, columnStride: columnStride, into: destination, panelBase)
                } else {
                    try packRight(e, source, base, panel: panel, rowStride: rowStride, columnStride: columnStride, into: destination, panelBase)
                }
            case .image(let image):
                let base = b.add(b.mul(batchIndex[0], e.i64(image.batchStride)), b.mul(batchIndex[1], e.i64(image.groupStride)))
                try packImage(e, source, base, image, panel: panel, into: destination, panelBase)
            }
            return []
        }
    }

    /// `[k][row]`: for each k, the panel's rows, zero past the last row.
    private func packLeft(_ e: EmitContext, _ source: IRValue, _ base: IRValue, panel: IRValue, rowStride: Int, columnStride: Int,
                          into destination: IRValue, _ panelBase: IRValue) throws {
        let b = e.builder
        let rows = kernel.tile.rows
        let firstRow = b.mul(panel, e.i64(rows))
        let zero = e.context.constant(0.0, e.context.f32)
        // Rows past the edge read the last valid row (always in bounds) and store zero.
        let rowOffsets = (0..<rows).map { r -> (IRValue, IRValue) in
            let row = b.add(firstRow, e.i64(r))
            let valid = b.icmp(LLVMIntSLT, row, e.i64(kernel.rows))
            let clamped = b.select(valid, row, e.i64(kernel.rows - 1))
            return (b.add(base, b.mul(clamped, e.i64(rowStride))), valid)
        }
        try b.forLoop(e.i64(0), e.i64(kernel.columns)) { k, _ in
            let columnOffset = b.mul(k, e.i64(columnStride))
            let out = b.add(panelBase, b.mul(k, e.i64(rows)))
            for (r, (rowOffset, valid)) in rowOffsets.enumerated() {
                let x = scaled(e, try e.load(.f32, source, b.add(rowOffset, columnOffset), count: 1))
                try e.store(b.select(valid, x, zero), .f32, destination, b.add(out, e.i64(r)))
            }
            return []
        }
    }

    /// `[k][column]`: for each k, the panel's columns, zero past the last column.
    private func packRight(_ e: EmitContext, _ source: IRValue, _ base: IRValue, panel: IRValue, rowStride: Int, columnStride: Int,
                           into destination: IRValue, _ panelBase: IRValue) throws {
        let b = e.builder
        let columns = kernel.tile.columns
        let firstColumn = b.mul(panel, e.i64(columns))
        let full = b.icmp(LLVMIntSLE, b.add(firstColumn, e.i64(columns)), e.i64(kernel.columns))
        let vectorPath = b.block("pack.vector"), scalarPath = b.block("pack.scalar"), done = b.block("pack.done")
        b.branch(if: columnStride == 1 ? full : e.context.constant(0, e.context.i1), then: vectorPath, else: scalarPath)

        b.position(at: vectorPath)
        let start = b.add(base, b.mul(firstColumn, e.i64(columnStride)))
        try b.forLoop(e.i64(0), e.i64(kernel.rows)) { k, _ in
            let from = b.add(start, b.mul(k, e.i64(rowStride)))
            let out = b.add(panelBase, b.mul(k, e.i64(columns)))
            for v in stride(from: 0, to: columns, by: lanes) {
                let x = scaled(e, try e.load(.f32, source, b.add(from, e.i64(v)), count: lanes))
                try e.store(x, .f32, destination, b.add(out, e.i64(v)))
            }
            return []
        }
        b.branch(to: done)

        b.position(at: scalarPath)
        let zero = e.context.constant(0.0, e.context.f32)
        let columnOffsets = (0..<columns).map { c -> (IRValue, IRValue) in
            let column = b.add(firstColumn, e.i64(c))
            let valid = b.icmp(LLVMIntSLT, column, e.i64(kernel.columns))
            let clamped = b.select(valid, column, e.i64(kernel.columns - 1))
            return (b.add(base, b.mul(clamped, e.i64(columnStride))), valid)
        }
        try b.forLoop(e.i64(0), e.i64(kernel.rows)) { k, _ in
            let rowOffset = b.mul(k, e.i64(rowStride))
            let out = b.add(panelBase, b.mul(k, e.i64(columns)))
            for (c, (columnOffset, valid)) in columnOffsets.enumerated() {
                let x = scaled(e, try e.load(.f32, source, b.add(columnOffset, rowOffset), count: 1))
                try e.store(b.select(valid, x, zero), .f32, destination, b.add(out, e.i64(c)))
            }
            return []
        }
        b.branch(to: done)
        b.position(at: done)
    }

    /// im2col: row k = (channel, ky, kx), column = (oy, ox); taps in the padding read zero.
    private func packImage(_ e: EmitContext, _ source: IRValue, _ base: IRValue, _ image: Im2Col, panel: IRValue,
                           into destination: IRValue, _ panelBase: IRValue) throws {
        let b = e.builder
        let columns = kernel.tile.columns
        let a = image.attributes
        let taps = image.kernelHeight * image.kernelWidth
        let zero = e.context.constant(0.0, e.context.f32)
        let firstColumn = b.mul(panel, e.i64(columns))
        // Per column of the panel: the window's top-left corner, and whether the column exists.
        let corners = (0..<columns).map { c -> (IRValue, IRValue, IRValue) in
            let column = b.add(firstColumn, e.i64(c))
            let oy = b.sdiv(column, e.i64(image.outputWidth)), ox = b.srem(column, e.i64(image.outputWidth))
            let top = b.sub(b.mul(oy, e.i64(a.stride[0])), e.i64(a.padding.top))
            let left = b.sub(b.mul(ox, e.i64(a.stride[1])), e.i64(a.padding.left))
            return (top, left, b.icmp(LLVMIntSLT, column, e.i64(kernel.columns)))
        }
        try b.forLoop(e.i64(0), e.i64(kernel.rows)) { k, _ in
            let channel = b.sdiv(k, e.i64(taps))
            let tap = b.srem(k, e.i64(taps))
            let dy = b.mul(b.sdiv(tap, e.i64(image.kernelWidth)), e.i64(a.dilation[0]))
            let dx = b.mul(b.srem(tap, e.i64(image.kernelWidth)), e.i64(a.dilation[1]))
            let plane = b.add(base, b.mul(channel, e.i64(image.height * image.width)))
            let out = b.add(panelBase, b.mul(k, e.i64(columns)))
            for (c, (top, left, exists)) in corners.enumerated() {
                let y = b.add(top, dy), x = b.add(left, dx)
                let inside = b.and(b.and(exists, b.and(b.icmp(LLVMIntSGE, y, e.i64(0)), b.icmp(LLVMIntSLT, y, e.i64(image.height)))),
                                   b.and(b.icmp(LLVMIntSGE, x, e.i64(0)), b.icmp(LLVMIntSLT, x, e.i64(image.width))))
                let offset = b.select(inside, b.add(plane, b.add(b.mul(y, e.i64(image.width)), x)), base)
                let value = scaled(e, try e.load(.f32, source, offset, count: 1))
                try e.store(b.select(inside, value, zero), .f32, destination, b.add(out, e.i64(c)))
            }
            return []
        }
    }
}

extension PackEmitter {
    /// `x · kernel.scale`, or `x` when the scale is 1.
    func scaled(_ e: EmitContext, _ x: IRValue) -> IRValue {
        kernel.scale == 1 ? x : e.builder.fmul(x, e.context.constant(kernel.scale, x.type))
    }
}

/// The multi-index of a linear index over `shape` (row-major).
func decompose(_ e: EmitContext, _ linear: IRValue, _ shape: [Int]) -> [IRValue] {
    let b = e.builder
    var remainder = linear
    var index = Array(repeating: e.i64(0), count: shape.count)
    for d in shape.indices.reversed() {
        index[d] = b.srem(remainder, e.i64(shape[d]))
        remainder = b.sdiv(remainder, e.i64(shape[d]))
    }
    return index
}
