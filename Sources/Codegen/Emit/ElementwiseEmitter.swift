import CLLVM
import GraphIR

/// Emits an elementwise kernel: `output[p] = expression(p)` over an iteration space.
///
/// The space is first simplified (size-1 dims dropped, dims merged where every access is
/// contiguous across them), then split into rows (all dims but the last) and column tiles. A task
/// is one tile of one row; its columns run `lanes` at a time as vectors, then a scalar tail.
/// Along the innermost dim a stride-1 access is a vector load, stride 0 a broadcast, anything
/// else a gather of scalar loads.
struct ElementwiseEmitter {
    let kernel: ElementwiseKernel
    let lanes: Int
    /// Columns per task, a multiple of `lanes`, so tasks are big enough to amortise the call.
    let tileColumns: Int

    init(_ kernel: ElementwiseKernel, lanes: Int) {
        self.kernel = ElementwiseEmitter.simplified(kernel)
        self.lanes = lanes
        let columns = self.kernel.shape.last!
        tileColumns = columns <= 16384 ? columns : 8192
    }

    private var rows: Int { kernel.shape.dropLast().reduce(1, *) }
    private var columns: Int { kernel.shape.last! }
    private var tilesPerRow: Int { columns == 0 ? 0 : (columns + tileColumns - 1) / tileColumns }

    var taskCount: Int { rows * tilesPerRow }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder
        let accesses = uniqueAccesses()
        let outerDims = kernel.shape.count - 1
        try b.forLoop(begin, end) { task, _ in
            let row = b.sdiv(task, e.i64(tilesPerRow))
            let tile = b.srem(task, e.i64(tilesPerRow))
            // The row's multi-index over the outer dims.
            var remainder = row
            var outerIndex = Array(repeating: e.i64(0), count: outerDims)
            for d in (0..<outerDims).reversed() {
                outerIndex[d] = b.srem(remainder, e.i64(kernel.shape[d]))
                remainder = b.sdiv(remainder, e.i64(kernel.shape[d]))
            }
            var bases: [IRValue] = []
            var pointers: [IRValue] = []
            for access in accesses {
                var offset = e.i64(access.offset)
                for d in 0..<outerDims where access.strides[d] != 0 {
                    offset = b.add(offset, b.mul(outerIndex[d], e.i64(access.strides[d])))
                }
                bases.append(offset)
                pointers.append(e.pointer(to: access.buffer))
            }
            let start = b.mul(tile, e.i64(tileColumns))
            let stop = e.minimum(b.add(start, e.i64(tileColumns)), e.i64(columns))
            let vectorStop = b.sub(stop, b.srem(b.sub(stop, start), e.i64(lanes)))
            if lanes <= columns {
                try b.forLoop(start, vectorStop, step: lanes) { column, _ in
                    try emitPoints(e, column: column, width: lanes, accesses: accesses, bases: bases, pointers: pointers, outerIndex: outerIndex)
                    return []
                }
            }
            if hasMaskedTail {
                // The last columns (fewer than a vector) as one vector with the lanes past the end off.
                let remaining = b.sub(stop, vectorStop)
                try b.ifThen(b.icmp(LLVMIntSGT, remaining, e.i64(0))) {
                    try emitPoints(e, column: vectorStop, width: lanes, accesses: accesses, bases: bases, pointers: pointers,
                                   outerIndex: outerIndex, remaining: remaining)
                }
            } else {
                try b.forLoop(vectorStop, stop) { column, _ in
                    try emitPoints(e, column: column, width: 1, accesses: accesses, bases: bases, pointers: pointers, outerIndex: outerIndex)
                    return []
                }
            }
            return []
        }
    }

    /// Whether the columns after the last whole vector run as one masked vector (f32 in and out:
    /// other element types have storage layouts the masked intrinsics do not cover) rather than
    /// one at a time. Rows of 28 floats on 16 lanes were a vector and twelve scalar steps.
    private var hasMaskedTail: Bool {
        guard kernel.outputType == .f32 else { return false }
        func allLoadsAreF32(_ x: ScalarExpression) -> Bool {
            switch x {
            case .load(_, let type): return type == .f32
            case .constant, .index: return true
            case .unary(_, let a), .cast(let a, _): return allLoadsAreF32(a)
            case .binary(_, let a, let c): return allLoadsAreF32(a) && allLoadsAreF32(c)
            case .select(let p, let a, let c): return allLoadsAreF32(p) && allLoadsAreF32(a) && allLoadsAreF32(c)
            }
        }
        return allLoadsAreF32(kernel.expression)
    }

    /// The points `column ..< column + width`; with `remaining`, only the first `remaining` lanes
    /// are read and written (the others read nothing out of bounds and are dropped).
    private func emitPoints(_ e: EmitContext, column: IRValue, width: Int, accesses: [Access], bases: [IRValue],
                            pointers: [IRValue], outerIndex: [IRValue], remaining: IRValue? = nil) throws {
        let b = e.builder
        let inner = kernel.shape.count - 1
        let laneMask = remaining.map { leadingLanes(b, $0, of: width) }
        func position(_ i: Int) -> IRValue { b.add(bases[i], b.mul(column, e.i64(accesses[i].strides[inner]))) }
        let expression = ExpressionEmitter(
            emit: e, lanes: width,
            load: { access, type in
                let i = accesses.firstIndex(of: access)!
                let stride = access.strides[inner]
                if let laneMask, stride == 1 {
                    return maskedLoad(b, b.elementPointer(e.context.f32, pointers[i], position(i)), laneMask, e.context.f32.vector(width))
                }
                if stride == 1 || width == 1 { return try e.load(type, pointers[i], position(i), count: width) }
                if stride == 0 { return b.splat(try e.load(type, pointers[i], bases[i], count: 1), lanes: width) }
                // A strided inner dim: gather lane by lane (lanes past the end read the first point).
                var vector = e.context.undefined(try e.registerType(type).vector(width))
                for lane in 0..<width {
                    var offset = e.i64(lane * stride)
                    if let remaining { offset = b.select(b.icmp(LLVMIntSLT, e.i64(lane), remaining), offset, e.i64(0)) }
                    vector = b.insertElement(vector, try e.load(type, pointers[i], b.add(position(i), offset), count: 1), lane)
                }
                return vector
            },
            index: { dim in
                if dim < inner { return b.splat(outerIndex[dim], lanes: width) }
                guard width > 1 else { return column }
                let steps = e.context.constantVector((0..<width).map { Int32($0) })
                return b.add(b.splat(column, lanes: width), b.signExtend(steps, e.context.i64.vector(width)))
            })
        let value = try expression.evaluate(kernel.expression)
        let outputIndex = accesses.firstIndex(of: kernel.output)!
        if let laneMask, kernel.output.strides[inner] == 1 {
            maskedStore(b, value, b.elementPointer(e.context.f32, pointers[outputIndex], position(outputIndex)), laneMask)
        } else if kernel.output.strides[inner] == 1 || width == 1 {
            try e.store(value, kernel.outputType, pointers[outputIndex], position(outputIndex))
        } else {
            for lane in 0..<width {
                let at = b.add(position(outputIndex), e.i64(lane * kernel.output.strides[inner]))
                let store = { try e.store(b.extractElement(value, lane), kernel.outputType, pointers[outputIndex], at) }
                if let remaining { try b.ifThen(b.icmp(LLVMIntSLT, e.i64(lane), remaining), store) } else { try store() }
            }
        }
    }

    /// The output access first, then every distinct load.
    private func uniqueAccesses() -> [Access] {
        var result = [kernel.output]
        for access in kernel.expression.loads where !result.contains(access) { result.append(access) }
        return result
    }

    /// Drops size-1 dims and merges neighbouring dims that every access walks contiguously.
    static func simplified(_ kernel: ElementwiseKernel) -> ElementwiseKernel {
        var k = kernel
        // Index reads of a size-1 dim are always 0.
        let keep = k.shape.indices.filter { k.shape[$0] != 1 }
        var expression = k.expression.replacingIndices { d, type in k.shape[d] == 1 ? .constant(0, type) : nil }
        var renumber: [Int: Int] = [:]
        for (new, old) in keep.enumerated() { renumber[old] = new }
        expression = expression.mapIndexDims { renumber[$0]! }
        func project(_ a: Access) -> Access { Access(buffer: a.buffer, offset: a.offset, strides: keep.map { a.strides[$0] }) }
        var shape = keep.map { k.shape[$0] }
        var output = project(k.output)
        expression = expression.mapAccesses(project)
        if shape.isEmpty {
            shape = [1]
            output.strides = [1]
            expression = expression.mapAccesses { Access(buffer: $0.buffer, offset: $0.offset, strides: [0]) }
        }
        // Merge dim d into d+1 when no index reads d or d+1 and every access is contiguous across them.
        var d = shape.count - 2
        while d >= 0 {
            let indexed = expression.indexDims
            let all = [output] + expression.loads
            let mergeable = !indexed.contains(d) && !indexed.contains(d + 1)
                && all.allSatisfy { $0.strides[d] == $0.strides[d + 1] * shape[d + 1] }
            if mergeable {
                func merge(_ a: Access) -> Access {
                    var strides = a.strides
                    strides.remove(at: d)
                    return Access(buffer: a.buffer, offset: a.offset, strides: strides)
                }
                shape[d + 1] *= shape[d]
                shape.remove(at: d)
                output = merge(output)
                expression = expression.mapAccesses(merge).mapIndexDims { $0 > d ? $0 - 1 : $0 }
            }
            d -= 1
        }
        k.shape = shape
        k.output = output
        k.expression = expression
        return k
    }
}

extension ScalarExpression {
    /// The expression with `index` nodes replaced where `replacement` returns a value.
    func replacingIndices(_ replacement: (Int, ElementType) -> ScalarExpression?) -> ScalarExpression {
        switch self {
        case .load, .constant: return self
        case .index(let d, let t): return replacement(d, t) ?? self
        case .unary(let f, let x): return .unary(f, x.replacingIndices(replacement))
        case .cast(let x, let t): return .cast(x.replacingIndices(replacement), to: t)
        case .binary(let f, let a, let b): return .binary(f, a.replacingIndices(replacement), b.replacingIndices(replacement))
        case .select(let c, let a, let b):
            return .select(c.replacingIndices(replacement), a.replacingIndices(replacement), b.replacingIndices(replacement))
        }
    }
}
