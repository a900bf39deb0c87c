import CLLVM
import GraphIR

/// Emits a gather: a task is one (outer, index) pair, and copies the run of `inner` elements its
/// index picks as whole vectors plus one masked tail (a single scalar when one element is left).
/// The index is loaded, wrapped (a negative index counts from the end) and checked once per run.
///
/// An index still outside the axis after wrapping writes a run of zeros: the interpreter defines
/// it so (ONNX leaves it undefined), and the compiled code matches it instead of reading out of
/// bounds.
///
/// The copy only moves bits, so it works for every element type; a vector is as wide as the
/// target's f32 register (`lanes · 4` bytes: 8 f32 or 4 i64 on AVX2, twice that on AVX-512).
struct GatherEmitter {
    let kernel: GatherKernel
    let lanes: Int

    var taskCount: Int { kernel.outer * kernel.indexCount }

    func emit(_ e: EmitContext, begin: IRValue, end: IRValue) throws {
        let b = e.builder, c = e.context
        let k = kernel
        let data = e.pointer(to: k.data), indices = e.pointer(to: k.indices), output = e.pointer(to: k.output)
        let indexType = try e.memoryType(k.indexType)
        try b.forLoop(begin, end) { run, _ in
            let outer = b.sdiv(run, e.i64(k.indexCount))
            let raw = b.load(indexType, b.elementPointer(indexType, indices, b.srem(run, e.i64(k.indexCount))),
                             alignment: k.indexType.byteWidth)
            let wide = k.indexType == .u8 ? b.zeroExtend(raw, c.i64) : b.resizeInteger(raw, c.i64)
            let index = b.select(b.icmp(LLVMIntSLT, wide, e.i64(0)), b.add(wide, e.i64(k.axisSize)), wide)
            // Unsigned, one compare rejects an index still negative after wrapping and one past the end.
            let inside = b.icmp(LLVMIntULT, index, e.i64(k.axisSize))
            let source = b.mul(b.add(b.mul(outer, e.i64(k.axisSize)), index), e.i64(k.inner))
            let destination = b.mul(run, e.i64(k.inner))
            let copy = b.block("copy"), zeros = b.block("zeros"), next = b.block("next")
            b.branch(if: inside, then: copy, else: zeros)
            b.position(at: copy)
            try writeRun(e, from: (data, source), to: output, at: destination)
            b.branch(to: next)
            b.position(at: zeros)
            try writeRun(e, from: nil, to: output, at: destination)
            b.branch(to: next)
            b.position(at: next)
            return []
        }
    }

    /// Writes `inner` elements at `output[destination...]`: copied from `source`, or zeros.
    private func writeRun(_ e: EmitContext, from source: (pointer: IRValue, offset: IRValue)?, to output: IRValue,
                          at destination: IRValue) throws {
        let b = e.builder
        let memory = try e.memoryType(kernel.elementType)
        let alignment = kernel.elementType.byteWidth
        let width = max(1, lanes * 4 / alignment)
        let whole = kernel.inner / width * width
        func value(_ type: IRType, at: IRValue, mask: IRValue? = nil) -> IRValue {
            guard let source else { return e.context.null(type) }
            let pointer = b.elementPointer(memory, source.pointer, b.add(source.offset, at))
            if let mask { return maskedLoad(b, pointer, mask, type, alignment: alignment) }
            return b.load(type, pointer, alignment: alignment)
        }
        func target(_ at: IRValue) -> IRValue { b.elementPointer(memory, output, b.add(destination, at)) }
        if whole > 0 {
            b.forLoop(e.i64(0), e.i64(whole), step: width) { at, _ in
                b.store(value(memory.vector(width), at: at), target(at), alignment: alignment)
                return []
            }
        }
        let tail = kernel.inner - whole
        if tail == 1 {
            b.store(value(memory, at: e.i64(whole)), target(e.i64(whole)), alignment: alignment)
        } else if tail > 1 {
            let mask = leadingLanes(e.context, tail, of: width)
            maskedStore(b, value(memory.vector(width), at: e.i64(whole), mask: mask), target(e.i64(whole)), mask, alignment: alignment)
        }
    }
}
