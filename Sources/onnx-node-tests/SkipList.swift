import Foundation

/// The cases expected not to pass, each with its reason: one `PATTERN  # reason` per line, where
/// PATTERN is a case name or a glob with `*`. Blank lines and lines starting with `#` are comments.
struct SkipList {
    struct Entry {
        let pattern: String
        let reason: String
        let line: Int
    }

    let entries: [Entry]

    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RunnerError("cannot read the skip file \(path)")
        }
        var entries: [Entry] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let hash = line.firstIndex(of: "#") else {
                throw RunnerError("\(path):\(i + 1): '\(line)' has no reason; write 'PATTERN  # reason'")
            }
            let pattern = line[..<hash].trimmingCharacters(in: .whitespaces)
            let reason = line[line.index(after: hash)...].trimmingCharacters(in: .whitespaces)
            guard !pattern.isEmpty, !reason.isEmpty, !pattern.contains(" ") else {
                throw RunnerError("\(path):\(i + 1): expected 'PATTERN  # reason', got '\(line)'")
            }
            entries.append(Entry(pattern: pattern, reason: reason, line: i + 1))
        }
        self.entries = entries
    }

    init() { entries = [] }

    /// The first entry whose pattern matches `name`.
    func entry(for name: String) -> Entry? { entries.first { globMatches($0.pattern, name) } }
}

/// `*` matches any run of characters; everything else matches itself.
func globMatches(_ pattern: String, _ name: String) -> Bool {
    let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
    guard parts.count > 1 else { return pattern == name }
    guard name.hasPrefix(parts[0]) else { return false }
    var rest = name.dropFirst(parts[0].count)
    for part in parts.dropFirst().dropLast() {
        guard let range = rest.range(of: part) else { return false }
        rest = rest[range.upperBound...]
    }
    let last = parts.last!
    return rest.count >= last.count && rest.hasSuffix(last)
}

struct RunnerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
