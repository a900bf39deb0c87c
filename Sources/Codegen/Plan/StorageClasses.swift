import GraphIR

/// Groups values that share memory: a view op (reshape, squeeze, unsqueeze, identity) keeps its
/// operand's row-major layout, so its result is the same bytes under another shape.
struct StorageClasses {
    private var parent: [Int]

    init(_ graph: Graph) {
        parent = Array(graph.values.indices)
        for node in graph.nodes where StorageClasses.isView(node.op) {
            union(node.results[0], node.operands[0])
        }
    }

    static func isView(_ op: Op) -> Bool {
        switch op {
        case .reshape, .squeeze, .unsqueeze, .unary(.identity): return true
        default: return false
        }
    }

    mutating func root(_ id: ValueID) -> Int {
        var i = id.index
        while parent[i] != i {
            parent[i] = parent[parent[i]]
            i = parent[i]
        }
        return i
    }

    private mutating func union(_ a: ValueID, _ b: ValueID) {
        let (ra, rb) = (root(a), root(b))
        if ra != rb { parent[ra] = rb }
    }
}

/// The arena planner: gives every arena buffer a byte offset so that buffers whose lifetimes
/// overlap never share bytes, and ones that do not may. Greedy by size (largest first, lowest
/// offset that fits), as TFLite's arena planner does.
///
/// `lifetimes[i]` is the closed range of kernel indices during which buffer `i` is live.
func planArena(sizes: [Int], lifetimes: [ClosedRange<Int>], alignment: Int = 64) -> (offsets: [Int], total: Int) {
    precondition(sizes.count == lifetimes.count)
    func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
    var offsets = Array(repeating: 0, count: sizes.count)
    var placed: [Int] = []
    var total = 0
    let order = sizes.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
    for i in order {
        let size = aligned(max(sizes[i], 1))
        // Regions already taken by buffers alive at the same time, by offset.
        let conflicts = placed.filter { lifetimes[$0].overlaps(lifetimes[i]) }
            .map { (offsets[$0], offsets[$0] + aligned(max(sizes[$0], 1))) }.sorted { $0.0 < $1.0 }
        var candidate = 0
        for (start, end) in conflicts {
            if candidate + size <= start { break }
            candidate = max(candidate, end)
        }
        offsets[i] = candidate
        total = max(total, candidate + size)
        placed.append(i)
    }
    return (offsets, total)
}
