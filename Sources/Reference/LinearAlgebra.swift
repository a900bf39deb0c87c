import GraphIR

/// Batched `op(a) · op(b)` over the last two dims, batch dims broadcast, accumulated in double.
func matmul(_ a: ReferenceTensor, _ b: ReferenceTensor, transposeA: Bool, transposeB: Bool, _ type: TensorType) -> ReferenceTensor {
    let shape = type.staticShape!
    let batchShape = Array(shape.dropLast(2))
    let (m, n) = (shape[shape.count - 2], shape[shape.count - 1])
    let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
    let aBatch = broadcastStrides(Array(a.shape.dropLast(2)), to: batchShape)
    let bBatch = broadcastStrides(Array(b.shape.dropLast(2)), to: batchShape)
    let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    forEachIndex(batchShape) { batch in
        let aBase = zip(batch, aBatch).reduce(0) { $0 + $1.0 * $1.1 } * aRows * aCols
        let bBase = zip(batch, bBatch).reduce(0) { $0 + $1.0 * $1.1 } * bRows * bCols
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = a.data[aBase + (transposeA ? p * aCols + i : i * aCols + p)]
                    let bv = b.data[bBase + (transposeB ? j * bCols + p : p * bCols + j)]
                    sum += av * bv
                }
                out.append(sum)
            }
        }
    }
    return ReferenceTensor(type.elementType, shape, out)
}

/// `x · weightᵀ + bias` over the last dim.
func linear(_ x: ReferenceTensor, _ weight: ReferenceTensor, _ bias: ReferenceTensor?, _ type: TensorType) -> ReferenceTensor {
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    // From the result's shape: with no input features x holds no values, yet every row is the bias.
    let rows = type.staticShape!.dropLast().reduce(1, *)
    var out: [Double] = []
    out.reserveCapacity(rows * outFeatures)
    for r in 0..<rows {
        for o in 0..<outFeatures {
            var sum = bias?.data[o] ?? 0
            for i in 0..<inFeatures { sum += x.data[r * inFeatures + i] * weight.data[o * inFeatures + i] }
            out.append(sum)
        }
    }
    return ReferenceTensor(type.elementType, type.staticShape!, out)
}

/// Direct NCHW convolution (cross-correlation, as PyTorch) with zero padding.
func conv2d(_ x: ReferenceTensor, _ w: ReferenceTensor, _ bias: ReferenceTensor?, _ a: Conv2DAttributes, _ type: TensorType) -> ReferenceTensor {
    let shape = type.staticShape!
    let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (outChannels, outHeight, outWidth) = (shape[1], shape[2], shape[3])
    let (perGroupIn, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let perGroupOut = outChannels / a.groups
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    for n in 0..<batch {
        for o in 0..<outChannels {
            let group = o / perGroupOut
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    var sum = bias?.data[o] ?? 0
                    for ci in 0..<perGroupIn {
                        let c = group * perGroupIn + ci
                        for ky in 0..<kh {
                            let y = oy * a.stride[0] - a.padding.top + ky * a.dilation[0]
                            guard y >= 0 && y < height else { continue }
                            for kx in 0..<kw {
                                let xx = ox * a.stride[1] - a.padding.left + kx * a.dilation[1]
                                guard xx >= 0 && xx < width else { continue }
                                sum += x.data[((n * inChannels + c) * height + y) * width + xx]
                                    * w.data[((o * perGroupIn + ci) * kh + ky) * kw + kx]
                            }
                        }
                    }
                    out.append(sum)
                }
            }
        }
    }
    return ReferenceTensor(type.elementType, shape, out)
}

/// Max or average pooling over NCHW windows. Max ignores padding; average divides by the window
/// size including padding when `countIncludePad` (PyTorch's default) and by the valid count
/// otherwise. Windows that hang past the padded input (ceil mode) never count the overhang.
func pool2d(_ x: ReferenceTensor, _ kind: PoolKind, _ a: Pool2DAttributes, _ type: TensorType) -> ReferenceTensor {
    let shape = type.staticShape!
    let (height, width) = (x.shape[2], x.shape[3])
    var out: [Double] = []
    out.reserveCapacity(shape.reduce(1, *))
    for plane in 0..<(shape[0] * shape[1]) {
        for oy in 0..<shape[2] {
            for ox in 0..<shape[3] {
                var best = -Double.infinity, sum = 0.0, valid = 0, padded = 0
                var sawNaN = false
                for ky in 0..<a.kernel[0] {
                    let y = oy * a.stride[0] - a.padding.top + ky * a.dilation[0]
                    for kx in 0..<a.kernel[1] {
                        let xx = ox * a.stride[1] - a.padding.left + kx * a.dilation[1]
                        guard y < height + a.padding.bottom && xx < width + a.padding.right else { continue }
                        padded += 1
                        guard y >= 0 && y < height && xx >= 0 && xx < width else { continue }
                        let v = x.data[(plane * height + y) * width + xx]
                        sawNaN = sawNaN || v.isNaN
                        best = max(best, v)
                        sum += v
                        valid += 1
                    }
                }
                switch kind {
                case .max: out.append(sawNaN ? .nan : best)
                case .average: out.append(sum / Double(a.countIncludePad ? padded : max(valid, 1)))
                }
            }
        }
    }
    return ReferenceTensor(type.elementType, shape, out)
}

/// Transposed convolution: every input pixel scatters `value · weight` into the output window
/// it maps to; the full output is then trimmed by `padding` (and extended by `outputPadding`).
func convTranspose2d(_ x: ReferenceTensor, _ w: ReferenceTensor, _ bias: ReferenceTensor?, _ a: ConvTranspose2DAttributes,
                     _ type: TensorType) -> ReferenceTensor {
    let shape = type.staticShape!
    let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (outChannels, outHeight, outWidth) = (shape[1], shape[2], shape[3])
    let (outPerGroup, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let inPerGroup = inChannels / a.groups
    var out = [Double](repeating: 0, count: shape.reduce(1, *))
    for n in 0..<batch {
        for c in 0..<inChannels {
            let group = c / inPerGroup
            for iy in 0..<height {
                for ix in 0..<width {
                    let value = x.data[((n * inChannels + c) * height + iy) * width + ix]
                    for co in 0..<outPerGroup {
                        let o = group * outPerGroup + co
                        for ky in 0..<kh {
                            let oy = iy * a.stride[0] - a.padding.top + ky * a.dilation[0]
                            guard oy >= 0 && oy < outHeight else { continue }
                            for kx in 0..<kw {
                                let ox = ix * a.stride[1] - a.padding.left + kx * a.dilation[1]
                                guard ox >= 0 && ox < outWidth else { continue }
                                out[((n * outChannels + o) * outHeight + oy) * outWidth + ox] += value * w.data[((c * outPerGroup + co) * kh + ky) * kw + kx]
                            }
                        }
                    }
                }
            }
        }
    }
    if let bias {
        let plane = outHeight * outWidth
        for i in out.indices { out[i] += bias.data[(i / plane) % outChannels] }
    }
    return ReferenceTensor(type.elementType, shape, out)
}
