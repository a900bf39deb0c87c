import Foundation

/// An expectation that did not hold: the line of the directive it belongs to, and why.
struct CheckFailure: Sendable, Equatable, CustomStringConvertible {
    let line: Int
    let message: String

    var description: String { "line \(line): \(message)" }
}

/// Matches the CHECK, CHECK-NEXT and CHECK-NOT directives, in order, against the lines of
/// `output`, as FileCheck does: CHECK finds the next line equal to its text, CHECK-NEXT requires
/// the line right after the previous match, CHECK-NOT forbids its text between the match before
/// it and the match after it (or the end). Lines are compared without indentation. Matching
/// stops at the first CHECK or CHECK-NEXT that fails, since later ones would only echo it.
func matchChecks(_ directives: [Directive], against output: String) -> [CheckFailure] {
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    var failures: [CheckFailure] = []
    // The first output line after the previous match.
    var cursor = 0
    var pendingNots: [Directive] = []
    func checkPendingNots(before end: Int) {
        for not in pendingNots {
            if let hit = (cursor..<end).first(where: { lines[$0].contains(not.text) }) {
                failures.append(CheckFailure(line: not.line, message: "CHECK-NOT: '\(not.text)' is on output line \(hit + 1): \(lines[hit])"))
            }
        }
        pendingNots = []
    }
    for directive in directives {
        switch directive.kind {
        case .checkNot:
            pendingNots.append(directive)
        case .check:
            guard let hit = (cursor..<lines.count).first(where: { lines[$0] == directive.text }) else {
                failures.append(CheckFailure(line: directive.line, message: "CHECK: no output line from line \(cursor + 1) on is '\(directive.text)'"))
                return failures
            }
            checkPendingNots(before: hit)
            cursor = hit + 1
        case .checkNext:
            guard cursor < lines.count, lines[cursor] == directive.text else {
                let actual = cursor < lines.count ? "'\(lines[cursor])'" : "past the end"
                failures.append(CheckFailure(line: directive.line, message: "CHECK-NEXT: output line \(cursor + 1) is \(actual), not '\(directive.text)'"))
                return failures
            }
            checkPendingNots(before: cursor)
            cursor += 1
        case .remark, .unchanged, .knownIssue:
            continue
        }
    }
    checkPendingNots(before: lines.count)
    return failures
}

/// Compares remarks (written `kind: message`) with the REMARK directives: the same remarks in the
/// same order. `caseLine` is where to report a remark no directive expected.
func matchRemarks(_ directives: [Directive], against remarks: [String], caseLine: Int) -> [CheckFailure] {
    let expected = directives.filter { $0.kind == .remark }
    var failures: [CheckFailure] = []
    for (i, directive) in expected.enumerated() {
        if i >= remarks.count {
            failures.append(CheckFailure(line: directive.line, message: "REMARK: expected '\(directive.text)', but the pass made only \(remarks.count) remark(s)"))
        } else if remarks[i] != directive.text {
            failures.append(CheckFailure(line: directive.line, message: "REMARK: expected '\(directive.text)', got '\(remarks[i])'"))
        }
    }
    for extra in remarks.dropFirst(expected.count) {
        failures.append(CheckFailure(line: expected.last?.line ?? caseLine, message: "REMARK: unexpected remark '\(extra)'"))
    }
    return failures
}
