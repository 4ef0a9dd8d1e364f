import Foundation

/// `--format text`: a report for a person at a terminal. Flags first, each with its
/// segments and max score; then the topics that lead somewhere; then errors.
public enum TextWriter {
    /// Topics listed per file.
    public static let topTopics = 5
    /// Cuts listed on the shots line; the JSON report has them all.
    public static let maxCutsListed = 10
    /// Distinct text lines listed per file.
    public static let maxTextLines = 20

    /// One file's block (a report or an error record), ending with a newline.
    public static func block(_ r: LoadedReport) -> String {
        guard let report = r.report else { return "\(r.path)\n  ERROR \(r.error ?? "failed")\n" }
        var lines: [String] = []
        let v = report.video
        var head = report.file.path
        if let d = v.durationS { head += "  \(timecode(d))" }
        head += "  \(v.width)x\(v.height) \(v.codec)"
        lines.append(head)
        lines.append("  sampled \(report.sampling.framesSampled) frame\(report.sampling.framesSampled == 1 ? "" : "s") (\(samplingText(report.sampling)))")
        let flagged = report.thresholdedLabels.filter(\.flagged)
        if flagged.isEmpty {
            lines.append("  flags: none")
        } else {
            lines.append("  FLAGGED")
            for m in flagged {
                lines.append("    \(m.label)  max \(score(m.maxScore)) (threshold \(round4(m.threshold)))")
                for s in report.segments where s.kind == "moderation" && s.label == m.label {
                    lines.append("      \(timecode(s.startS))–\(timecode(s.endS))  max \(score(s.maxScore))")
                }
            }
        }
        let topics = report.summary.topics.filter { $0.coverage > 0 }.prefix(topTopics)
        if !topics.isEmpty {
            lines.append("  topics")
            let width = topics.map(\.label.count).max() ?? 0
            for t in topics {
                lines.append("    \(t.label.padding(toLength: width, withPad: " ", startingAt: 0))  score \(score(t.score))  coverage \(Int((t.coverage * 100).rounded()))%")
            }
        }
        if let p = report.summary.people {
            lines.append(p.framesWithFaces == 0 ? "  faces: none"
                         : "  faces: in \(p.framesWithFaces) of \(report.sampling.framesSampled) frames (\(Int((p.faceFrameFraction * 100).rounded()))%), at most \(p.maxFaces) at once")
        }
        if let text = report.summary.text {
            if text.isEmpty { lines.append("  text: none") } else {
                lines.append("  text")
                for l in text.prefix(maxTextLines) {
                    lines.append("    \(timecode(l.firstS))–\(timecode(l.lastS))  \(l.text)")
                }
                if text.count > maxTextLines { lines.append("    ... \(text.count - maxTextLines) more (the JSON report has them all)") }
            }
        }
        if let nudity = report.summary.nudity {
            let parts = report.frames?.flatMap { $0.detections ?? [] }.map(\.label) ?? []
            let counts = Dictionary(parts.map { ($0, 1) }, uniquingKeysWith: +)
            lines.append("  body parts: " + (counts.isEmpty ? "none" : counts.keys.sorted().map { "\($0) in \(counts[$0]!)" }.joined(separator: ", "))
                         + (nudity.contains(where: \.flagged) ? "" : " (no nudity flagged)"))
        }
        if report.summary.cues != nil {
            let black = report.segments.filter { $0.kind == "cue" && $0.label == Report.blackFramesLabel }
            lines.append("  black frames: " + (black.isEmpty ? "none" : black.map { "\(timecode($0.startS))–\(timecode($0.endS))" }.joined(separator: ", ")))
        }
        if let shots = report.shots {
            let cuts = shots.dropFirst().map { timecode($0.startS) }
            let shown = cuts.prefix(maxCutsListed).joined(separator: ", ") + (cuts.count > maxCutsListed ? ", ..." : "")
            lines.append("  shots: \(shots.count)" + (cuts.isEmpty ? "" : " (cuts at \(shown))"))
        }
        if !report.errors.isEmpty {
            lines.append("  errors")
            for e in report.errors { lines.append("    \(e.category)\(e.timeS.map { " at \(timecode($0))" } ?? ""): \(e.message)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The closing lines of `batch --format text`: files, failures and flagged
    /// files per label (`flagged`: label to paths), labels in taxonomy order.
    public static func batchSummary(labelled: Int, failed: Int, flagged: [String: [String]]) -> String {
        let n = labelled + failed
        var lines = ["\(n) file\(n == 1 ? "" : "s"): \(labelled) labelled, \(failed) failed"]
        for label in Taxonomy.moderation.map(\.name) + NudityTaxonomy.labels.map(\.name) where flagged[label] != nil {
            lines.append("  flagged \(label): \(flagged[label]!.sorted().joined(separator: ", "))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func samplingText(_ s: Report.Sampling) -> String {
        let p = s.params
        var parts = [s.mode]
        if let i = p.intervalS { parts.append("every \(i) s") }
        if let t = p.sceneThreshold { parts.append("threshold \(t)") }
        if let g = p.maxGap { parts.append("max gap \(g) s") }
        return parts.joined(separator: ", ")
    }

    static func score(_ x: Double) -> String { String(format: "%.3f", x) }
}

/// `HH:MM:SS.mmm` for times in reports meant for people.
public func timecode(_ seconds: Double) -> String {
    let ms = Int((max(0, seconds) * 1000).rounded())
    return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}
