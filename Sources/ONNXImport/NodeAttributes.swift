import Foundation
import GraphIR

/// A node's attributes, read by name and kind. Records which ones a converter read so that an
/// attribute it does not understand is reported rather than silently ignored.
final class NodeAttributes {
    private let attributes: [Onnx_AttributeProto]
    private(set) var used: Set<String> = []

    init(_ attributes: [Onnx_AttributeProto]) { self.attributes = attributes }

    var names: [String] { attributes.map(\.name) }

    func has(_ name: String) -> Bool { attributes.contains { $0.name == name } }

    /// Forgets which attributes were read (a converter starts afresh after the folder declined).
    func resetUse() { used = [] }

    /// The attributes present that no one read.
    var unread: [String] { attributes.map(\.name).filter { !used.contains($0) } }

    private func take(_ name: String) -> Onnx_AttributeProto? {
        used.insert(name)
        return attributes.first { $0.name == name }
    }

    private func kindError(_ a: Onnx_AttributeProto, _ expected: String) -> ImportProblem {
        ImportProblem("attribute '\(a.name)' must be \(expected), got \(kindName(a))")
    }

    private func kindName(_ a: Onnx_AttributeProto) -> String {
        a.hasType ? "an attribute of type \(a.type)" : "an attribute with no type"
    }

    func int(_ name: String) throws(ImportProblem) -> Int? {
        guard let a = take(name) else { return nil }
        guard a.type == .int || (!a.hasType && a.hasI) else { throw kindError(a, "an integer") }
        return Int(clamping: a.i)
    }

    func int(_ name: String, default value: Int) throws(ImportProblem) -> Int { try int(name) ?? value }

    func float(_ name: String) throws(ImportProblem) -> Double? {
        guard let a = take(name) else { return nil }
        guard a.type == .float || (!a.hasType && a.hasF) else { throw kindError(a, "a float") }
        return shortestDouble(a.f)
    }

    func float(_ name: String, default value: Double) throws(ImportProblem) -> Double { try float(name) ?? value }

    func ints(_ name: String) throws(ImportProblem) -> [Int]? {
        guard let a = take(name) else { return nil }
        guard a.type == .ints || (!a.hasType && !a.ints.isEmpty) else { throw kindError(a, "a list of integers") }
        return a.ints.map { Int(clamping: $0) }
    }

    /// An integer list whose values all lie in `range`, or an error naming the attribute: bounds
    /// what the converter's size arithmetic may meet, so that it cannot overflow.
    func ints(_ name: String, in range: ClosedRange<Int>) throws(ImportProblem) -> [Int]? {
        guard let values = try ints(name) else { return nil }
        guard values.allSatisfy(range.contains) else {
            throw ImportProblem("attribute '\(name)' is \(values); its values must lie between \(range.lowerBound) and \(range.upperBound)")
        }
        return values
    }

    func floats(_ name: String) throws(ImportProblem) -> [Double]? {
        guard let a = take(name) else { return nil }
        guard a.type == .floats || (!a.hasType && !a.floats.isEmpty) else { throw kindError(a, "a list of floats") }
        return a.floats.map(shortestDouble)
    }

    func string(_ name: String) throws(ImportProblem) -> String? {
        guard let a = take(name) else { return nil }
        guard a.type == .string || (!a.hasType && a.hasS) else { throw kindError(a, "a string") }
        guard let text = String(data: a.s, encoding: .utf8) else { throw ImportProblem("attribute '\(name)' is not UTF-8 text") }
        return text
    }

    /// A string attribute that must be one of `allowed`.
    func word(_ name: String, default value: String, allowed: [String]) throws(ImportProblem) -> String {
        guard let text = try string(name) else { return value }
        guard allowed.contains(text) else {
            throw ImportProblem("attribute \(name)='\(text)' is not supported; attnc supports \(allowed.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return text
    }

    func tensor(_ name: String) throws(ImportProblem) -> Onnx_TensorProto? {
        guard let a = take(name) else { return nil }
        guard a.type == .tensor || (!a.hasType && a.hasT) else { throw kindError(a, "a tensor") }
        return a.t
    }

    /// Marks an attribute as read without reading it (one that has no effect at inference).
    func ignore(_ name: String) { used.insert(name) }
}

/// The double with the shortest decimal form that rounds to the same float: an attribute written
/// as `1e-5` in the exporter reads back as 1e-05, not 9.999999747378752e-06.
func shortestDouble(_ x: Float) -> Double {
    x.isFinite ? Double(x.description) ?? Double(x) : Double(x)
}
