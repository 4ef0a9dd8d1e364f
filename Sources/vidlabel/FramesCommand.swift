import ArgumentParser
import Foundation
import VideoIO

/// Sampling options shared by `frames` and `scan`.
struct SamplingArguments: ParsableArguments {
    @Option(help: "keyframes | interval:SECONDS | scenes[:THRESHOLD].")
    var sample: String = "keyframes"

    @Option(help: "Keyframes: drop key frames closer than this many seconds to the previous one.")
    var minInterval: Double = 1.0

    @Option(help: "Keyframes: also sample decoded frames inside key-frame gaps longer than this (seconds).")
    var maxGap: Double?

    @Option(help: "Stop after this many frames.")
    var maxFrames: Int?

    @Option(help: "Start time in seconds.")
    var start: Double?

    @Option(help: "End time in seconds.")
    var end: Double?

    @Option(help: "Decoder threads.")
    var decodeThreads: Int = 1

    func validate() throws {
        guard SamplingMode(argument: sample) != nil else {
            throw ValidationError("--sample must be keyframes, interval:SECONDS or scenes[:THRESHOLD], got '\(sample)'")
        }
        if minInterval < 0 { throw ValidationError("--min-interval must be >= 0") }
        if let g = maxGap, g <= 0 { throw ValidationError("--max-gap must be > 0") }
        if let m = maxFrames, m <= 0 { throw ValidationError("--max-frames must be > 0") }
        if let s = start, s < 0 { throw ValidationError("--start must be >= 0") }
        if let s = start, let e = end, e < s { throw ValidationError("--end must not be before --start") }
        if decodeThreads < 1 { throw ValidationError("--decode-threads must be >= 1") }
    }

    var options: SamplingOptions {
        var o = SamplingOptions()
        o.mode = SamplingMode(argument: sample)!
        o.minInterval = minInterval
        o.maxGap = maxGap
        o.maxFrames = maxFrames
        o.start = start
        o.end = end
        o.decodeThreads = decodeThreads
        return o
    }
}

struct Frames: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one JSON line per sampled frame; with --out, save each frame as a PNG.")

    @Argument(help: "A video file.")
    var file: String

    @OptionGroup var sampling: SamplingArguments

    @Option(help: "Output picture size in pixels (square), or WxH.")
    var size: String = "224"

    @Option(help: "stretch | crop[:FRACTION] | region[:FRACTION] | letterbox.")
    var resize: String = "crop"

    @Option(help: "Write each sampled frame as a PNG into this folder.")
    var out: String?

    func validate() throws {
        guard parsedSize != nil else { throw ValidationError("--size must be N or WxH with positive numbers, got '\(size)'") }
        guard ResizeMode(argument: resize) != nil else { throw ValidationError("--resize must be stretch, crop[:F], region[:F] or letterbox") }
    }

    var parsedSize: (Int, Int)? {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        if parts.count == 1, parts[0] > 0, parts[0] <= 8192 { return (parts[0], parts[0]) }
        if parts.count == 2, parts[0] > 0, parts[1] > 0, parts[0] <= 8192, parts[1] <= 8192 { return (parts[0], parts[1]) }
        return nil
    }

    struct FrameRecord: Encodable {
        let index: Int
        let time_s: Double
        let pts: Int64
        let time_base: String
        let key_frame: Bool
        let pict_type: String
        let png: String?
    }

    func run() throws {
        let (w, h) = parsedSize!
        let request = ImageRequest(width: w, height: h, mode: ResizeMode(argument: resize)!)
        if let dir = out {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        do {
            // Frames are always converted (what `make bench` times against ffmpeg's scale), saved only with --out.
            let sampler = try FrameSampler(path: file, options: sampling.options, outputs: [request])
            while let frame = try sampler.next() {
                var png: String? = nil
                if let dir = out {
                    let name = String(format: "frame_%05d_%.3fs.png", frame.index, frame.timeS)
                    let path = (dir as NSString).appendingPathComponent(name)
                    try writeAtomically(Data(frame.images[0].pngData()), to: path)
                    png = path
                }
                let record = FrameRecord(index: frame.index, time_s: (frame.timeS * 1e6).rounded() / 1e6, pts: frame.pts,
                                         time_base: frame.timeBase.description, key_frame: frame.keyFrame,
                                         pict_type: frame.pictType, png: png)
                Output.writeLine(try jsonLine(record))
            }
            for w in sampler.warnings {
                printError("\(file): warning: \(w.message)\(w.timeS.map { String(format: " at %.3fs", $0) } ?? "") (\(w.category))")
            }
        } catch let e as VideoError {
            printError("\(e)")
            throw InputFailure()
        }
    }
}

/// Writes to a temporary file beside `path`, then renames: a reader never sees half a file.
func writeAtomically(_ data: Data, to path: String) throws {
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
}
