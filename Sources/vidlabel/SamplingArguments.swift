import ArgumentParser
import VideoIO

/// Sampling options shared by `frames`, `scan`, `batch` and `check`.
struct SamplingArguments: ParsableArguments {
    @Option(help: "keyframes | interval:SECONDS | scenes[:THRESHOLD].")
    var sample: String = "keyframes"

    @Option(parsing: .unconditional, help: "Keyframes: drop key frames closer than this many seconds to the previous one.")
    var minInterval: Double = 1.0

    @Option(parsing: .unconditional,
            help: "Keyframes: never leave more than this many seconds between sampled frames; frames inside longer key-frame gaps are decoded to fill them (0: key frames only).")
    var maxGap: Double = SamplingOptions.defaultMaxGap

    @Option(parsing: .unconditional, help: "Stop after this many frames.")
    var maxFrames: Int?

    @Option(parsing: .unconditional, help: "Start time in seconds.")
    var start: Double?

    @Option(parsing: .unconditional, help: "End time in seconds.")
    var end: Double?

    @Option(parsing: .unconditional, help: "Decoder threads.")
    var decodeThreads: Int = 1

    @Option(parsing: .unconditional, help: "Give up on a file after this many seconds (error category timeout; default: no limit).")
    var timeout: Double?

    func validate() throws {
        _ = try Self.mode(sample)
        try check(minInterval, "--min-interval", in: 0...3600)
        if maxGap != 0 { try check(maxGap, "--max-gap", in: 0.05...86_400) }
        if let m = maxFrames { try check(m, "--max-frames", in: Bounds.maxFrames) }
        if let s = start { try check(s, "--start", in: Bounds.seconds) }
        if let e = end { try check(e, "--end", in: Bounds.seconds) }
        if let s = start, let e = end, e < s { throw ValidationError("--end \(e.short) is before --start \(s.short)") }
        try check(decodeThreads, "--decode-threads", in: Bounds.decodeThreads)
        if let t = timeout { try check(t, "--timeout", in: 0.1...Bounds.seconds.upperBound) }
    }

    /// Parses `--sample`, with a message that says what is wrong with the value.
    static func mode(_ text: String) throws -> SamplingMode {
        if let mode = SamplingMode(argument: text) { return mode }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "interval":
            guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("--sample interval needs seconds: interval:SECONDS, e.g. interval:2") }
            guard let s = Double(parts[1]), s.isFinite else { throw ValidationError("--sample interval:SECONDS: '\(parts[1])' is not a number") }
            if s <= 0 { throw ValidationError("--sample interval:SECONDS needs SECONDS above 0, got \(parts[1])") }
            throw ValidationError("--sample interval:SECONDS must be from \(SamplingMode.intervalRange.lowerBound) to \(SamplingMode.intervalRange.upperBound.short) seconds, got \(parts[1])")
        case "scenes":
            throw ValidationError("--sample scenes:THRESHOLD needs a number above 0 and at most 255, got '\(parts.count > 1 ? parts[1] : "")'")
        case "keyframes":
            throw ValidationError("--sample keyframes takes no value, got '\(text)'")
        default:
            throw ValidationError("--sample must be keyframes, interval:SECONDS or scenes[:THRESHOLD], got '\(text)'")
        }
    }

    var options: SamplingOptions {
        var o = SamplingOptions()
        o.mode = (try? Self.mode(sample)) ?? .keyframes
        o.minInterval = minInterval
        o.maxGap = maxGap > 0 ? maxGap : nil
        o.maxFrames = maxFrames
        o.start = start
        o.end = end
        o.decodeThreads = decodeThreads
        o.timeout = timeout
        return o
    }
}
