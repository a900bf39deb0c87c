extension Graph {
    /// The graph with its symbolic dims replaced by the given sizes: what the interpreter and
    /// code generator run. Throws when a symbol is left unbound.
    public func specialized(_ symbols: [String: Int]) throws(Diagnostic) -> Graph {
        func bind(_ dims: [Dim]) throws(Diagnostic) -> [Dim] {
            var result: [Dim] = []
            for dim in dims {
                guard case .symbol(let s) = dim else { result.append(dim); continue }
                guard let n = symbols[s] else { throw Diagnostic(.error, "symbolic dim \(s) is not bound") }
                result.append(.known(n))
            }
            return result
        }
        var graph = self
        for i in graph.values.indices {
            graph.values[i].type.shape = try bind(graph.values[i].type.shape)
        }
        for i in graph.nodes.indices {
            switch graph.nodes[i].op {
            case .reshape(let shape): graph.nodes[i].op = .reshape(shape: try bind(shape))
            case .broadcast(let shape): graph.nodes[i].op = .broadcast(shape: try bind(shape))
            default: break
            }
        }
        return graph
    }

    /// Every symbol the graph's types mention, in order of first appearance.
    public var symbols: [String] {
        var seen: [String] = []
        for value in values {
            for s in value.type.symbols where !seen.contains(s) { seen.append(s) }
        }
        return seen
    }
}
