import CFFmpeg
import Dispatch

/// Which frames to take from a video.
public enum SamplingMode: Sendable, Equatable {
    /// Key frames only: non-key packets never reach the decoder. The default, and the fastest.
    case keyframes
    /// One frame every `seconds`, found by seeking: the first frame at or after each target time.
    case interval(seconds: Double)
    /// The first frame of each shot, from a content-change score (mean HSV difference of
    /// consecutive downscaled frames, 0-255 scale, as PySceneDetect's content detector).
    case scenes(threshold: Double)

    /// Default scene-change threshold, PySceneDetect's content detector default.
    public static let defaultSceneThreshold = 27.0

    /// Interval lengths accepted, in seconds: below a millisecond every frame of any
    /// real video is sampled anyway, and the number of targets would be unbounded.
    public static let intervalRange = 0.001...86_400.0
    /// Scene thresholds accepted: the content score is a mean difference on a 0-255 scale.
    public static let sceneThresholdRange = 0.0...255.0

    /// Parses `keyframes`, `interval:S`, `scenes` or `scenes:THRESHOLD`; nil for anything
    /// else, NaN and out-of-range numbers included.
    public init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "keyframes" where parts.count == 1:
            self = .keyframes
        case "interval":
            guard parts.count == 2, let s = Double(parts[1]), SamplingMode.intervalRange.contains(s) else { return nil }
            self = .interval(seconds: s)
        case "scenes":
            if parts.count == 1 { self = .scenes(threshold: SamplingMode.defaultSceneThreshold); return }
            guard let t = Double(parts[1]), t > 0, SamplingMode.sceneThresholdRange.contains(t) else { return nil }
            self = .scenes(threshold: t)
        default:
            return nil
        }
    }

    /// Short name used in reports: `keyframes`, `interval` or `scenes`.
    public var name: String {
        switch self {
        case .keyframes: return "keyframes"
        case .interval: return "interval"
        case .scenes: return "scenes"
        }
    }
}

/// Options common to every sampler.
public struct SamplingOptions: Sendable, Equatable {
    public var mode: SamplingMode = .keyframes
    /// Keyframes mode: drop key frames closer than this to the previous sampled frame
    /// (keeps all-intra codecs such as MJPEG from sampling every frame).
    public var minInterval: Double = 1.0
    /// Keyframes mode: the longest stretch of video left without a sampled frame.
    /// Where key frames are further apart, the frames in between are decoded and
    /// one is sampled every `maxGap` seconds; GOPs short enough are never decoded
    /// past their key frame (the container's index says where the next key frame
    /// is). nil: key frames only.
    public var maxGap: Double? = SamplingOptions.defaultMaxGap
    /// The default coverage guarantee: a sampled frame at least every 2 s. Key frames
    /// alone left 25 s of a 79.5 s clip unseen; 2 s GOPs (common for streaming) still
    /// decode key frames only.
    public static let defaultMaxGap = 2.0
    /// Stop after this many sampled frames.
    public var maxFrames: Int? = nil
    /// Only frames at or after this time (seconds from stream start).
    public var start: Double? = nil
    /// Only frames at or before this time.
    public var end: Double? = nil
    /// Scenes mode: a cut must be at least this many frames after the previous one.
    public var minSceneFrames: Int = 15
    /// Decoder threads.
    public var decodeThreads: Int = 1
    /// Wall-clock budget for the whole file, in seconds, counted from the sampler's
    /// creation; past it `next()` throws `timeout`. nil: none. Work is proportional
    /// to the frames a file lists, and a small file can list a million.
    public var timeout: Double? = nil
    /// Find runs of black frames (`FrameSampler.blackFrames`). nil: off.
    public var blackFrames: BlackFrameOptions? = nil
    /// List the shots (`FrameSampler.shots`) in every mode; scenes mode always does.
    public var listShots = false

    /// Whether every frame in the range is decoded and looked at: black frames and
    /// shots are properties of the frames between the sampled ones. Scenes mode does
    /// anyway; keyframes and interval modes then decode every frame too (slower),
    /// and the frames they sample stay the same.
    public var decodesEveryFrame: Bool {
        if case .scenes = mode { return true }
        return blackFrames != nil || listShots
    }

    public init() {}
}

/// One sampled frame: its exact timestamp and the pictures requested for it.
public struct SampledFrame: Sendable {
    /// Position among the sampled frames, from 0.
    public let index: Int
    /// Presentation timestamp in `timeBase` units, as in the container.
    public let pts: Int64
    public let timeBase: Rational
    /// Seconds since the stream start: `(pts - start_time) * timeBase`.
    public let timeS: Double
    public let keyFrame: Bool
    /// `I`, `P`, `B`, ... (FFmpeg's picture type letter).
    public let pictType: String
    /// One picture per `ImageRequest` given to the sampler, in the same order.
    public let images: [RGBImage]
}

/// Streams sampled frames out of a video file: only the frames being decoded
/// are in memory, whatever the video's length. Not thread-safe.
///
/// Use `while let frame = try sampler.next() { ... }`. At the end, `warnings`
/// holds the non-fatal problems met (corrupt packets skipped, early end).
public final class FrameSampler {
    public let file: VideoFile
    public let options: SamplingOptions
    public let outputs: [ImageRequest]
    /// Non-fatal problems met so far (at most `maxWarnings`; `warningCount` counts all).
    public private(set) var warnings: [DecodeWarning] = []
    public private(set) var warningCount = 0
    /// Frames the decoder produced (sampled or not).
    public private(set) var framesDecoded = 0
    /// Frames returned by `next()`.
    public private(set) var framesSampled = 0

    public static let maxWarnings = 100

    private let decoder: Decoder
    private let converter: FrameConverter
    private var inputEnded = false
    private var finished = false
    private var started = false
    private var readFailure: String? = nil
    private var packetErrors = 0
    private var packetsSent = 0
    private let halfTick: Double
    /// `options.timeout` as an uptime deadline in nanoseconds.
    private let deadline: UInt64?

    // keyframes
    private var lastSampledTime: Double? = nil
    private var lastKeyTime: Double? = nil
    private var lastSentKeyTime: Double? = nil
    /// Keyframes mode: packets are chosen before decoding (key packets, plus the
    /// rest of a GOP only when `maxGap` needs frames inside it).
    private var filterPackets: Bool
    /// Whether the non-key packets of the GOP being read are sent to the decoder
    /// (for this GOP and the one before: leading pictures of an open GOP reference
    /// the previous GOP, and are garbage when it was not decoded).
    private var fillingGOP = false
    private var previousGOPFilled = false
    /// Time of the last key packet sent: frames before it that come out of the
    /// decoder are the leading pictures of its GOP.
    private var currentKeyPacketTime: Double? = nil
    /// Keyframes mode decoding every packet: the latest key packets' times and
    /// whether their GOPs would have been decoded whole (`fillingGOP`).
    private var filledGOPs: [(keyTime: Double, filled: Bool)] = []
    // interval
    private var targetIndex = 0
    private var lastDecodedTime: Double? = nil
    private var lastFrameTime: Double? = nil
    // every frame (scenes, black frames, shots)
    private var shotDetector: ShotDetector? = nil
    private var blackDetector: BlackFrameDetector? = nil
    /// Whether the frame last looked at started a shot.
    private var lastFrameStartsShot = false
    /// The last gap between two frames looked at: the last frame's length when the
    /// container gives none.
    private var lastFrameInterval: Double? = nil
    private var previousObservedTime: Double? = nil
    private var watchersClosed = false

    /// Runs of black frames, complete once `next()` returned nil (with `options.blackFrames`).
    public var blackFrames: [BlackSpan] { blackDetector?.spans ?? [] }
    /// The shots, complete once `next()` returned nil (scenes mode or `options.listShots`).
    public var shots: [ShotSpan] { shotDetector?.shots ?? [] }

    /// - Parameters:
    ///   - outputs: the pictures each sampled frame carries (may be empty when only times are wanted).
    public init(file: VideoFile, options: SamplingOptions = SamplingOptions(), outputs: [ImageRequest]) throws {
        self.file = file
        self.options = options
        self.outputs = outputs
        let keyOnly = options.mode == .keyframes && options.maxGap == nil && !options.decodesEveryFrame
        filterPackets = options.mode == .keyframes && !options.decodesEveryFrame
        decoder = try Decoder(file: file, threads: max(1, options.decodeThreads), skipNonKey: keyOnly)
        converter = FrameConverter(rotation: file.info.rotation, sampleAspectRatio: file.info.sampleAspectRatio)
        halfTick = file.info.timeBase.value / 2
        deadline = options.timeout.map { DispatchTime.now().uptimeNanoseconds + UInt64(max(0, $0) * 1e9) }
        if case .scenes(let threshold) = options.mode {
            shotDetector = ShotDetector(threshold: threshold, minSceneFrames: options.minSceneFrames)
        } else if options.listShots {
            shotDetector = ShotDetector(threshold: SamplingMode.defaultSceneThreshold, minSceneFrames: options.minSceneFrames)
        }
        blackDetector = options.blackFrames.map(BlackFrameDetector.init)
    }

    /// Opens `path` and samples it.
    public convenience init(path: String, options: SamplingOptions = SamplingOptions(), outputs: [ImageRequest]) throws {
        try self.init(file: VideoFile(path: path), options: options, outputs: outputs)
    }

    /// The next sampled frame, or nil at the end.
    /// - Throws: `VideoError` (`no_frames`, `truncated`, `decode_failed`) when
    ///   the video ends without a single frame sampled.
    public func next() throws -> SampledFrame? {
        if finished { return nil }
        if !started {
            started = true
            if let s = options.start, let d = file.info.durationS, s > d + halfTick {
                finished = true
                throw VideoError(file: file.path, category: .noFrames,
                                 reason: "the start time \(seconds(s)) is past the end of the video (\(seconds(d)) long)")
            }
            // Interval sampling seeks per target (unless every frame is looked at); the others start from `start`.
            if let s = options.start, s > 0, !isInterval || options.decodesEveryFrame { seek(to: s) }
        }
        if let m = options.maxFrames, framesSampled >= m { closeWatchers(); return finish() }
        let found: Bool
        switch options.mode {
        case .keyframes: found = try nextKeyframe()
        case .interval(let s): found = try nextInterval(every: s)
        case .scenes: found = try nextScene()
        }
        guard found else {
            try drainForWatchers()
            closeWatchers()
            return try finishOrThrow()
        }
        let f = decoder.frame
        let images = try outputs.enumerated().map { i, req in
            do { return try converter.convert(f, req, slot: i) } catch let e as VideoError {
                throw VideoError(file: file.path, category: e.category, reason: e.reason)
            }
        }
        let pts = frameTimestamp(f)
        let picture = av_get_picture_type_char(f.pointee.pict_type)
        let sample = SampledFrame(
            index: framesSampled, pts: pts, timeBase: file.info.timeBase, timeS: file.seconds(pts),
            keyFrame: f.pointee.key_frame != 0,
            pictType: String(UnicodeScalar(UInt8(bitPattern: picture))),
            images: images)
        framesSampled += 1
        return sample
    }

    /// "10 s", "3.044 s", for messages.
    private func seconds(_ t: Double) -> String {
        t == t.rounded() ? "\(Int(t)) s" : String(format: "%.3f s", t)
    }

    private var isInterval: Bool {
        if case .interval = options.mode { return true }
        return false
    }

    private func finish() -> SampledFrame? {
        finished = true
        return nil
    }

    private func finishOrThrow() throws -> SampledFrame? {
        finished = true
        if framesSampled > 0 { return nil }
        if let failure = readFailure, framesDecoded == 0 {
            throw VideoError(file: file.path, category: .truncated, reason: "no frame before the data ends: \(failure)")
        }
        if packetErrors > 0 && framesDecoded == 0 {
            throw VideoError(file: file.path, category: .decodeFailed, reason: "every packet failed to decode (\(packetErrors) errors)")
        }
        if framesDecoded == 0 {
            throw VideoError(file: file.path, category: .noFrames, reason: packetsSent == 0 ? "video stream has no frames" : "decoder produced no frames")
        }
        throw VideoError(file: file.path, category: .noFrames, reason: "no frame in the requested range")
    }

    // MARK: sampling modes

    private func nextKeyframe() throws -> Bool {
        while try decodeNext() {
            let f = decoder.frame
            let t = file.seconds(frameTimestamp(f))
            if let s = options.start, t + halfTick < s { continue }
            if let e = options.end, t - halfTick > e { return false }
            let isKey = f.pointee.key_frame != 0 || f.pointee.pict_type == AV_PICTURE_TYPE_I
            if isKey {
                // --min-interval spaces key frames; frames filling gaps do not push them away.
                if let last = lastKeyTime, t - last + halfTick < options.minInterval { continue }
                lastKeyTime = t
            } else {
                // Only reached with --max-gap: fill long gaps between key frames. With no
                // frame sampled yet (a GOP that starts before --start), the first one counts.
                guard let gap = options.maxGap else { continue }
                if !filterPackets && !(filledGOPs.last { $0.keyTime <= t + halfTick }?.filled ?? false) { continue }
                if let last = lastSampledTime, t - last + halfTick < gap { continue }
            }
            lastSampledTime = t
            return true
        }
        return false
    }

    private func nextInterval(every step: Double) throws -> Bool {
        let begin = options.start ?? 0
        let limit = min(options.end ?? .infinity, file.info.durationS ?? .infinity)
        while true {
            let target = begin + Double(targetIndex) * step
            if target > limit + halfTick { return false }
            if shouldSeek(to: target) {
                seek(to: target)
                lastDecodedTime = nil
            }
            var hit = false
            while try decodeNext() {
                let t = file.seconds(frameTimestamp(decoder.frame))
                lastDecodedTime = t
                if t + halfTick >= target { hit = true; break }
            }
            guard hit, let t = lastDecodedTime else { return false }
            if t - halfTick > limit { return false }
            // This frame also answers every later target it is at or after: skip those
            // (computed, not stepped: a corrupt timestamp far ahead would take forever).
            let answered = ((t + halfTick - begin) / step).rounded(.down) + 1
            targetIndex = answered >= Double(Int.max / 2) ? Int.max / 2 : max(targetIndex + 1, Int(answered))
            // Rounding may leave the index one off either way: settle it exactly.
            while targetIndex > 1 && begin + Double(targetIndex - 1) * step > t + halfTick { targetIndex -= 1 }
            var nudges = 0
            while nudges < 4 && begin + Double(targetIndex) * step <= t + halfTick { targetIndex += 1; nudges += 1 }
            return true
        }
    }

    /// Seeking costs a decoder flush and a GOP of decoding: only worth it
    /// when the key frame before `target` lies ahead of where decoding is now.
    private func shouldSeek(to target: Double) -> Bool {
        if options.decodesEveryFrame { return false }
        guard let current = lastDecodedTime else { return target > 0 || framesDecoded > 0 }
        if target < current { return true }
        let st = file.stream
        if avformat_index_get_entries_count(st) > 0 {
            let idx = av_index_search_timestamp(st, file.timestamp(target), AVSEEK_FLAG_BACKWARD)
            if idx >= 0, let entry = avformat_index_get_entry(st, idx) {
                return file.seconds(entry.pointee.timestamp) > current + halfTick
            }
        }
        return target - current > 2.0
    }

    /// The shot detector looked at each frame as it was decoded (`observe`).
    private func nextScene() throws -> Bool {
        while try decodeNext() {
            let t = file.seconds(frameTimestamp(decoder.frame))
            if let e = options.end, t - halfTick > e { return false }
            if let s = options.start, t + halfTick < s { continue }
            if lastFrameStartsShot { return true }
        }
        return false
    }

    // MARK: every frame

    /// Black frames and shots: every decoded frame in the range, in the order the
    /// decoder gives them (presentation order).
    private func observe(_ f: UnsafeMutablePointer<AVFrame>, _ t: Double) throws {
        lastFrameStartsShot = false
        if let s = options.start, t + halfTick < s { return }
        if let e = options.end, t - halfTick > e { return }
        if let previous = previousObservedTime, t > previous { lastFrameInterval = t - previous }
        previousObservedTime = t
        let packetDuration = f.pointee.pkt_duration > 0 ? Double(f.pointee.pkt_duration) * file.info.timeBase.value : nil
        // Untrusted: a corrupt duration must not stretch the last shot for days.
        let length = min(3600, packetDuration ?? lastFrameInterval ?? file.info.avgFps.map { 1 / max($0, 1e-3) } ?? 0)
        let end = t + length
        do {
            if blackDetector != nil {
                let stats = try LumaStats(frame: f, options: blackDetector!.options)
                    ?? LumaStats(rgb: converter.convert(f, .thumbnail(width: min(640, max(16, file.info.displayWidth)), of: file.info), slot: -2),
                                 options: blackDetector!.options)
                blackDetector!.process(stats, time: t, end: end)
            }
            if shotDetector != nil {
                let w = ShotDetector.signatureWidth
                let aspect = Double(file.info.displayHeight) / Double(max(1, file.info.displayWidth))
                let h = min(4096, max(8, Int((Double(w) * aspect).rounded())))
                let rgb = try converter.convert(f, ImageRequest(width: w, height: h, mode: .stretch, interpolation: .area), slot: -1)
                lastFrameStartsShot = shotDetector!.process(ShotDetector.hsvSignature(rgb), time: t, end: end)
            }
        } catch let e as VideoError {
            throw VideoError(file: file.path, category: e.category, reason: e.reason)
        }
    }

    /// Decodes what is left of the range so the black frames and shots reach its
    /// end (interval sampling stops at its last target).
    private func drainForWatchers() throws {
        guard options.decodesEveryFrame, !watchersClosed else { return }
        while try decodeNext() {
            if let e = options.end, file.seconds(frameTimestamp(decoder.frame)) - halfTick > e { break }
        }
    }

    private func closeWatchers() {
        guard !watchersClosed else { return }
        watchersClosed = true
        shotDetector?.finish()
        blackDetector?.finish()
    }

    // MARK: decoding

    private func frameTimestamp(_ f: UnsafeMutablePointer<AVFrame>) -> Int64 {
        let nopts = vl_nopts_value()
        if f.pointee.best_effort_timestamp != nopts { return f.pointee.best_effort_timestamp }
        if f.pointee.pts != nopts { return f.pointee.pts }
        return 0
    }

    private func seek(to seconds: Double) {
        let ts = file.timestamp(seconds)
        var code = av_seek_frame(file.format, file.streamIndex, ts, AVSEEK_FLAG_BACKWARD)
        if code < 0 { code = avformat_seek_file(file.format, file.streamIndex, Int64.min, ts, ts, 0) }
        if code >= 0 {
            decoder.flush()
            inputEnded = false
            lastSentKeyTime = nil
        }
    }

    /// An mp4 cut short still carries the full sample index (faststart puts it
    /// first); demuxers then just report end of file. Returns how far past the
    /// file's end the index reaches, if it does.
    private func indexedBytesBeyondEnd() -> Int64? {
        let st = file.stream
        let count = avformat_index_get_entries_count(st)
        guard count > 0, let last = avformat_index_get_entry(st, count - 1) else { return nil }
        let end = last.pointee.pos + Int64(last.pointee.size)
        return end > file.info.sizeBytes ? end - file.info.sizeBytes : nil
    }

    /// Whether the GOP starting at this key packet must be decoded past its key frame
    /// for `maxGap`: the next key frame (from the container's index) lies more than
    /// `maxGap` after the last frame sure to be sampled. Conservative: without an
    /// index, or with the time unknown, the GOP is decoded. A GOP exactly `maxGap`
    /// long needs nothing (its next key frame is sampled in time), so the common
    /// 2 s GOP decodes key frames only.
    private func gopNeedsFill(keyTime: Double?, keyDTS: Int64, sampled: Bool) -> Bool {
        guard let gap = options.maxGap, let t = keyTime else { return true }
        if let e = options.end, t > e + halfTick { return false }
        // The last moment sure to be covered: this key frame if it is sampled, else the
        // last sampled key frame, else the start of the requested range.
        let anchor = sampled ? t : (lastSentKeyTime ?? options.start ?? t)
        let next: Double
        switch keyFrameAfter(dts: keyDTS, time: t) {
        case .unknown: return true
        case .at(let n): next = n
        case .none:
            // The last GOP: the video's end (or --end) is the next "key frame".
            guard let d = file.info.durationS else { return true }
            next = min(d, options.end ?? d)
        }
        // A GOP entirely before --start needs no frames.
        if let s = options.start, next < s - halfTick { return false }
        return next - max(anchor, options.start ?? anchor) > gap + halfTick
    }

    private enum NextKey { case unknown, none, at(Double) }

    /// Time of the key frame after the one at decode timestamp `dts`, from the index:
    /// both ends are read from index entries, so the gap is exact even where the
    /// index holds decode times and the packets presentation times.
    private func keyFrameAfter(dts: Int64, time: Double) -> NextKey {
        let st = file.stream
        let count = avformat_index_get_entries_count(st)
        let nopts = vl_nopts_value()
        guard count > 0, dts != nopts else { return .unknown }
        let i = av_index_search_timestamp(st, dts, AVSEEK_FLAG_BACKWARD)
        guard i >= 0, let current = avformat_index_get_entry(st, i) else { return .unknown }
        var j = i + 1
        while j < count {
            if let e = avformat_index_get_entry(st, j), e.pointee.flags & AVINDEX_KEYFRAME != 0,
               e.pointee.timestamp > current.pointee.timestamp {
                return .at(time + file.seconds(e.pointee.timestamp) - file.seconds(current.pointee.timestamp))
            }
            j += 1
        }
        return .none
    }

    /// A frame the decoder emitted before the key frame just sent, while the GOP
    /// before was not decoded: an open GOP's leading picture, built on references
    /// that were never sent. Dropped quietly (it is not corrupt video).
    private func isUnreferencedLeadingPicture(_ f: UnsafeMutablePointer<AVFrame>, _ t: Double) -> Bool {
        guard filterPackets, options.maxGap != nil, !previousGOPFilled, let key = currentKeyPacketTime else { return false }
        return f.pointee.key_frame == 0 && t + halfTick < key
    }

    private func warn(_ category: VideoError.Category, _ message: String, _ time: Double?) {
        warningCount += 1
        if warnings.count < FrameSampler.maxWarnings {
            warnings.append(DecodeWarning(category: category.rawValue, message: message, timeS: time))
        }
    }

    /// Decodes until a frame is in `decoder.frame`; false at the end of the stream.
    private func decodeNext() throws -> Bool {
        let ctx = decoder.context, frame = decoder.frame
        while true {
            let r = avcodec_receive_frame(ctx, frame)
            if r == 0 {
                framesDecoded += 1
                if let deadline, framesDecoded % 16 == 0, DispatchTime.now().uptimeNanoseconds > deadline {
                    throw VideoError(file: file.path, category: .timeout,
                                     reason: "stopped after \(options.timeout!.short) s (--timeout) with \(framesSampled) frames sampled of \(framesDecoded) decoded")
                }
                let t = file.seconds(frameTimestamp(frame))
                if isUnreferencedLeadingPicture(frame, t) { continue }
                if frame.pointee.decode_error_flags != 0 || frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 {
                    warn(.decodeFailed, "frame decoded with errors (concealed)", t)
                }
                if options.decodesEveryFrame { try observe(frame, t) }
                return true
            }
            if r == vl_averror_eof() { return false }
            if r != vl_averror_eagain() {
                packetErrors += 1
                warn(.decodeFailed, "decode error: \(avErrorString(r))", nil)
                if inputEnded { return false }
            }
            if inputEnded { return false }
            sendNextPacket()
        }
    }

    /// Reads packets until one is accepted by the decoder; at the end of the
    /// file (or a read error) sends the drain signal so delayed frames come out.
    private func sendNextPacket() {
        let pkt = decoder.packet
        while true {
            let r = av_read_frame(file.format, pkt)
            if r < 0 {
                if r != vl_averror_eof() {
                    readFailure = avErrorString(r)
                    warn(.truncated, "file ends early or cannot be read further: \(avErrorString(r))", lastFrameTime)
                } else if let missing = indexedBytesBeyondEnd() {
                    readFailure = "the index points \(missing) bytes past the end of the file"
                    warn(.truncated, "file is truncated: \(readFailure!)", lastFrameTime)
                }
                avcodec_send_packet(decoder.context, nil)
                inputEnded = true
                return
            }
            defer { av_packet_unref(pkt) }
            guard pkt.pointee.stream_index == file.streamIndex else { continue }
            let nopts = vl_nopts_value()
            let ts = pkt.pointee.pts != nopts ? pkt.pointee.pts : pkt.pointee.dts
            let t: Double? = ts != nopts ? file.seconds(ts) : nil
            if let t { lastFrameTime = t }
            var sampledKey = false
            let isKey = pkt.pointee.flags & AV_PKT_FLAG_KEY != 0
            if filterPackets && !isKey && !fillingGOP { continue }
            if options.mode == .keyframes && isKey {
                if let t, let e = options.end, t - halfTick > e {
                    avcodec_send_packet(decoder.context, nil)
                    inputEnded = true
                    return
                }
                // A key packet is sampled unless it is before --start or too close to the
                // last one (every key packet decodes on its own, so those need not be
                // decoded at all)...
                sampledKey = t.map { t in
                    (options.start.map { t + halfTick >= $0 } ?? true)
                        && (lastSentKeyTime.map { t - $0 + halfTick >= options.minInterval } ?? true)
                } ?? true
                // ...and its GOP is decoded whole only when --max-gap needs frames inside it.
                previousGOPFilled = fillingGOP
                fillingGOP = options.maxGap != nil && gopNeedsFill(keyTime: t, keyDTS: pkt.pointee.dts, sampled: sampledKey)
                if !filterPackets {
                    // Every packet is decoded (black frames, shots): remember which GOPs
                    // filtering would have filled, so the same frames are sampled.
                    if let t { filledGOPs.append((t, fillingGOP)) }
                    if filledGOPs.count > 16 { filledGOPs.removeFirst() }
                } else if !sampledKey && !fillingGOP { continue }
                currentKeyPacketTime = t
            }
            let s = avcodec_send_packet(decoder.context, pkt)
            if s < 0 && s != vl_averror_eagain() {
                packetErrors += 1
                warn(.decodeFailed, "corrupt packet skipped: \(avErrorString(s))", t)
                continue
            }
            packetsSent += 1
            if sampledKey, let t { lastSentKeyTime = t }
            return
        }
    }
}

extension Double {
    /// "3", "0.5" (not "3.0"), for messages.
    public var short: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
