/// C identifiers for the names an AOT bundle exports: the symbol prefix and the tensor names in
/// the header's macros.
public enum CIdentifier {
    /// Whether `text` is a valid C identifier (ASCII letters, digits and `_`, not starting with a digit).
    public static func isValid(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isLetterOrUnderscore(first) else { return false }
        return text.unicodeScalars.allSatisfy { isLetterOrUnderscore($0) || ("0"..."9").contains($0) }
    }

    /// `text` made into a C identifier: every other character becomes `_`, and a leading digit
    /// (or an empty name) gets an `m` in front, since names starting with `_` are reserved in C.
    public static func sanitized(_ text: String) -> String {
        let scalars = text.unicodeScalars.map { isLetterOrUnderscore($0) || ("0"..."9").contains($0) ? Character($0) : "_" }
        let name = String(scalars)
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return "m" + name }
        return name
    }

    /// The upper-case form used in macro names: `cbam` → `CBAM`, `q.proj` → `Q_PROJ`.
    public static func macroName(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            if ("a"..."z").contains(scalar) { return Character(Unicode.Scalar(scalar.value - 32)!) }
            return isLetterOrUnderscore(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
        })
    }

    private static func isLetterOrUnderscore(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }
}
