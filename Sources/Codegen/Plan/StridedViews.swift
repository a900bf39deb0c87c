import GraphIR

/// Transposes (and reshapes of them) that need no copy: when every reader of such a value reads
/// through arbitrary strides — matmul and attention operands (the packing reads them), elementwise
/// expressions, other folded views — the value is never materialised; its readers address the
/// source buffer with permuted strides. And when an attention result's only reader is a
/// transpose, the attention writes straight into the transpose's buffer.
extension KernelPlanner {
    /// Decides which views are folded and which attention results are written transposed.
    mutating func findFoldedViews() {
        let users = graph.users()
        let outputs = Set(graph.outputs)
        // Readers come after producers: walking backwards, a view's readers are already decided.
        for node in graph.nodes.reversed() {
            guard let id = node.results.first, !outputs.contains(id) else { continue }
            switch node.op {
            case .transpose, .reshape:
                break
            default:
                continue
            }
            // Plain reshapes of materialised values already share their buffer.
            if case .reshape = node.op, !foldedViews.contains(node.operands[0]) && !isFoldableTranspose(node.operands[0]) { continue }
            let readers = users[id.index]
            guard !readers.isEmpty, readers.allSatisfy({ readsStrided(graph[$0], id) }) else { continue }
            foldedViews.insert(id)
        }
        // A reshape of a folded transpose may mix dims that are no longer contiguous: then both
        // are materialised (the reshape becomes a plain alias of the copied transpose).
        var strides: [ValueID: [Int]] = [:]
        for node in graph.nodes {
            guard let id = node.results.first, foldedViews.contains(id) else { continue }
            let source = node.operands[0]
            let sourceShape = graph.type(of: source).staticShape!
            let sourceStrides = strides[source] ?? rowMajorStrides(sourceShape)
            switch node.op {
            case .transpose(let p):
                strides[id] = p.map { sourceStrides[$0] }
            default:
                if let reshaped = reshapedStrides(sourceStrides, from: sourceShape, to: graph.type(of: id).staticShape!) {
                    strides[id] = reshaped
                } else {
                    foldedViews.remove(id)
                    foldedViews.remove(source)
                }
            }
        }
        // An attention whose result is only transposed writes in the transposed layout.
        for node in graph.nodes {
            guard case .attention = node.op, let result = node.results.first, !outputs.contains(result) else { continue }
            let readers = users[result.index]
            guard readers.count == 1, case .transpose(let p) = graph[readers[0]].op, !foldedViews.contains(graph[readers[0]].results[0]) else { continue }
            let target = graph[readers[0]].results[0]
            let targetStrides = rowMajorStrides(graph.type(of: target).staticShape!)
            var strides = Array(repeating: 0, count: p.count)
            // Result dim p[d] is the transpose's dim d.
            for d in p.indices { strides[p[d]] = targetStrides[d] }
            writtenTransposed[result] = (target, strides)
        }
    }

    private func isFoldableTranspose(_ id: ValueID) -> Bool {
        guard let node = graph.producer(of: id), case .transpose = node.op else { return false }
        return true
    }

    /// Whether `node` can read `value` through any strides.
    private func readsStrided(_ node: Node, _ value: ValueID) -> Bool {
        switch node.op {
        case .matmul: return true
        case .attention: return true
        case .transpose, .reshape: return foldedViews.contains(node.results[0])
        default: return KernelPlanner.foldsOperands(node.op)
        }
    }

    /// How to read `id` element by element: its own buffer row-major, or, for a folded view, its
    /// source's buffer through derived strides.
    mutating func access(of id: ValueID) -> Access {
        let shape = graph.type(of: id).staticShape!
        guard foldedViews.contains(id), let node = graph.producer(of: id) else {
            if let (target, strides) = writtenTransposed[id] {
                return Access(buffer: buffer(of: target), offset: 0, strides: strides)
            }
            return Access(buffer: buffer(of: id), offset: 0, strides: rowMajorStrides(shape))
        }
        var source = access(of: node.operands[0])
        switch node.op {
        case .transpose(let p):
            source.strides = p.map { source.strides[$0] }
        case .reshape:
            source.strides = reshapedStrides(source.strides, from: graph.type(of: node.operands[0]).staticShape!, to: shape)!
        default:
            preconditionFailure("only transposes and reshapes are folded")
        }
        return source
    }
}

/// Strides that read a strided tensor of shape `from` as shape `to` without copying, or nil
/// when the reshape mixes dims that are not laid out contiguously (numpy's no-copy reshape).
func reshapedStrides(_ strides: [Int], from: [Int], to: [Int]) -> [Int]? {
    // Size-1 dims carry no layout: drop them, then match groups of equal element count.
    let source = zip(from, strides).filter { $0.0 != 1 }
    var result = Array(repeating: 0, count: to.count)
    let targets = to.indices.filter { to[$0] != 1 }
    var (i, j) = (0, 0)
    while i < source.count && j < targets.count {
        // Grow a group on each side until the element counts agree.
        var (iEnd, jEnd) = (i + 1, j + 1)
        var (sourceCount, targetCount) = (source[i].0, to[targets[j]])
        while sourceCount != targetCount {
            if sourceCount < targetCount {
                guard iEnd < source.count else { return nil }
                sourceCount *= source[iEnd].0
                iEnd += 1
            } else {
                guard jEnd < targets.count else { return nil }
                targetCount *= to[targets[jEnd]]
                jEnd += 1
            }
        }
        // The source group must be contiguous relative to its last dim.
        for k in i..<(iEnd - 1) where source[k].1 != source[k + 1].1 * source[k + 1].0 { return nil }
        var running = source[iEnd - 1].1
        for k in stride(from: jEnd - 1, through: j, by: -1) {
            result[targets[k]] = running
            running *= to[targets[k]]
        }
        (i, j) = (iEnd, jEnd)
    }
    return i == source.count && j == targets.count ? result : nil
}
