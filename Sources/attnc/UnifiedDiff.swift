/// A unified diff of two texts by lines (Myers' algorithm through an LCS table; IR dumps are
/// small), with `context` unchanged lines around each change.
func unifiedDiff(_ old: String, _ new: String, oldName: String, newName: String, context: Int = 2) -> String {
    let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // lcs[i][j]: length of the longest common subsequence of a[i...] and b[j...].
    var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
        for j in stride(from: b.count - 1, through: 0, by: -1) {
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
        }
    }
    enum Line { case same(String), removed(String), added(String) }
    var lines: [Line] = []
    var (i, j) = (0, 0)
    while i < a.count || j < b.count {
        if i < a.count && j < b.count && a[i] == b[j] {
            lines.append(.same(a[i])); i += 1; j += 1
        } else if j < b.count && (i == a.count || lcs[i][j + 1] >= lcs[i + 1][j]) {
            lines.append(.added(b[j])); j += 1
        } else {
            lines.append(.removed(a[i])); i += 1
        }
    }
    var out = ["--- \(oldName)", "+++ \(newName)"]
    var k = 0
    var oldLine = 1, newLine = 1
    while k < lines.count {
        guard case .same = lines[k] else {
            // A hunk: from `context` lines before this change to `context` lines after the last
            // change that is at most 2·context unchanged lines further on.
            var start = k
            var (hunkOld, hunkNew) = (oldLine, newLine)
            while start > 0, k - start < context, case .same = lines[start - 1] {
                start -= 1; hunkOld -= 1; hunkNew -= 1
            }
            var end = k
            var quiet = 0
            while end < lines.count {
                if case .same = lines[end] { quiet += 1 } else { quiet = 0 }
                if quiet > 2 * context { break }
                end += 1
            }
            end = min(lines.count, end - max(0, quiet - context))
            var body: [String] = []
            var (oldCount, newCount) = (0, 0)
            for line in lines[start..<end] {
                switch line {
                case .same(let text): body.append(" " + text); oldCount += 1; newCount += 1
                case .removed(let text): body.append("-" + text); oldCount += 1
                case .added(let text): body.append("+" + text); newCount += 1
                }
            }
            out.append("@@ -\(hunkOld),\(oldCount) +\(hunkNew),\(newCount) @@")
            out += body
            for line in lines[k..<end] {
                switch line {
                case .same: oldLine += 1; newLine += 1
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            k = end
            continue
        }
        oldLine += 1; newLine += 1; k += 1
    }
    return out.joined(separator: "\n") + "\n"
}
