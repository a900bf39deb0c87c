/// A source file's text, shared by every location that points into it.
public final class SourceFile: Sendable {
    /// The path as the user gave it (printed in diagnostics).
    public let path: String
    public let lines: [String]

    public init(path: String, text: String) {
        self.path = path
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// A 1-based line and column in a source file.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: SourceFile
    public let line: Int
    public let column: Int

    public init(file: SourceFile, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func == (a: SourceLocation, b: SourceLocation) -> Bool {
        a.file === b.file && a.line == b.line && a.column == b.column
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(line)
        hasher.combine(column)
    }

    public var description: String { "\(file.path):\(line):\(column)" }

    /// The source line this location is on.
    public var lineText: String { line >= 1 && line <= file.lines.count ? file.lines[line - 1] : "" }
}

/// A user-facing error or warning, with an optional place in a source file.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning, note }

    public var severity: Severity
    public var message: String
    public var location: SourceLocation?
    /// A file name to show when there is no location (a weights or `.npy` file, say).
    public var file: String?

    public init(_ severity: Severity = .error, _ message: String, at location: SourceLocation? = nil, file: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.file = file
    }

    /// `file:line:col: error: message`, then the source line and a caret under the column.
    public var description: String {
        guard let location else {
            return (file.map { "\($0): " } ?? "") + "\(severity.rawValue): \(message)"
        }
        let text = location.lineText
        let caretPad = String(text.prefix(max(0, location.column - 1)).map { $0 == "\t" ? "\t" : " " })
        return "\(location): \(severity.rawValue): \(message)\n\(text)\n\(caretPad)^"
    }
}

/// One or more diagnostics thrown together (a verifier reports every problem it finds).
public struct DiagnosticList: Error, CustomStringConvertible, Sendable {
    public let diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
