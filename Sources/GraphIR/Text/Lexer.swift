/// A token of the `.gir` text form.
struct Token: Equatable {
    enum Kind: Equatable {
        case word(String)
        /// `%name` or `%"quoted name"`.
        case valueName(String)
        /// `@name` or `@"quoted name"`.
        case weightName(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case punctuation(String)
        /// The whole comment, from `//` to the end of the line.
        case comment(String)
        case newline
        case end
    }

    let kind: Kind
    let line: Int
    let column: Int

    /// How the token reads in "expected X, got Y" messages.
    var spelling: String {
        switch kind {
        case .word(let w): return "'\(w)'"
        case .valueName(let n): return "'%\(n)'"
        case .weightName(let n): return "'@\(n)'"
        case .string(let s): return "\"\(s)\""
        case .integer(let n): return "'\(n)'"
        case .float(let x): return "'\(formatFloat(x))'"
        case .punctuation(let p): return "'\(p)'"
        case .comment: return "a comment"
        case .newline: return "end of line"
        case .end: return "end of file"
        }
    }
}

/// Splits `.gir` text into tokens; the first malformed character is a diagnostic.
struct Lexer {
    private let chars: [Character]
    private let file: SourceFile
    private var index = 0
    private var line = 1
    private var column = 1

    init(_ text: String, file: SourceFile) {
        self.chars = Array(text)
        self.file = file
    }

    static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == ".")
    }

    static func isWordStart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }

    static func isWordCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }

    mutating func tokenize() throws(Diagnostic) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private var current: Character? { index < chars.count ? chars[index] : nil }

    private func peek(_ offset: Int) -> Character? {
        index + offset < chars.count ? chars[index + offset] : nil
    }

    private mutating func advance() {
        if chars[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    private func error(_ message: String, line: Int? = nil, column: Int? = nil) -> Diagnostic {
        Diagnostic(.error, message, at: SourceLocation(file: file, line: line ?? self.line, column: column ?? self.column))
    }

    private mutating func next() throws(Diagnostic) -> Token {
        while let c = current, c == " " || c == "\t" || c == "\r" { advance() }
        let (startLine, startColumn) = (line, column)
        func make(_ kind: Token.Kind) -> Token { Token(kind: kind, line: startLine, column: startColumn) }
        guard let c = current else { return make(.end) }

        if c == "\n" {
            advance()
            return make(.newline)
        }
        if c == "/" && peek(1) == "/" {
            var text = ""
            while let d = current, d != "\n" {
                text.append(d)
                advance()
            }
            while text.last == " " || text.last == "\t" || text.last == "\r" { text.removeLast() }
            return make(.comment(text))
        }
        if c == "%" || c == "@" {
            advance()
            let name = try readName(after: c)
            return make(c == "%" ? .valueName(name) : .weightName(name))
        }
        if c == "\"" {
            return make(.string(try readQuoted()))
        }
        if c == "-" && peek(1) == ">" {
            advance()
            advance()
            return make(.punctuation("->"))
        }
        if c.isNumber || (c == "-" && (peek(1)?.isNumber ?? false)) {
            return make(try readNumber())
        }
        if c == "-" && peek(1) == "i" && peek(2) == "n" && peek(3) == "f" && !(peek(4).map(Lexer.isWordCharacter) ?? false) {
            for _ in 0..<4 { advance() }
            return make(.float(-.infinity))
        }
        if Lexer.isWordStart(c) {
            var word = ""
            while let d = current, Lexer.isWordCharacter(d) {
                word.append(d)
                advance()
            }
            return make(.word(word))
        }
        if "()[]{},=:".contains(c) {
            advance()
            return make(.punctuation(String(c)))
        }
        throw error("unexpected character '\(c)'")
    }

    private mutating func readName(after sigil: Character) throws(Diagnostic) -> String {
        if current == "\"" { return try readQuoted() }
        var name = ""
        while let d = current, Lexer.isNameCharacter(d) {
            name.append(d)
            advance()
        }
        guard !name.isEmpty else {
            throw error("expected a name after '\(sigil)' (letters, digits, '_' and '.', or a quoted name)")
        }
        return name
    }

    private mutating func readQuoted() throws(Diagnostic) -> String {
        let (startLine, startColumn) = (line, column)
        advance()
        var text = ""
        while let d = current, d != "\"" {
            guard d != "\n" else { throw error("unterminated quoted name", line: startLine, column: startColumn) }
            text.append(d)
            advance()
        }
        guard current == "\"" else { throw error("unterminated quoted name", line: startLine, column: startColumn) }
        advance()
        return text
    }

    private mutating func readNumber() throws(Diagnostic) -> Token.Kind {
        let (startLine, startColumn) = (line, column)
        var text = ""
        var isFloat = false
        if current == "-" {
            text.append("-")
            advance()
        }
        while let d = current, d.isNumber {
            text.append(d)
            advance()
        }
        if current == ".", peek(1)?.isNumber ?? false {
            isFloat = true
            text.append(".")
            advance()
            while let d = current, d.isNumber {
                text.append(d)
                advance()
            }
        }
        if let e = current, e == "e" || e == "E" {
            let sign = peek(1)
            let digitAt = (sign == "+" || sign == "-") ? 2 : 1
            if peek(digitAt)?.isNumber ?? false {
                isFloat = true
                for _ in 0..<digitAt {
                    text.append(current!)
                    advance()
                }
                while let d = current, d.isNumber {
                    text.append(d)
                    advance()
                }
            }
        }
        if let d = current, Lexer.isWordCharacter(d) {
            throw error("malformed number '\(text)\(d)'", line: startLine, column: startColumn)
        }
        if isFloat {
            guard let x = Double(text) else { throw error("malformed number '\(text)'", line: startLine, column: startColumn) }
            return .float(x)
        }
        guard let n = Int(text) else { throw error("integer '\(text)' is out of range", line: startLine, column: startColumn) }
        return .integer(n)
    }
}
