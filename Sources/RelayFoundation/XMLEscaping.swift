/// Escapes text for XML and HTML documents: S3 request bodies, JUnit and HTML reports.
public enum XMLEscaping {
    /// `text` safe inside an element or a quoted attribute: `&`, `<`, `>` and both quotes become
    /// entities; carriage return, line feed and tab become character references (so attribute
    /// values keep them); the other control characters, which XML 1.0 forbids even as
    /// references, become spaces.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            case _ where scalar.value < 0x20: out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
