import ArgumentParser
import Foundation
import Labeling

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare scan/batch results with a baseline: flags, scores, labels and segments per file.",
        discussion: "Exit 0 nothing beyond tolerance, 1 regression, 2 usage or parse error.")

    @Argument(help: "Baseline: scan JSON or batch JSON Lines.") var baseline: String
    @Argument(help: "Current results, same formats.") var current: String
    @Option(help: "Score changes up to this are ignored.") var scoreTolerance: Double = 0.05
    @Option(help: "Segment edges moving up to this many seconds are ignored.") var timeTolerance: Double = 0.5
    @Option(help: "Comma-separated labels/topics to compare (default: all).") var labels: String?
    @Option(help: "text | json | junit | github.") var format: String = "text"

    func validate() throws {
        guard ["text", "json", "junit", "github"].contains(format) else { throw ValidationError("--format must be text, json, junit or github") }
        if scoreTolerance < 0 || timeTolerance < 0 { throw ValidationError("tolerances must be >= 0") }
    }

    func run() throws {
        let diffs: [FileDiff]
        do {
            diffs = try runDiff(baseline: try loadReports(baseline), current: try loadReports(current),
                                scoreTolerance: scoreTolerance, timeTolerance: timeTolerance, labels: labels)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        print(try render(diffs, format: format), terminator: "")
        if diffs.contains(where: { !$0.changes.isEmpty }) { throw InputFailure() }
    }
}

func runDiff(baseline: [LoadedReport], current: [LoadedReport], scoreTolerance: Double, timeTolerance: Double, labels: String?) throws -> [FileDiff] {
    let set = labels.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
    return ReportDiffer(scoreTolerance: scoreTolerance, timeTolerance: timeTolerance, labels: set).diff(baseline: baseline, current: current)
}

/// Diff output: short text, JSON, JUnit XML (one test case per file) or GitHub annotations.
func render(_ diffs: [FileDiff], format: String) throws -> String {
    let changed = diffs.filter { !$0.changes.isEmpty }
    switch format {
    case "json":
        struct Out: Encodable { let files: [FileDiff]; let regressions: Int }
        return try jsonLine(Out(files: diffs, regressions: changed.count), pretty: true) + "\n"
    case "junit":
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites><testsuite name=\"vidlabel diff\" tests=\"\(diffs.count)\" failures=\"\(changed.count)\">\n"
        for d in diffs {
            x += "  <testcase classname=\"vidlabel.diff\" name=\"\(esc(d.path))\""
            if d.changes.isEmpty { x += "/>\n"; continue }
            let first = d.changes.first { $0.kind == "flag_changed" } ?? d.changes[0]
            x += ">\n    <failure message=\"\(esc(first.message))\" type=\"\(first.kind)\">"
            x += esc(d.changes.map { "\($0.kind): \($0.message)" }.joined(separator: "\n"))
            x += "</failure>\n  </testcase>\n"
        }
        return x + "</testsuite></testsuites>\n"
    case "github":
        return changed.flatMap { d in
            d.changes.map { "::error file=\(d.path)::\($0.message)" }
        }.joined(separator: "\n") + (changed.isEmpty ? "" : "\n")
    default:
        if changed.isEmpty { return "" }
        var lines: [String] = []
        for d in changed {
            lines.append("\(d.path):")
            // Flag changes first: they are what a pipeline acts on.
            for c in d.changes.sorted(by: { ($0.kind == "flag_changed" ? 0 : 1) < ($1.kind == "flag_changed" ? 0 : 1) }) {
                lines.append("  \(c.kind == "flag_changed" ? "FLAG " : "")\(c.message)")
            }
        }
        lines.append("\(changed.count) of \(diffs.count) files changed")
        return lines.joined(separator: "\n") + "\n"
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check videos (scanned now) or existing reports against a label policy; exit 1 on any violation.",
        discussion: """
        Policy JSON: {"deny": [{"label": "sexual", "score_over": 0.8, "min_duration_s": 1.0}], "require": [{"topic": "music", "min_score": 0.2}]}.
        deny: a moderation label or topic over score_over for at least min_duration_s seconds (default: any frame).
        require: a topic's summary score, or a moderation label's max score (use "label"), must reach min_score.
        """)

    @Argument(help: "Video files or directories to scan (not with --report).") var paths: [String] = []
    @Option(help: "Policy file (JSON).") var policy: String
    @Option(help: "Check this existing report (scan JSON or batch JSON Lines) instead of scanning.") var report: String?
    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var labeling: LabelingArguments

    func validate() throws {
        if paths.isEmpty == (report == nil) { throw ValidationError("give video files or --report FILE (one of them)") }
    }

    func run() throws {
        let rules: Policy
        do { rules = try Policy.load(policy) } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        var reports: [LoadedReport] = []
        if let report {
            do { reports = try loadReports(report) } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        } else {
            let files = try BatchInputs(paths: paths, recursive: true).expand()
            let scanner = try VideoScanner(options: try labeling.scanOptions(sampling: sampling.options),
                                           locator: ModelLocator(modelsDir: labeling.modelsDir))
            try scanner.waitForModels()
            for f in files {
                do { reports.append(LoadedReport(path: f, report: try scanner.scan(path: f), error: nil)) } catch {
                    reports.append(LoadedReport(path: f, report: nil, error: "\(error)"))
                }
            }
        }
        var violations = 0
        for r in reports {
            guard let rep = r.report else {
                violations += 1
                print("\(r.path): cannot check: \(r.error ?? "no report")")
                continue
            }
            for v in rules.check(rep) {
                violations += 1
                print("\(r.path): \(v.rule): \(v.message)")
            }
        }
        FileHandle.standardError.write(Data("check: \(violations) violation(s) in \(reports.count) file(s)\n".utf8))
        if violations > 0 { throw InputFailure() }
    }
}
