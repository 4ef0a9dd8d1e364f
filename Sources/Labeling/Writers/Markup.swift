/// Text safe inside XML or HTML attributes and elements (JUnit reports, HTML pages).
func xmlEscaped(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        // XML 1.0 cannot carry most control characters, even escaped.
        case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": out += "\\x" + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
