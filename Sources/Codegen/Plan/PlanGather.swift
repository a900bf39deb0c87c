import GraphIR

/// `gather(data, indices, axis)` as one copy kernel.
///
/// Data is viewed as `[outer, axis, inner]` (dims before the axis, the axis, dims after it) and
/// the result as `[outer, indices, inner]`: every (outer, index) pair copies one contiguous run of
/// `inner` elements, so the kernel is a loop over runs whose body is a vector copy.
///
/// ```
/// %y = gather(%table, %ids, axis=0) : f32[4,7,64]     // table f32[1000,64], ids i64[4,7]
///   -> gather b0[outer 1, axis 1000, inner 64] at b1 (i64 x 28) -> b2
/// ```
public struct GatherKernel: Sendable {
    public var outer: Int, axisSize: Int, inner: Int
    /// How many indices there are (1 for a scalar index).
    public var indexCount: Int
    public var elementType: ElementType
    public var indexType: ElementType
    /// Contiguous `[outer, axisSize, inner]`.
    public var data: BufferID
    /// Contiguous, `indexCount` integers.
    public var indices: BufferID
    /// Contiguous `[outer, indexCount, inner]`.
    public var output: BufferID
}

extension KernelPlanner {
    /// Gather reads its operands from their own row-major buffers: neither is ever a folded view
    /// (`readsStrided` does not list gather), so `buffer(of:)` is the whole story.
    mutating func lowerGather(_ node: Node, axis: Int) {
        let (data, indices) = (node.operands[0], node.operands[1])
        let shape = graph.type(of: data).staticShape!
        let a = axis < 0 ? axis + shape.count : axis
        plan.kernels.append(.gather(GatherKernel(
            outer: shape[..<a].reduce(1, *), axisSize: shape[a], inner: shape[(a + 1)...].reduce(1, *),
            indexCount: graph.type(of: indices).elementCount!,
            elementType: graph.type(of: data).elementType, indexType: graph.type(of: indices).elementType,
            data: buffer(of: data), indices: buffer(of: indices), output: buffer(of: node.results[0]))))
    }
}
