import GraphIR

/// Matmul-like ops as pack kernels plus one matmul kernel on the packed panels.
///
/// Both operands are copied into panels shaped for the register-blocked micro-kernel (the left
/// one `tile.rows` rows at a time, the right one `tile.columns` columns at a time, k-major), so
/// transposed or strided operands and im2col convolution inputs cost one strided copy, never a
/// slow inner loop.
extension KernelPlanner {
    mutating func lowerMatmul(_ a: ValueID, _ b: ValueID, _ result: ValueID, transposeA: Bool, transposeB: Bool) {
        let aShape = graph.type(of: a).staticShape!, bShape = graph.type(of: b).staticShape!
        let shape = graph.type(of: result).staticShape!
        let batch = Array(shape.dropLast(2))
        let (m, n) = (shape[shape.count - 2], shape[shape.count - 1])
        let k = transposeA ? aShape[aShape.count - 2] : aShape[aShape.count - 1]
        let left = packOperand(.left, a, rows: m, columns: k, transposed: transposeA)
        let right = packOperand(.right, b, rows: k, columns: n, transposed: transposeB)
        plan.kernels.append(.matmul(MatmulKernel(
            batchShape: batch, m: m, n: n, k: k, tile: tile,
            packedLeft: left.buffer, packedRight: right.buffer,
            leftBatchStrides: broadcastElementStrides(Array(aShape.dropLast(2)), to: batch).map { $0 * left.perBatch },
            rightBatchStrides: broadcastElementStrides(Array(bShape.dropLast(2)), to: batch).map { $0 * right.perBatch },
            output: Access(buffer: buffer(of: result), offset: 0, strides: rowMajorStrides(batch).map { $0 * m * n }),
            outputRowStride: n, bias: nil)))
    }

    /// Packs a matmul-like operand `[batch…, r, c]` (read as its transpose when `transposed`)
    /// through whatever strides it has: a folded transpose costs nothing extra here.
    mutating func packOperand(_ side: PackKernel.Side, _ id: ValueID, rows: Int, columns: Int, transposed: Bool, scale: Double = 1,
                              tile: MatmulTile? = nil) -> (buffer: BufferID, perBatch: Int) {
        let access = access(of: id)
        let rank = access.strides.count
        let (rowStride, columnStride) = transposed ? (access.strides[rank - 1], access.strides[rank - 2])
                                                   : (access.strides[rank - 2], access.strides[rank - 1])
        let batchShape = Array(graph.type(of: id).staticShape!.dropLast(2))
        return pack(side, .matrix(buffer: access.buffer, offset: access.offset, batchStrides: Array(access.strides.dropLast(2)),
                                  rowStride: rowStride, columnStride: columnStride),
                    batchShape: batchShape, rows: rows, columns: columns, name: "\(graph[id].name ?? "operand").packed", scale: scale, tile: tile)
    }

    /// `x · weightᵀ + bias` with every leading dim of x folded into the rows.
    mutating func lowerLinear(_ node: Node) {
        let x = node.operands[0], weight = node.operands[1]
        let xShape = graph.type(of: x).staticShape!
        let (n, k) = (graph.type(of: weight).staticShape![0], graph.type(of: weight).staticShape![1])
        let m = xShape.dropLast().reduce(1, *)
        let left = packMatrix(.left, x, batchShape: [], matrixSize: m * k, rows: m, columns: k, rowStride: k, columnStride: 1)
        let right = packMatrix(.right, weight, batchShape: [], matrixSize: n * k, rows: k, columns: n, rowStride: 1, columnStride: k)
        plan.kernels.append(.matmul(MatmulKernel(
            batchShape: [], m: m, n: n, k: k, tile: tile, packedLeft: left.buffer, packedRight: right.buffer,
            leftBatchStrides: [], rightBatchStrides: [],
            output: Access(buffer: buffer(of: node.results[0]), offset: 0, strides: []), outputRowStride: n,
            bias: node.operands.count > 2 ? Access(buffer: buffer(of: node.operands[2]), offset: 0, strides: [0, 1]) : nil)))
    }

    /// Convolution as a matmul per (image, group): weights `[Og, Cg·kh·kw]` times the image read
    /// as im2col `[Cg·kh·kw, OH·OW]`. A 1×1 convolution reads the image as a plain matrix.
    mutating func lowerConv2D(_ node: Node, _ attributes: Conv2DAttributes) {
        let x = node.operands[0], weight = node.operands[1]
        let xShape = graph.type(of: x).staticShape!, wShape = graph.type(of: weight).staticShape!
        let shape = graph.type(of: node.results[0]).staticShape!
        let (images, channels, height, width) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let groups = attributes.groups
        let (outChannels, outputHeight, outputWidth) = (shape[1], shape[2], shape[3])
        let (perGroupOut, perGroupIn) = (outChannels / groups, channels / groups)
        let k = perGroupIn * wShape[2] * wShape[3]
        let positions = outputHeight * outputWidth
        let left = packMatrix(.left, weight, batchShape: [groups], matrixSize: perGroupOut * k,
                              rows: perGroupOut, columns: k, rowStride: k, columnStride: 1)
        let pointwise = wShape[2] == 1 && wShape[3] == 1 && attributes.stride == [1, 1] && attributes.padding == .zero
        let right: (buffer: BufferID, perBatch: Int)
        if pointwise {
            right = packImageChannels(x, groups: groups)
        } else {
            let image = Im2Col(buffer: buffer(of: x), channels: perGroupIn, height: height, width: width,
                               kernelHeight: wShape[2], kernelWidth: wShape[3], outputHeight: outputHeight, outputWidth: outputWidth,
                               attributes: attributes, batchStride: channels * height * width, groupStride: perGroupIn * height * width)
            right = pack(.right, .image(image), batchShape: [images, groups], rows: k, columns: positions,
                         name: "\(graph[x].name ?? "x").im2col")
        }
        appendGroupedMatmul(images: images, groups: groups, m: perGroupOut, n: positions, k: k, left: left, right: right,
                            output: buffer(of: node.results[0]), bias: node.operands.count > 2 ? buffer(of: node.operands[2]) : nil)
    }

    /// An NCHW image as the right operand of a matmul per (image, group): the `[C/groups, H·W]`
    /// matrix of the group's channels, read in place.
    mutating func packImageChannels(_ x: ValueID, groups: Int) -> (buffer: BufferID, perBatch: Int) {
        let shape = graph.type(of: x).staticShape!
        let (images, channels, positions) = (shape[0], shape[1], shape[2] * shape[3])
        let perGroup = channels / groups
        return packMatrix(.right, x, batchShape: [images, groups], batchStrides: [channels * positions, perGroup * positions],
                          rows: perGroup, columns: positions, rowStride: positions, columnStride: 1)
    }

    /// A matmul per (image, group) of `left` (packed per group) and `right` (packed per image and
    /// group) into `output`, contiguous `[images, groups · m, n]`; `bias` adds one value per row
    /// of each group (a convolution's per-channel bias).
    mutating func appendGroupedMatmul(images: Int, groups: Int, m: Int, n: Int, k: Int, left: (buffer: BufferID, perBatch: Int),
                                      right: (buffer: BufferID, perBatch: Int), output: BufferID, bias: BufferID?) {
        plan.kernels.append(.matmul(MatmulKernel(
            batchShape: [images, groups], m: m, n: n, k: k, tile: tile,
            packedLeft: left.buffer, packedRight: right.buffer,
            leftBatchStrides: [0, left.perBatch], rightBatchStrides: [groups * right.perBatch, right.perBatch],
            output: Access(buffer: output, offset: 0, strides: [groups * m * n, m * n]), outputRowStride: n,
            bias: bias.map { Access(buffer: $0, offset: 0, strides: [0, m, 1, 0]) })))
    }

    /// Packs a strided matrix operand; `batchShape` dims are laid out row-major with
    /// `matrixSize` elements each unless `batchStrides` says otherwise.
    mutating func packMatrix(_ side: PackKernel.Side, _ id: ValueID, batchShape: [Int], matrixSize: Int = 0,
                             batchStrides: [Int]? = nil, rows: Int, columns: Int,
                             rowStride: Int, columnStride: Int, scale: Double = 1, tile: MatmulTile? = nil) -> (buffer: BufferID, perBatch: Int) {
        let strides = batchStrides ?? rowMajorStrides(batchShape).map { $0 * matrixSize }
        return pack(side, .matrix(buffer: buffer(of: id), offset: 0, batchStrides: strides, rowStride: rowStride, columnStride: columnStride),
                    batchShape: batchShape, rows: rows, columns: columns, name: "\(graph[id].name ?? "operand").packed",
                    scale: scale, tile: tile)
    }

    private mutating func pack(_ side: PackKernel.Side, _ source: PackKernel.Source, batchShape: [Int], rows: Int, columns: Int,
                               name: String, scale: Double = 1, tile: MatmulTile? = nil) -> (buffer: BufferID, perBatch: Int) {
        var kernel = PackKernel(side: side, source: source, batchShape: batchShape, rows: rows, columns: columns, tile: tile ?? self.tile,
                                output: BufferID(0), scale: scale)
        // The same operand packed the same way again (x feeding the q, k and v projections) reuses the panels.
        let key = Kernel.pack(kernel).text
        if let packed = packedOperands[key] { return (packed, kernel.packedCount) }
        let floats = batchShape.reduce(1, *) * kernel.packedCount
        if hoistWeightPacking, case .matrix(let source, _, _, _, _) = source, plan[source].storage.isFixed {
            // Weights do not change between runs: pack them once, at setup.
            kernel.output = plan.addBuffer(PlanBuffer(name: name, elementType: .f32, elementCount: floats,
                                                      storage: .persistent(offset: plan.persistentBytes)))
            plan.persistentBytes += (floats * 4 + 63) / 64 * 64
            plan.setupKernels.append(.pack(kernel))
        } else {
            kernel.output = scratch(name, floats: floats)
            plan.kernels.append(.pack(kernel))
        }
        packedOperands[key] = kernel.output
        return (kernel.output, kernel.packedCount)
    }
}
