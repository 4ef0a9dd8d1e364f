import ArgumentParser
import Foundation

/// `--progress` values shared by `scan` and `batch`.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// A bar when stderr is a terminal, nothing otherwise.
    case auto
    /// A line redrawn in place on stderr.
    case bar
    /// One JSON object per event on stderr.
    case json
    case none

    /// What `auto` means here; `--quiet` wins over everything.
    func resolved(quiet: Bool) -> ProgressMode {
        if quiet { return .none }
        if self == .auto { return isatty(2) != 0 ? .bar : .none }
        return self
    }
}

/// "HH:MM:SS" (or "MM:SS" under an hour) for progress lines.
func clock(_ seconds: Double) -> String {
    let s = Int(max(0, seconds.isFinite ? seconds : 0))
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
}

/// Progress of one `scan` file on stderr: the position reached in the video
/// against its duration, frames so far and an ETA from the rate so far.
final class ScanProgress: @unchecked Sendable {
    let mode: ProgressMode
    private let lock = NSLock()
    private var file = ""
    private var duration: Double? = nil
    private var started = Date()
    private var lastDraw = Date.distantPast

    init(mode: ProgressMode) { self.mode = mode }

    func begin(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        file = (path as NSString).lastPathComponent
        duration = nil
        started = Date()
        lastDraw = .distantPast
        undrawn = nil
    }

    /// The last update a throttled bar did not draw, drawn by `end`.
    private var undrawn: (position: Double, frames: Int)? = nil

    /// Called by the scanner after each batch of frames.
    func update(position: Double, duration: Double?, frames: Int) {
        lock.lock(); defer { lock.unlock() }
        draw(position: position, duration: duration, frames: frames, force: false)
    }

    private func draw(position: Double, duration: Double?, frames: Int, force: Bool) {
        self.duration = duration
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        switch mode {
        case .bar:
            // At most 5 redraws a second: a terminal is slower than a fast scan.
            guard force || now.timeIntervalSince(lastDraw) >= 0.2 else {
                undrawn = (position, frames)
                return
            }
            undrawn = nil
            lastDraw = now
            var line = "\r\(printable(file)) \(clock(position))"
            if let d = duration, d > 0 {
                line += "/\(clock(d)) \(Int((min(position / d, 1) * 100).rounded()))%"
                if position > 0 { line += " ETA \(clock(elapsed / position * max(0, d - position)))" }
            }
            line += " \(frames) frames\u{1B}[K"
            Output.writeError(line)
        case .json:
            var event: [String: Any] = ["event": "progress", "file": file, "position_s": (position * 1000).rounded() / 1000,
                                        "frames": frames, "elapsed_s": (elapsed * 1000).rounded() / 1000]
            if let d = duration { event["duration_s"] = (d * 1000).rounded() / 1000 }
            if let data = try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes]) {
                Output.writeError(String(decoding: data, as: UTF8.self) + "\n")
            }
        case .auto, .none:
            break
        }
    }

    /// Ends the file's line (the bar stays visible with its final state).
    func end() {
        lock.lock(); defer { lock.unlock() }
        if let u = undrawn { draw(position: u.position, duration: duration, frames: u.frames, force: true) }
        if mode == .bar && lastDraw != .distantPast { Output.writeError("\n") }
    }
}

/// Progress of a `batch` on stderr: a redrawn bar line (`bar`), one JSON object per finished file (`json`), or nothing.
final class ProgressReporter: @unchecked Sendable {
    let mode: ProgressMode
    let state: BatchState
    private var timer: DispatchSourceTimer?
    private let lock = NSLock()

    init(mode: ProgressMode, state: BatchState) { self.mode = mode; self.state = state }

    func start() {
        guard mode == .bar else { return }
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
        let line = String(format: "\r[%d/%d] %.1f frames/s ETA %@ %@\u{1B}[K", s.done, state.total, rate, clock(eta), printable(current))
        lock.lock(); Output.writeError(line); lock.unlock()
    }

    func fileDone(_ path: String) {
        guard mode == .json else { return }
        let s = state.snapshot()
        let elapsed = Date().timeIntervalSince(state.started)
        let obj: [String: Any] = ["event": "progress", "done": s.done, "total": state.total, "frames": s.frames,
                                  "elapsed_s": (elapsed * 1000).rounded() / 1000, "file": path]
        if let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) {
            lock.lock(); Output.writeError(String(decoding: data, as: UTF8.self) + "\n"); lock.unlock()
        }
    }

    func finish() {
        timer?.cancel()
        if mode == .bar { drawBar(); Output.writeError("\n") }
    }
}
