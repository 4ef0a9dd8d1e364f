import ArgumentParser
import Dispatch
import Foundation
import Labeling
import VideoIO

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label many videos: JSON Lines (one scan report or error record per file), parallel, resumable, shardable.",
        discussion: "Exit 0 all fine, 1 some files failed, 2 usage error, 130 interrupted (SIGINT/SIGTERM; rerun with --resume).")

    @Argument(help: "Files, directories or globs.")
    var paths: [String] = []
    @Flag(help: "Walk directories recursively.") var recursive = false
    @Option(help: "Only paths (or file names) matching this glob (repeatable).") var include: [String] = []
    @Option(help: "Skip paths (or file names) matching this glob (repeatable).") var exclude: [String] = []
    @Option(help: "Read paths, one per line, from FILE (- for standard input).") var fromList: String?
    @Option(name: .shortAndLong, help: "Write JSON Lines to this file, replacing it (default: standard output); with --resume the file is kept and continued.") var output: String?
    @Option(parsing: .unconditional, help: "Files processed at once.") var jobs: Int = 1
    @Flag(help: "Skip files already in --output with the same path, size, mtime and options/models fingerprint.") var resume = false
    @Option(help: "Process only shard I of N (0-based), split by a stable hash of the path, e.g. 0/3.") var shard: String?
    @Flag(help: "Stop at the first failed file.") var failFast = false
    @Option(help: "Progress on stderr: auto (a bar when stderr is a terminal), bar, json or none.") var progress: ProgressMode = .auto
    @Flag(help: "No progress and no final summary on stderr (errors still).") var quiet = false
    @Option(help: "json (JSON Lines, for scripts and --resume) or text (a block per file, then a summary, for people).")
    var format: ReportFormat = .json
    @Option(help: "Also write a self-contained HTML page per video into this folder, and an index.html listing them (flagged first).")
    var htmlDir: String?
    @Flag(help: "In the HTML pages, show thumbnails of frames over the sexual threshold unblurred.") var htmlUnblur = false

    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var labeling: LabelingArguments

    func validate() throws {
        if paths.isEmpty && fromList == nil { throw ValidationError("give files, directories or globs, or --from-list") }
        try check(jobs, "--jobs", in: Bounds.jobs)
        if resume && output == nil { throw ValidationError("--resume needs -o FILE") }
        if shard != nil && parsedShard == nil { throw ValidationError("--shard must be I/N with 0 <= I < N, got '\(shard!)'") }
        if let output { try checkOutputFile(output, option: "-o") }
        if resume && format == .text { throw ValidationError("--resume continues JSON Lines records; use --format json (the default) with --resume") }
        if let htmlDir { try checkOutputFolder(htmlDir, option: "--html-dir") }
        if htmlUnblur && htmlDir == nil { throw ValidationError("--html-unblur is only used with --html-dir") }
    }

    var parsedShard: (Int, Int)? {
        guard let shard else { return nil }
        let p = shard.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2, let i = p[0], let n = p[1], n > 0, n <= 1_000_000, i >= 0, i < n else { return nil }
        return (i, n)
    }

    func run() throws {
        let start = Date()
        var inputs = BatchInputs(paths: paths, include: include, exclude: exclude, recursive: recursive)
        var files: [String]
        do {
            if let list = fromList { inputs.paths += try BatchInputs.readList(list) }
            files = try inputs.expand()
        } catch {
            throw CLIError.usage("\(error)")
        }
        if let (i, n) = parsedShard { files = files.filter { stableHash($0) % UInt64(n) == UInt64(i) } }

        // One scanner (models loaded once) shared by every job; kernel threads split between jobs.
        var options = try labeling.scanOptions(sampling: sampling.options)
        if !quiet { labeling.noteLicenses(options) }
        options.threads = max(1, labeling.threadCount / jobs)
        if let htmlDir {
            do { try FileManager.default.createDirectory(atPath: htmlDir, withIntermediateDirectories: true) } catch {
                throw CLIError(message: "--html-dir \(htmlDir): cannot create the folder")
            }
            options.thumbnailWidth = HTMLWriter.thumbnailWidth
            options.unblurThumbnails = htmlUnblur
            // The pages need the frames; the records leave them out when --no-frames says so.
            options.includeFrames = true
        }
        let scanner: VideoScanner
        do {
            scanner = try VideoScanner(options: options, locator: labeling.locator())
            // A broken model file is one error for the batch, not one per video.
            try scanner.waitForModels()
        } catch {
            throw CLIError(message: "\(error)")
        }
        // The records' options: --html-dir keeps the frames for its pages only.
        var recorded = options
        recorded.includeFrames = !labeling.noFrames
        let fingerprint = reportFingerprint(recorded, scanner: scanner)

        var unnamedFailures = 0
        let sink: RecordSink
        do { sink = try RecordSink(path: output, resume: resume, fingerprint: fingerprint, inputs: Set(files)) } catch {
            throw CLIError(message: "\(error)")
        }
        // Names JSON cannot carry are failures the output shows, not files silently left out.
        for name in inputs.unnamed where !sink.isDone(name) {
            printError("\(name): \(BatchInputs.unnamedReason)")
            var record = ErrorRecord(path: name, category: VideoError.Category.notFound.rawValue, message: BatchInputs.unnamedReason)
            record.stamp(scanner, fingerprint: fingerprint)
            let line = format == .text ? textLine(record.loaded) : try jsonLine(record)
            try write(line, to: sink, state: BatchState(total: 0, alreadyDone: 0))
            unnamedFailures += 1
        }
        let todo = files.filter { !sink.isDone($0) }
        let state = BatchState(total: files.count, alreadyDone: files.count - todo.count)
        let reporter = ProgressReporter(mode: progress.resolved(quiet: quiet), state: state)

        // SIGINT/SIGTERM: start no new file, stop the ones in flight, keep every written line.
        // A plain handler setting a flag: libdispatch signal sources miss signals on Linux unless blocked.
        signal(SIGINT) { _ in signalReceived = 1 }
        signal(SIGTERM) { _ in signalReceived = 1 }

        reporter.start()
        let next = Counter()
        let group = DispatchGroup()
        for _ in 0..<min(jobs, max(todo.count, 1)) {
            group.enter()
            let worker = Thread {
                defer { group.leave() }
                while !state.stopping, let i = next.take(below: todo.count) {
                    process(todo[i], scanner: scanner, sink: sink, state: state, fingerprint: fingerprint, reporter: reporter)
                    if failFast && state.failed > 0 { state.stop() }
                }
            }
            worker.stackSize = 8 << 20
            worker.start()
        }
        group.wait()
        reporter.finish()
        if format == .text && state.outputFailure == nil {
            try? write(TextWriter.batchSummary(labelled: state.ok, failed: state.failed + unnamedFailures, flagged: state.flagged), to: sink, state: state)
        }
        if let htmlDir, state.outputFailure == nil {
            let earlier = state.alreadyDone > 0 ? "\(state.alreadyDone) files done in an earlier run (--resume) are not listed; their pages, if any, are in this folder." : nil
            try writeAtomically(Data(HTMLWriter.index(state.pages, note: earlier).utf8),
                                to: (htmlDir as NSString).appendingPathComponent("index.html"))
        }
        sink.close()
        if let failure = state.outputFailure {
            // The output cannot take more records: stop, say why, keep what was written.
            throw CLIError(message: "\(failure); \(state.ok + state.failed) files written before it\(output == nil ? "" : ", resume with --resume once there is room")")
        }
        if !quiet { summarize(state: state, seconds: Date().timeIntervalSince(start)) }
        if state.interrupted {
            printError("interrupted: \(state.ok + state.failed) files done this run; resume with the same command plus --resume\(output == nil ? " -o FILE" : "")")
            throw ExitCode(130)
        }
        // Records kept from an earlier run count too: the status reflects what the output holds.
        if state.failed > 0 || sink.keptFailures > 0 || unnamedFailures > 0 { throw InputFailure() }
    }

    /// Writes one record; a failing output stops the whole batch (every later record would fail too).
    func write(_ line: String, to sink: RecordSink, state: BatchState) throws {
        do { try sink.write(line) } catch {
            state.failOutput("\(error)")
            throw error
        }
    }

    func process(_ path: String, scanner: VideoScanner, sink: RecordSink, state: BatchState, fingerprint: String,
                 reporter: ProgressReporter) {
        state.begin(path)
        defer { state.end(path) }
        let stamp = try? FileStamp(path)
        do {
            let review = try scanner.review(path: path, shouldStop: { state.stopping })
            var report = review.report
            report.file.mtime = stamp?.mtime
            report.fingerprint = fingerprint
            if let htmlDir {
                let page = HTMLWriter.pageName(for: path)
                try writeAtomically(Data(HTMLWriter.page(report, thumbnails: review.thumbnails).utf8),
                                    to: (htmlDir as NSString).appendingPathComponent(page))
                state.addPage(HTMLWriter.IndexEntry(LoadedReport(path: path, report: report, error: nil), page: page))
            }
            if labeling.noFrames { report.frames = nil }
            let line = format == .text ? textLine(LoadedReport(path: path, report: report, error: nil)) : try jsonLine(report)
            try write(line, to: sink, state: state)
            state.finished(ok: true, frames: report.sampling.framesSampled,
                           flagged: report.thresholdedLabels.filter(\.flagged).map(\.label), path: path)
        } catch is ScanCancelled {
            return
        } catch let e as CLIError where state.outputFailure != nil {
            _ = e // the output refused the record: the batch is stopping
            return
        } catch let e as VideoError where e.category == .notMedia || e.category == .noVideoStream {
            state.skip(path, reason: e.reason)
        } catch {
            var record = ErrorRecord(path: path, error: error)
            record.file.size_bytes = stamp?.size
            record.file.mtime = stamp?.mtime
            record.stamp(scanner, fingerprint: fingerprint)
            printError(error is VideoError ? "\(error)" : "\(path): \(error)")
            if htmlDir != nil { state.addPage(HTMLWriter.IndexEntry(record.loaded, page: nil)) }
            let line = format == .text ? textLine(record.loaded) : try? jsonLine(record)
            if let line { try? write(line, to: sink, state: state) }
            state.finished(ok: false, frames: 0, flagged: [], path: path)
        }
        reporter.fileDone(path)
    }

    /// A file's `--format text` block without its last newline (the sink ends every record
    /// with one, so blocks stand a blank line apart).
    func textLine(_ r: LoadedReport) -> String { String(TextWriter.block(r).dropLast()) }

    func summarize(state: BatchState, seconds: Double) {
        var lines = [String(format: "batch: %d ok, %d failed, %d skipped, %d already done; %d frames in %.1f s",
                            state.ok, state.failed, state.skipped.count, state.alreadyDone, state.frames, seconds)]
        for (path, reason) in state.skipped.sorted(by: { $0.0 < $1.0 }) { lines.append("  skipped (not a video): \(path): \(reason)") }
        for (label, paths) in state.flagged.sorted(by: { $0.key < $1.key }) {
            lines.append("  flagged \(label): \(paths.sorted().joined(separator: ", "))")
        }
        Output.writeError(lines.joined(separator: "\n") + "\n")
    }
}

/// Set by the SIGINT/SIGTERM handler (async-signal-safe: a plain store).
nonisolated(unsafe) var signalReceived: Int32 = 0

/// Hands out indices 0..<n to workers, once each.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < n else { return nil }
        value += 1
        return value - 1
    }
}

/// Counters shared by workers, the progress reporter and the signal handler.
final class BatchState: @unchecked Sendable {
    private let lock = NSLock()
    let total: Int
    let alreadyDone: Int
    private(set) var ok = 0, failed = 0, frames = 0
    private(set) var skipped: [(String, String)] = []
    private(set) var flagged: [String: [String]] = [:]
    private(set) var inFlight: [String] = []
    private var stopped = false
    let started = Date()

    init(total: Int, alreadyDone: Int) { self.total = total; self.alreadyDone = alreadyDone }

    var stopping: Bool { lock.lock(); defer { lock.unlock() }; return stopped || signalReceived != 0 }
    var interrupted: Bool { signalReceived != 0 }
    var done: Int { lock.lock(); defer { lock.unlock() }; return alreadyDone + ok + failed + skipped.count }

    func stop() { lock.lock(); stopped = true; lock.unlock() }
    /// Set when the output refused a record: the batch stops.
    private(set) var outputFailure: String? = nil
    func failOutput(_ message: String) { lock.lock(); if outputFailure == nil { outputFailure = message }; stopped = true; lock.unlock() }
    func begin(_ path: String) { lock.lock(); inFlight.append(path); lock.unlock() }
    func end(_ path: String) { lock.lock(); inFlight.removeAll { $0 == path }; lock.unlock() }
    /// Index rows for `--html-dir`, in completion order (the index sorts them).
    private(set) var pages: [HTMLWriter.IndexEntry] = []
    func addPage(_ e: HTMLWriter.IndexEntry) { lock.lock(); pages.append(e); lock.unlock() }
    func skip(_ path: String, reason: String) { lock.lock(); skipped.append((path, reason)); lock.unlock() }
    func finished(ok success: Bool, frames n: Int, flagged labels: [String], path: String) {
        lock.lock()
        if success { ok += 1 } else { failed += 1 }
        frames += n
        for l in labels { flagged[l, default: []].append(path) }
        lock.unlock()
    }
    func snapshot() -> (done: Int, frames: Int, current: String?) {
        lock.lock(); defer { lock.unlock() }
        return (alreadyDone + ok + failed + skipped.count, frames, inFlight.last)
    }
}
