/// A comment line of a `.gir` test file that states an expectation instead of being IR. Every
/// directive is an ordinary `//` comment, so the files stay valid input for `attnc`.
///
///     // CHECK: <line>          the next output line, after the previous match, that is <line>
///     // CHECK-NEXT: <line>     the output line right after the previous match is <line>
///     // CHECK-NOT: <text>      no output line between the neighbouring matches contains <text>
///     // REMARK: <kind>: <msg>  the pass's remarks are exactly the REMARK lines, in order
///     // UNCHANGED              the pass reports no change and prints the input back byte for byte
///     // KNOWN-ISSUE: <why>     the expectations about what is rewritten fail today, for <why>
///
/// Output lines are compared with their indentation removed.
struct Directive: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable {
        case check = "CHECK"
        case checkNext = "CHECK-NEXT"
        case checkNot = "CHECK-NOT"
        case remark = "REMARK"
        case unchanged = "UNCHANGED"
        case knownIssue = "KNOWN-ISSUE"
    }

    let kind: Kind
    let text: String
    /// The 1-based line of the file the directive is on.
    let line: Int

    /// Keywords longest first, so `CHECK-NEXT` is not read as `CHECK`.
    private static let keywords = Kind.allCases.sorted { $0.rawValue.count > $1.rawValue.count }

    /// The directive on `line`, or nil when the line is IR or an ordinary comment.
    static func parse(_ line: Substring, at number: Int) -> Directive? {
        let trimmed = line.drop { $0 == " " }
        guard trimmed.hasPrefix("// ") else { return nil }
        let body = trimmed.dropFirst(3)
        for kind in keywords where body.hasPrefix(kind.rawValue) {
            let rest = body.dropFirst(kind.rawValue.count)
            if rest.allSatisfy({ $0 == " " }) { return Directive(kind: kind, text: "", line: number) }
            guard rest.hasPrefix(":") else { continue }
            let text = rest.dropFirst().drop { $0 == " " }
            return Directive(kind: kind, text: String(text.reversed().drop { $0 == " " }.reversed()), line: number)
        }
        return nil
    }
}
