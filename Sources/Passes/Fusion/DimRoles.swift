import GraphIR

/// What a dim of a tensor means inside an attention: which batch dim of the scores, the query
/// position, the key position, a feature, or a size-1 dim that means nothing.
enum DimRole: Hashable, CustomStringConvertible {
    case batch(Int)
    case query
    case key
    case feature
    case unit

    var description: String {
        switch self {
        case .batch(let i): return "batch\(i)"
        case .query: return "query"
        case .key: return "key"
        case .feature: return "feature"
        case .unit: return "unit"
        }
    }
}

/// A value with a role for each of its dims.
struct RoledValue {
    var value: ValueID
    var roles: [DimRole]
}

extension GraphRebuilder {
    /// `value` rearranged to `[batch0…batchN-1] + trailing` (e.g. `[…, .query, .feature]`): dims
    /// with those roles in that order, size 1 where the value has no such dim, unit dims dropped.
    /// Adds a transpose and a reshape only where needed.
    mutating func canonical(_ v: RoledValue, batchCount: Int, trailing: [DimRole]) -> ValueID {
        let type = self.type(v.value)
        let shape = type.shape
        let slots: [DimRole] = (0..<batchCount).map { .batch($0) } + trailing
        var order: [Int] = []
        var canonicalShape: [Dim] = []
        for slot in slots {
            if let d = v.roles.firstIndex(of: slot) {
                order.append(d)
                canonicalShape.append(shape[d])
            } else {
                canonicalShape.append(1)
            }
        }
        let rest = v.roles.indices.filter { !order.contains($0) }
        var current = v.value
        let permutation = order + rest
        if movesData(permutation, shape) {
            let permuted = permutation.map { shape[$0] }
            current = add(.transpose(permutation: permutation), [current], types: [TensorType(type.elementType, permuted)])[0]
        }
        if self.type(current).shape != canonicalShape {
            current = add(.reshape(shape: canonicalShape), [current], types: [TensorType(type.elementType, canonicalShape)])[0]
        }
        return current
    }

    /// The inverse of `canonical`: a `[batch…] + trailing` value rearranged to a target value's
    /// dims (`roles`, `shape`), the final value named `name`.
    mutating func fromCanonical(_ value: ValueID, batchCount: Int, trailing: [DimRole], to roles: [DimRole], shape: [Dim],
                                name: String?) -> ValueID {
        let type = self.type(value)
        let slots: [DimRole] = (0..<batchCount).map { .batch($0) } + trailing
        // Keep the canonical dims the target has, in the target's order; then reshape to it.
        let present = roles.filter { $0 != .unit && slots.contains($0) }
        var current = value
        let kept = slots.indices.filter { present.contains(slots[$0]) }
        let keptShape = kept.map { type.shape[$0] }
        let keptRoles = kept.map { slots[$0] }
        let permutation = present.map { keptRoles.firstIndex(of: $0)! }
        if movesData(permutation, keptShape) {
            // Without a transpose the final reshape alone drops and adds the size-1 dims.
            if keptShape != type.shape {
                current = add(.reshape(shape: keptShape), [current], types: [TensorType(type.elementType, keptShape)])[0]
            }
            let permuted = permutation.map { keptShape[$0] }
            current = add(.transpose(permutation: permutation), [current], types: [TensorType(type.elementType, permuted)])[0]
        }
        if self.type(current).shape != shape {
            current = add(.reshape(shape: shape), [current], types: [TensorType(type.elementType, shape)])[0]
        }
        if let name { rename(current, to: name) }
        return current
    }
}

/// Whether transposing a value of `shape` by `permutation` moves any data: it does not when only
/// size-1 dims change places, and then the reshape that follows does the whole job. (Without
/// this, a batch of 1 got a transpose of every operand, `[1,H,S,D]` → `[H,S,D,1]`, and back.)
private func movesData(_ permutation: [Int], _ shape: [Dim]) -> Bool {
    let sized = permutation.filter { shape[$0] != 1 }
    return sized != sized.sorted()
}
