import ArgumentParser
import Foundation
import Inference
import Labeling
import VideoIO

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label videos: moderation and topic labels per frame, per segment and per video, as JSON.",
        discussion: "One file: one JSON object. Several: JSON Lines, one object per file in argument order; a file that fails gives {\"file\": {\"path\": ...}, \"error\": {\"category\": ..., \"message\": ...}}. Exit 0 all fine, 1 some file failed, 2 usage error.")

    @Argument(help: "Video files.")
    var files: [String]

    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var labeling: LabelingArguments

    @Flag(help: "Indent the JSON (one file only: several files are JSON Lines).")
    var pretty = false

    @Option(help: "json (for scripts: one object per file) or text (a summary for people).")
    var format: ReportFormat = .json

    @Option(help: "Also write a self-contained HTML report (timelines, thumbnails) to this file (one video only).")
    var html: String?

    @Flag(help: "In the HTML report, show thumbnails of frames over the sexual threshold unblurred.")
    var htmlUnblur = false

    @Option(name: .shortAndLong, help: "Write the output to this file (written whole, then renamed into place).")
    var output: String?

    @Option(help: "After scanning, diff against this baseline (scan JSON or batch JSON Lines); differences go to stderr and exit 1.")
    var baseline: String?

    @Option(parsing: .unconditional, help: "With --baseline: score tolerance.") var scoreTolerance: Double = 0.05
    @Option(parsing: .unconditional, help: "With --baseline: segment time tolerance (s).") var timeTolerance: Double = 0.5

    @Option(help: "Progress on stderr: auto (a line when stderr is a terminal), bar, json or none.")
    var progress: ProgressMode = .auto
    @Flag(help: "No progress.") var quiet = false

    func validate() throws {
        if pretty && files.count > 1 {
            throw ValidationError("--pretty works with one file; several files are written as JSON Lines, one compact object per line")
        }
        if let output { try checkOutputFile(output, option: "-o") }
        if pretty && format == .text { throw ValidationError("--pretty is for JSON; --format text is already for people") }
        if let html {
            if files.count > 1 { throw ValidationError("--html writes one video's page; for several, use vidlabel batch --html-dir DIR") }
            try checkOutputFile(html, option: "--html")
        }
        if htmlUnblur && html == nil { throw ValidationError("--html-unblur is only used with --html") }
        try check(scoreTolerance, "--score-tolerance", in: 0...1)
        try check(timeTolerance, "--time-tolerance", in: Bounds.seconds)
    }

    func run() throws {
        var options = try labeling.scanOptions(sampling: sampling.options)
        if !quiet { labeling.noteLicenses(options) }
        if html != nil {
            options.thumbnailWidth = HTMLWriter.thumbnailWidth
            options.unblurThumbnails = htmlUnblur
            // The page needs the frames; the JSON leaves them out when --no-frames says so.
            options.includeFrames = true
        }
        // The baseline is read before the work: a typo in its name fails now, not after the scan.
        let baselineReports: [LoadedReport]?
        do { baselineReports = try baseline.map(loadReports) } catch { throw CLIError.usage("\(error)") }
        let scanner: VideoScanner
        do {
            scanner = try VideoScanner(options: options, locator: labeling.locator())
        } catch {
            throw CLIError(message: "\(error)")
        }
        let bar = ScanProgress(mode: progress.resolved(quiet: quiet))
        var lines: [String] = []
        var failed = false
        var scanned: [LoadedReport] = []
        for path in files {
            let line: String
            bar.begin(path)
            do {
                let review = try scanner.review(path: path, progress: { bar.update(position: $0, duration: $1, frames: $2) })
                bar.end()
                if let html {
                    try writeAtomically(Data(HTMLWriter.page(review.report, thumbnails: review.thumbnails).utf8), to: html)
                }
                var report = review.report
                if labeling.noFrames { report.frames = nil }
                scanned.append(LoadedReport(path: path, report: report, error: nil))
                line = format == .text ? TextWriter.block(scanned.last!) : try jsonLine(report, pretty: pretty)
            } catch let error as ModelLoadError {
                // Models load while the first file starts decoding; a broken one stops the run.
                bar.end()
                throw CLIError(message: "\(error)")
            } catch {
                bar.end()
                failed = true
                printError(error is VideoError ? "\(error)" : "\(path): \(error)")
                let record = ErrorRecord(path: path, error: error)
                scanned.append(record.loaded)
                line = format == .text ? TextWriter.block(scanned.last!) : try jsonLine(record)
            }
            let text = format == .text ? line : line + "\n"
            if output == nil { Output.write(text) } else { lines.append(text) }
        }
        if let output {
            try writeAtomically(Data(lines.joined().utf8), to: output)
        }
        if let baselineReports {
            let outcome = try runDiff(baseline: baselineReports, current: scanned, scoreTolerance: scoreTolerance,
                                      timeTolerance: timeTolerance, labels: nil)
            for warning in outcome.warnings { printError("warning: \(warning)") }
            let text = try renderDiff(outcome.diffs, format: .text)
            Output.writeError(text)
            if outcome.diffs.contains(where: { !$0.changes.isEmpty }) { failed = true }
        }
        if failed { throw InputFailure() }
    }
}
