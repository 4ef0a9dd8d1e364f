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
    @Option(name: .shortAndLong, help: "Append JSON Lines to this file (default: standard output).") var output: String?
    @Option(help: "Files processed at once.") var jobs: Int = 1
    @Flag(help: "Skip files already in --output with the same path, size, mtime and options/models fingerprint.") var resume = false
    @Option(help: "Process only shard I of N (0-based), split by a stable hash of the path, e.g. 0/3.") var shard: String?
    @Flag(help: "Stop at the first failed file.") var failFast = false
    @Option(help: "auto (a bar when stderr is a terminal) | bar | json | none.") var progress: String = "auto"

    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var labeling: LabelingArguments

    func validate() throws {
        if paths.isEmpty && fromList == nil { throw ValidationError("give files, directories or globs, or --from-list") }
        if jobs < 1 { throw ValidationError("--jobs must be >= 1") }
        if resume && output == nil { throw ValidationError("--resume needs -o FILE") }
        if shard != nil && parsedShard == nil { throw ValidationError("--shard must be I/N with 0 <= I < N") }
        guard ["auto", "bar", "json", "none"].contains(progress) else { throw ValidationError("--progress must be auto, bar, json or none") }
    }

    var parsedShard: (Int, Int)? {
        guard let shard else { return nil }
        let p = shard.split(separator: "/").compactMap { Int($0) }
        guard p.count == 2, p[1] > 0, p[0] >= 0, p[0] < p[1] else { return nil }
        return (p[0], p[1])
    }

    func run() throws {
        let start = Date()
        var inputs = BatchInputs(paths: paths, include: include, exclude: exclude, recursive: recursive)
        var files: [String]
        do {
            if let list = fromList { inputs.paths += try BatchInputs.readList(list) }
            files = try inputs.expand()
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        if let (i, n) = parsedShard { files = files.filter { stableHash($0) % UInt64(n) == UInt64(i) } }

        // One scanner (models loaded once) shared by every job; kernel threads split between jobs.
        var options = try labeling.scanOptions(sampling: sampling.options)
        options.threads = max(1, labeling.threads / jobs)
        let scanner: VideoScanner
        do {
            scanner = try VideoScanner(options: options, locator: ModelLocator(modelsDir: labeling.modelsDir))
            // A broken model file is one error for the batch, not one per video.
            try scanner.waitForModels()
        } catch {
            printError("\(error)")
            throw InputFailure()
        }
        let fingerprint = SHA256.hex(of: Data((optionsKey(options) + scanner.modelHashes.joined(separator: ",")).utf8))

        let sink: RecordSink
        do { sink = try RecordSink(path: output, resume: resume, fingerprint: fingerprint, inputs: Set(files)) } catch {
            printError("\(error)")
            throw InputFailure()
        }
        let todo = files.filter { !sink.isDone($0) }
        let state = BatchState(total: files.count, alreadyDone: files.count - todo.count)
        let mode = progress == "auto" ? (isatty(2) != 0 ? "bar" : "none") : progress
        let reporter = ProgressReporter(mode: mode, state: state)

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
        sink.close()
        summarize(state: state, seconds: Date().timeIntervalSince(start))
        if state.interrupted {
            printError("interrupted: \(state.ok + state.failed) files done this run; resume with the same command plus --resume\(output == nil ? " -o FILE" : "")")
            throw ExitCode(130)
        }
        if state.failed > 0 { throw InputFailure() }
    }

    func process(_ path: String, scanner: VideoScanner, sink: RecordSink, state: BatchState, fingerprint: String,
                 reporter: ProgressReporter) {
        state.begin(path)
        defer { state.end(path) }
        let (size, mtime) = fileStamp(path)
        do {
            var report = try scanner.scan(path: path, shouldStop: { state.stopping })
            report.file.mtime = mtime
            report.fingerprint = fingerprint
            sink.write(try jsonLine(report))
            state.finished(ok: true, frames: report.sampling.framesSampled,
                           flagged: report.summary.moderation.filter(\.flagged).map(\.label), path: path)
        } catch is ScanCancelled {
            return
        } catch let e as VideoError where e.category == .notMedia || e.category == .noVideoStream {
            state.skip(path, reason: e.reason)
        } catch {
            var record = ErrorRecord(path: path, error: error)
            record.file.size_bytes = size
            record.file.mtime = mtime
            record.fingerprint = fingerprint
            printError(error is VideoError ? "\(error)" : "\(path): \(error)")
            if let line = try? jsonLine(record) { sink.write(line) }
            state.finished(ok: false, frames: 0, flagged: [], path: path)
        }
        reporter.fileDone(path)
    }

    /// The options that change a report, in a fixed order (not threads, jobs or output).
    func optionsKey(_ o: ScanOptions) -> String {
        let s = o.sampling
        return ["v1", s.mode.name, "\(s.mode)", "\(s.minInterval)", "\(s.maxGap ?? -1)", "\(s.maxFrames ?? -1)",
                "\(s.start ?? -1)", "\(s.end ?? -1)", o.topicModel.name,
                o.thresholds.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                "\(o.minDuration)", "\(o.mergeGap)", "\(o.topK)", "\(o.includeFrames)",
                o.custom.map { "\($0.url.path)|\($0.preprocessing.rawValue)|\($0.inputSize)|\($0.labels.joined(separator: "\u{1}"))" } ?? ""]
            .joined(separator: ";")
    }

    func summarize(state: BatchState, seconds: Double) {
        var lines = [String(format: "batch: %d ok, %d failed, %d skipped, %d already done; %d frames in %.1f s",
                            state.ok, state.failed, state.skipped.count, state.alreadyDone, state.frames, seconds)]
        for (path, reason) in state.skipped.sorted(by: { $0.0 < $1.0 }) { lines.append("  skipped (not a video): \(path): \(reason)") }
        for (label, paths) in state.flagged.sorted(by: { $0.key < $1.key }) {
            lines.append("  flagged \(label): \(paths.sorted().joined(separator: ", "))")
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// Size and modification time (seconds, millisecond precision) as records carry
/// them; written and compared by `--resume` through this one function so they match.
func fileStamp(_ path: String) -> (size: Int64?, mtime: Double?) {
    let attrs = try? FileManager.default.attributesOfItem(atPath: path)
    return ((attrs?[.size] as? NSNumber)?.int64Value,
            (attrs?[.modificationDate] as? Date).map { ($0.timeIntervalSince1970 * 1000).rounded() / 1000 })
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
    func begin(_ path: String) { lock.lock(); inFlight.append(path); lock.unlock() }
    func end(_ path: String) { lock.lock(); inFlight.removeAll { $0 == path }; lock.unlock() }
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

/// Appends whole lines to the output (one write per line, flushed), after
/// `--resume` has dropped a torn last line and stale records.
final class RecordSink: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private var done = Set<String>()

    init(path: String?, resume: Bool, fingerprint: String, inputs: Set<String>) throws {
        guard let path else { handle = FileHandle.standardOutput; return }
        let fm = FileManager.default
        if resume, let data = fm.contents(atPath: path) {
            // Keep complete lines only; a record for an input file is kept only when it still matches
            // (same size, mtime and fingerprint), so a changed file is redone and not listed twice.
            var kept: [String] = []
            let text = String(decoding: data, as: UTF8.self)
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)])
            for line in complete.split(separator: "\n") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let file = obj["file"] as? [String: Any], let p = file["path"] as? String else { continue }
                if inputs.contains(p) {
                    let (size, mtime) = fileStamp(p)
                    guard (file["size_bytes"] as? NSNumber)?.int64Value == size, (file["mtime"] as? Double) == mtime,
                          obj["fingerprint"] as? String == fingerprint, !done.contains(p) else { continue }
                    done.insert(p)
                }
                kept.append(String(line))
            }
            try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } else if !fm.fileExists(atPath: path) || !resume {
            guard fm.createFile(atPath: path, contents: nil) else { throw BatchError.usage("\(path): cannot create the output file") }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw BatchError.usage("\(path): cannot open the output file") }
        h.seekToEndOfFile()
        handle = h
    }

    func isDone(_ path: String) -> Bool { done.contains(path) }

    func write(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        handle.write(Data((line + "\n").utf8))
    }

    func close() {
        lock.lock(); defer { lock.unlock() }
        if handle !== FileHandle.standardOutput { try? handle.synchronize(); try? handle.close() }
    }
}

/// Progress on stderr: a redrawn bar line (`bar`), one JSON object per event (`json`), or nothing.
final class ProgressReporter: @unchecked Sendable {
    let mode: String
    let state: BatchState
    private var timer: DispatchSourceTimer?
    private let lock = NSLock()

    init(mode: String, state: BatchState) { self.mode = mode; self.state = state }

    func start() {
        guard mode == "bar" else { return }
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now(), repeating: 0.5)
        t.setEventHandler { [weak self] in self?.drawBar() }
        t.resume()
        timer = t
    }

    func drawBar() {
        let s = state.snapshot()
        let elapsed = Date().timeIntervalSince(state.started)
        let rate = elapsed > 0 ? Double(s.frames) / elapsed : 0
        let newDone = s.done - state.alreadyDone
        let remaining = state.total - s.done
        let eta = newDone > 0 ? elapsed / Double(newDone) * Double(remaining) : 0
        let current = s.current.map { ($0 as NSString).lastPathComponent } ?? ""
        let line = String(format: "\r[%d/%d] %.1f frames/s ETA %ds %@\u{1B}[K", s.done, state.total, rate, Int(eta), current)
        lock.lock(); FileHandle.standardError.write(Data(line.utf8)); lock.unlock()
    }

    func fileDone(_ path: String) {
        guard mode == "json" else { return }
        let s = state.snapshot()
        let elapsed = Date().timeIntervalSince(state.started)
        let obj: [String: Any] = ["event": "progress", "done": s.done, "total": state.total, "frames": s.frames,
                                  "elapsed_s": (elapsed * 1000).rounded() / 1000, "file": path]
        if let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) {
            lock.lock(); FileHandle.standardError.write(data + Data("\n".utf8)); lock.unlock()
        }
    }

    func finish() {
        timer?.cancel()
        if mode == "bar" { drawBar(); FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
