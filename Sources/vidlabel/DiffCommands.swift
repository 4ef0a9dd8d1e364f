import ArgumentParser
import Foundation
import Labeling
import VideoIO

extension DiffFormat: ExpressibleByArgument {}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare scan/batch results with a baseline: flags, scores, labels and segments per file.",
        discussion: "Every change listed is beyond tolerance and is a regression. Exit 0 nothing beyond tolerance, 1 regression, 2 usage or parse error. Reports made with other sampling or other models are compared, with a warning on stderr.")

    @Argument(help: "Baseline: scan JSON or batch JSON Lines.") var baseline: String
    @Argument(help: "Current results, same formats.") var current: String
    @Option(parsing: .unconditional, help: "Score changes up to this are ignored.") var scoreTolerance: Double = 0.05
    @Option(parsing: .unconditional, help: "Segment edges moving up to this many seconds are ignored.") var timeTolerance: Double = 0.5
    @Option(help: "Comma-separated labels/topics to compare (default: all).") var labels: String?
    @Option(help: "Output format.") var format: DiffFormat = .text

    func validate() throws {
        try check(scoreTolerance, "--score-tolerance", in: 0...1)
        try check(timeTolerance, "--time-tolerance", in: Bounds.seconds)
        _ = try parsedLabels(labels)
    }

    func run() throws {
        let outcome: DiffOutcome
        do {
            outcome = try runDiff(baseline: try loadReports(baseline), current: try loadReports(current),
                                  scoreTolerance: scoreTolerance, timeTolerance: timeTolerance, labels: labels)
        } catch {
            throw CLIError.usage("\(error)")
        }
        for warning in outcome.warnings { printError("warning: \(warning)") }
        Output.write(try renderDiff(outcome.diffs, format: format))
        if outcome.diffs.contains(where: { !$0.changes.isEmpty }) { throw InputFailure() }
    }
}

/// `--labels a,b`: each name must be a moderation label or topic (a typo would
/// compare nothing and pass). - Throws: `ValidationError` naming the valid names.
func parsedLabels(_ text: String?) throws -> Set<String>? {
    guard let text else { return nil }
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    if names.isEmpty { throw ValidationError("--labels needs at least one label or topic name") }
    let valid = Taxonomy.labelNames
    for name in names where !valid.contains(name) {
        let near = Taxonomy.suggestion(for: name, among: valid).map { " (did you mean '\($0)'?)" } ?? ""
        throw ValidationError("--labels: unknown label or topic '\(name)'\(near); valid: \(valid.joined(separator: ", "))")
    }
    return Set(names)
}

/// A diff and what made its reports hard to compare.
struct DiffOutcome {
    var diffs: [FileDiff]
    var warnings: [String]
}

func runDiff(baseline: [LoadedReport], current: [LoadedReport], scoreTolerance: Double, timeTolerance: Double,
             labels: String?) throws -> DiffOutcome {
    let differ = ReportDiffer(scoreTolerance: scoreTolerance, timeTolerance: timeTolerance, labels: try parsedLabels(labels))
    return DiffOutcome(diffs: differ.diff(baseline: baseline, current: current),
                       warnings: differ.comparabilityWarnings(baseline: baseline, current: current))
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check videos (scanned now) or existing reports against a label policy; exit 1 on any violation.",
        discussion: """
        Policy JSON: {"deny": [{"label": "sexual", "score_over": 0.8, "min_duration_s": 1.0}], "require": [{"topic": "music", "min_score": 0.2}]}.
        deny: a moderation label or topic over score_over for at least min_duration_s seconds (default: any frame).
        require: a topic's summary score, or a moderation label's max score (use "label"), must reach min_score.
        The analyzers' labels: faces (the best face's score; require: the share of frames with a face), text (the best line's \
        score; require: some line read that well), nudity.explicit and the other nudity labels (as moderation labels), \
        black_frames (deny only). A rule on an analyzer the report was made without fails: nothing looked.
        Unknown keys, labels or topics are errors (exit 2): a policy never passes by a typo.
        Output: PASS or FAIL per file, each violation under its file; a file that cannot be scanned or read fails.
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
        do { rules = try Policy.load(policy) } catch { throw CLIError.usage("\(error)") }
        var reports: [LoadedReport] = []
        if let report {
            do { reports = try loadReports(report) } catch { throw CLIError.usage("\(error)") }
        } else {
            let files: [String]
            var inputs = BatchInputs(paths: paths, recursive: true)
            do { files = try inputs.expand() } catch { throw CLIError.usage("\(error)") }
            for name in inputs.unnamed { reports.append(LoadedReport(path: name, report: nil, error: BatchInputs.unnamedReason)) }
            let scanner: VideoScanner
            do {
                scanner = try VideoScanner(options: try labeling.scanOptions(sampling: sampling.options), locator: labeling.locator())
                try scanner.waitForModels()
            } catch { throw CLIError(message: "\(error)") }
            for f in files {
                do { reports.append(LoadedReport(path: f, report: try scanner.scan(path: f), error: nil)) } catch {
                    reports.append(LoadedReport(path: f, report: nil, error: "\(error)"))
                }
            }
        }
        var failedFiles = 0, violations = 0
        for r in reports {
            guard let rep = r.report else {
                failedFiles += 1
                Output.writeLine("FAIL \(r.path): cannot check: \(r.error ?? "no report")")
                continue
            }
            let found = rules.check(rep)
            if found.isEmpty {
                Output.writeLine("PASS \(r.path)")
                continue
            }
            failedFiles += 1
            violations += found.count
            Output.writeLine("FAIL \(r.path)")
            for v in found { Output.writeLine("  \(v.rule): \(v.message)") }
        }
        Output.writeError("check: \(failedFiles) of \(reports.count) file\(reports.count == 1 ? "" : "s") failed (\(violations) violation\(violations == 1 ? "" : "s"))\n")
        if failedFiles > 0 { throw InputFailure() }
    }
}
