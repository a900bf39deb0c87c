import GraphIR

/// Gates as one fused kernel each, in phases:
///
/// - channel gate: pool every channel (average and max in one read, or attention pooling:
///   logits, softmax over positions, weighted sums), run the MLP per batch element, apply the
///   gate (`x · g` or `x + g`);
/// - spatial gate: pool over the channel dim (mean and max in one read), convolve, normalise
///   and squash the maps, apply the gate.
extension KernelPlanner {
    mutating func lowerChannelGate(_ node: Node, _ a: ChannelGateAttributes) {
        let x = node.operands[0]
        let shape = graph.type(of: x).staticShape!
        let (batch, channels) = (shape[0], shape[1])
        let positions = shape[2...].reduce(1, *)
        let name = graph[node.results[0]].name ?? "gate"
        var operands = node.operands.dropFirst().makeIterator()
        var phases: [Kernel] = []
        var descriptors: [BufferID] = []
        if a.pools == [.attention] {
            let (wa, ba) = (operands.next()!, operands.next()!)
            let logits = scratch("\(name).logits", floats: batch * positions)
            let weights = scratch("\(name).weights", floats: batch * positions)
            let context = scratch("\(name).context", floats: batch * channels)
            phases.append(.channelWeightedSum(ChannelWeightedSumKernel(batch: batch, channels: channels, positions: positions, input: buffer(of: x),
                                                                       weight: buffer(of: wa), bias: buffer(of: ba), output: logits)))
            phases.append(.softmax(SoftmaxKernel(outer: batch, axis: positions, inner: 1, input: logits, output: weights)))
            phases.append(.rowDot(RowDotKernel(batch: batch, rows: channels, length: positions, matrix: buffer(of: x), vector: weights,
                                               output: context)))
            descriptors = [context]
        } else {
            var outputs: [(function: ReduceFunction, buffer: BufferID)] = []
            for pool in a.pools {
                let d = scratch("\(name).\(pool.rawValue)", floats: batch * channels)
                outputs.append((pool == .avg ? .mean : .amax, d))
                descriptors.append(d)
            }
            phases.append(.multiReduce(MultiReduceKernel(outer: batch * channels, reduced: positions, inner: 1, input: buffer(of: x),
                                                         outputs: outputs)))
        }
        let w1 = operands.next()!
        let b1 = a.bias ? operands.next() : nil
        let norm = a.layerNorm ? (operands.next()!, operands.next()!) : nil
        let w2 = operands.next()!
        let b2 = a.bias ? operands.next() : nil
        // A map-only gate writes its result; otherwise the gate is scratch and applied below.
        let gate = a.mapOnly ? buffer(of: node.results[0]) : scratch("\(name).gate", floats: batch * channels)
        phases.append(.gateMLP(GateMLPKernel(
            batch: batch, channels: channels, hidden: graph.type(of: w1).staticShape![0], descriptors: descriptors,
            w1: buffer(of: w1), b1: b1.map { buffer(of: $0) }, norm: norm.map { (buffer(of: $0.0), buffer(of: $0.1), a.epsilon) },
            w2: buffer(of: w2), b2: b2.map { buffer(of: $0) }, sigmoid: a.combine == .scale, output: gate)))
        if a.mapOnly {
            plan.kernels.append(.fused(FusedKernel(name: "channel_gate map", phases: phases)))
            return
        }
        // The gate holds one value per (n, c): stride 0 along every spatial dim.
        var gateStrides = Array(repeating: 0, count: shape.count)
        (gateStrides[0], gateStrides[1]) = (channels, 1)
        let xRead = ScalarExpression.load(Access(buffer: buffer(of: x), offset: 0, strides: rowMajorStrides(shape)), .f32)
        let gateRead = ScalarExpression.load(Access(buffer: gate, offset: 0, strides: gateStrides), .f32)
        phases.append(.elementwise(ElementwiseKernel(
            shape: shape, output: Access(buffer: buffer(of: node.results[0]), offset: 0, strides: rowMajorStrides(shape)), outputType: .f32,
            expression: .binary(a.combine == .scale ? .mul : .add, xRead, gateRead))))
        plan.kernels.append(.fused(FusedKernel(name: "channel_gate", phases: phases)))
    }

    mutating func lowerSpatialGate(_ node: Node, _ a: SpatialGateAttributes) {
        let x = node.operands[0]
        let shape = graph.type(of: x).staticShape!
        let (c, r, s) = (a.dims[0], a.dims[1], a.dims[2])
        let name = graph[node.results[0]].name ?? "gate"
        // Pool the channel dim as the middle of [outer, channels, inner]; the maps keep x's other dims in x's order.
        let outer = shape[..<c].reduce(1, *), inner = shape[(c + 1)...].reduce(1, *)
        var phases: [Kernel] = []
        var maps: [BufferID] = []
        var outputs: [(function: ReduceFunction, buffer: BufferID)] = []
        for pool in a.pools {
            let map = scratch("\(name).\(pool.rawValue)", floats: outer * inner)
            outputs.append((pool == .mean ? .mean : .amax, map))
            maps.append(map)
        }
        phases.append(.multiReduce(MultiReduceKernel(outer: outer, reduced: shape[c], inner: inner, input: buffer(of: x), outputs: outputs)))
        let mapDims = [0, 1, 2, 3].filter { $0 != c }
        let mapStrides = rowMajorStrides(mapDims.map { shape[$0] })
        let stride = { (dim: Int) in mapStrides[mapDims.firstIndex(of: dim)!] }
        let operands = node.operands
        let weight = graph.type(of: operands[1]).staticShape!
        // Convolve in the maps' own layout: when they hold the gate's columns first (r after s
        // in x), swap rows and columns and read the kernel transposed.
        let swapped = stride(s) != 1
        let (rowDim, columnDim) = swapped ? (s, r) : (r, s)
        // The map, laid out [n, smaller dim, larger dim]: what a map-only gate's result is.
        let gate = a.mapOnly ? buffer(of: node.results[0]) : scratch("\(name).gate", floats: shape[0] * shape[r] * shape[s])
        phases.append(.spatialConv(SpatialConvKernel(
            batch: shape[0], rows: shape[rowDim], columns: shape[columnDim], maps: maps, batchStride: stride(0), rowStride: stride(rowDim),
            columnStride: stride(columnDim), weight: buffer(of: operands[1]),
            kernelHeight: swapped ? weight[3] : weight[2], kernelWidth: swapped ? weight[2] : weight[3], transposedWeight: swapped,
            padding: swapped ? [a.padding[1], a.padding[0]] : a.padding,
            bias: a.bias ? buffer(of: operands[2]) : nil,
            norm: a.batchNorm ? (buffer(of: operands[a.normOperand]), buffer(of: operands[a.normOperand + 1]), buffer(of: operands[a.normOperand + 2]),
                                 buffer(of: operands[a.normOperand + 3]), a.epsilon) : nil,
            output: gate)))
        if a.mapOnly {
            plan.kernels.append(.fused(FusedKernel(name: "spatial_gate map", phases: phases)))
            return
        }
        // The gate holds one value per (n, row, column) of the convolution: stride 0 along the channel dim.
        var gateStrides = Array(repeating: 0, count: 4)
        (gateStrides[0], gateStrides[rowDim], gateStrides[columnDim]) = (shape[r] * shape[s], shape[columnDim], 1)
        let xRead = ScalarExpression.load(Access(buffer: buffer(of: x), offset: 0, strides: rowMajorStrides(shape)), .f32)
        let gateRead = ScalarExpression.load(Access(buffer: gate, offset: 0, strides: gateStrides), .f32)
        phases.append(.elementwise(ElementwiseKernel(
            shape: shape, output: Access(buffer: buffer(of: node.results[0]), offset: 0, strides: rowMajorStrides(shape)), outputType: .f32,
            expression: .binary(.mul, xRead, gateRead))))
        plan.kernels.append(.fused(FusedKernel(name: "spatial_gate", phases: phases)))
    }
}
