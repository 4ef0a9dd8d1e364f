import Foundation

/// Output formats of `vidlabel diff` (and `scan --baseline`).
public enum DiffFormat: String, CaseIterable, Sendable {
    /// For people: per file its regressions, flag changes first, then a total.
    case text
    /// `{"files": [...], "regressions": N}`, pretty-printed.
    case json
    /// JUnit XML, one test case per file (CI dashboards).
    case junit
    /// GitHub Actions `::error file=...::` annotations.
    case github
}

/// Renders a diff. Every change listed is beyond tolerance, so every one is a
/// regression and sets exit status 1: the text format says so on each file and
/// in its last line.
public func renderDiff(_ diffs: [FileDiff], format: DiffFormat) throws -> String {
    let changed = diffs.filter { !$0.changes.isEmpty }
    switch format {
    case .json:
        struct Out: Encodable { let files: [FileDiff]; let regressions: Int }
        return try JSONWriter.string(Out(files: diffs, regressions: changed.count), pretty: true) + "\n"
    case .junit:
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites><testsuite name=\"vidlabel diff\" tests=\"\(diffs.count)\" failures=\"\(changed.count)\">\n"
        for d in diffs {
            x += "  <testcase classname=\"vidlabel.diff\" name=\"\(xmlEscaped(d.path))\""
            if d.changes.isEmpty { x += "/>\n"; continue }
            let first = d.changes.first { $0.kind == "flag_changed" } ?? d.changes[0]
            x += ">\n    <failure message=\"\(xmlEscaped(first.message))\" type=\"\(first.kind)\">"
            x += xmlEscaped(d.changes.map { "\($0.kind): \($0.message)" }.joined(separator: "\n"))
            x += "</failure>\n  </testcase>\n"
        }
        return x + "</testsuite></testsuites>\n"
    case .github:
        return changed.flatMap { d in
            d.changes.map { "::error file=\(githubEscaped(d.path))::\(githubEscaped($0.message))" }
        }.joined(separator: "\n") + (changed.isEmpty ? "" : "\n")
    case .text:
        if changed.isEmpty { return "" }
        var lines: [String] = []
        for d in changed {
            lines.append("\(d.path): \(d.changes.count) regression\(d.changes.count == 1 ? "" : "s")")
            // Flag changes first: they are what a pipeline acts on.
            for c in d.changes.sorted(by: { ($0.kind == "flag_changed" ? 0 : 1) < ($1.kind == "flag_changed" ? 0 : 1) }) {
                lines.append("  \(c.kind == "flag_changed" ? "FLAG " : "")\(c.message)")
            }
        }
        lines.append("\(changed.count) of \(diffs.count) files regressed (every change listed is beyond tolerance and sets exit 1)")
        return lines.joined(separator: "\n") + "\n"
    }
}


/// GitHub workflow commands end at a newline and use % escapes (%25, %0D, %0A).
func githubEscaped(_ s: String) -> String {
    s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
}
