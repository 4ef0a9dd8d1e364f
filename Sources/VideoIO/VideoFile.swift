import CFFmpeg
import Foundation

/// An exact rational number, as FFmpeg keeps time bases and frame rates.
public struct Rational: Codable, Sendable, Equatable, CustomStringConvertible {
    public let num: Int32
    public let den: Int32
    public init(num: Int32, den: Int32) { self.num = num; self.den = den }
    init(_ r: AVRational) { self.init(num: r.num, den: r.den) }
    /// The value as a Double; 0 when the denominator is 0 (FFmpeg's "unknown").
    public var value: Double { den == 0 ? 0 : Double(num) / Double(den) }
    public var description: String { "\(num)/\(den)" }
}

/// What `vidlabel probe` reports about a file's main video stream.
public struct VideoInfo: Codable, Sendable {
    public let path: String
    public let sizeBytes: Int64
    /// Demuxer name(s), e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    public let container: String
    public let durationS: Double?
    public let codec: String
    public let codedWidth: Int
    public let codedHeight: Int
    /// Size of upright frames: sample aspect ratio and rotation applied.
    public let displayWidth: Int
    public let displayHeight: Int
    /// Degrees clockwise the coded frames are turned to display them upright
    /// (0, 90, 180 or 270; what players and `ffmpeg` autorotate do).
    public let rotation: Int
    public let sampleAspectRatio: Rational
    public let avgFps: Double?
    public let realFps: Double?
    public let pixelFormat: String
    public let bitDepth: Int
    /// Frame count from the container header, when it has one.
    public let frameCount: Int?
    public let hasAudio: Bool
    public let timeBase: Rational
    public let startTimeS: Double

    enum CodingKeys: String, CodingKey {
        case path, container, codec, rotation
        case sizeBytes = "size_bytes", durationS = "duration_s"
        case codedWidth = "coded_width", codedHeight = "coded_height"
        case displayWidth = "display_width", displayHeight = "display_height"
        case sampleAspectRatio = "sample_aspect_ratio"
        case avgFps = "avg_fps", realFps = "real_fps"
        case pixelFormat = "pixel_format", bitDepth = "bit_depth"
        case frameCount = "frame_count", hasAudio = "has_audio"
        case timeBase = "time_base", startTimeS = "start_time_s"
    }
}

/// What `stat` (following symlinks) says about an input file: a symlinked video
/// is its target's size and modification time, so `--resume` notices a change of
/// the real file and the truncation check compares against the real size.
public struct FileStamp: Sendable, Equatable {
    public let size: Int64
    /// Seconds since 1970, millisecond precision (as reports carry it).
    public let mtime: Double
    /// The path made absolute (not resolved): what FFmpeg is given.
    public let absolutePath: String

    /// - Throws: `VideoError` `not_found` (missing, unreadable) or `not_media` (a folder, a FIFO, a device).
    public init(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            throw VideoError(file: path, category: .notFound,
                             reason: code == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(code)))")
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR:
            throw VideoError(file: path, category: .notMedia, reason: "is a folder (`vidlabel batch FOLDER` labels the videos in a folder)")
        default:
            throw VideoError(file: path, category: .notMedia, reason: "not a regular file (a pipe, socket or device is not read)")
        }
        guard access(path, R_OK) == 0 else { throw VideoError(file: path, category: .notFound, reason: "file is not readable") }
        size = Int64(st.st_size)
        mtime = ((Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9) * 1000).rounded() / 1000
        absolutePath = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// An open media file and its chosen video stream. Owns the
/// `AVFormatContext`; closed in `deinit`. Not thread-safe: one reader at a time.
public final class VideoFile {
    public let path: String
    public let info: VideoInfo
    let format: UnsafeMutablePointer<AVFormatContext>
    let stream: UnsafeMutablePointer<AVStream>
    let streamIndex: Int32

    /// Opens `path`, reads the stream headers and picks the main video stream.
    /// - Throws: `VideoError` with category `not_found`, `not_media`,
    ///   `truncated` or `no_video_stream`.
    public init(path: String) throws {
        self.path = path
        av_log_set_level(AV_LOG_QUIET)
        let stamp = try FileStamp(path)
        if stamp.size == 0 {
            throw VideoError(file: path, category: .notMedia, reason: "file is empty")
        }
        let size = stamp.size
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        // A local file only, and only a video (or audio) container: a name such as
        // `http:host`, `pipe:0` or `file:other.mp4` is a path here, never a URL (an
        // absolute path has no scheme, and only the file protocol is allowed), and
        // playlists (HLS, concat), image sequences and FFmpeg's `tty` text "video"
        // are refused before they open anything else.
        var options: OpaquePointer? = nil
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        av_dict_set(&options, "format_whitelist", VideoFile.allowedFormats.joined(separator: ","), 0)
        defer { av_dict_free(&options) }
        let openCode = avformat_open_input(&ctx, stamp.absolutePath, nil, &options)
        guard openCode >= 0, let fmt = ctx else {
            throw VideoFile.classifyOpenFailure(path: path, code: openCode)
        }
        let infoCode = avformat_find_stream_info(fmt, nil)
        if infoCode < 0 {
            avformat_close_input(&ctx)
            throw VideoError(file: path, category: .notMedia, reason: "cannot read stream info: \(avErrorString(infoCode))")
        }
        // The main video stream: skip cover art (attached pictures), prefer the largest picture.
        var best: UnsafeMutablePointer<AVStream>? = nil
        var hasAudio = false
        for i in 0..<Int(fmt.pointee.nb_streams) {
            guard let st = fmt.pointee.streams[i], let par = st.pointee.codecpar else { continue }
            if par.pointee.codec_type == AVMEDIA_TYPE_AUDIO { hasAudio = true }
            guard par.pointee.codec_type == AVMEDIA_TYPE_VIDEO,
                  st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 else { continue }
            if let b = best {
                let bp = b.pointee.codecpar.pointee
                if Int(par.pointee.width) * Int(par.pointee.height) <= Int(bp.width) * Int(bp.height) { continue }
            }
            best = st
        }
        guard let st = best else {
            avformat_close_input(&ctx)
            throw VideoError(file: path, category: .noVideoStream, reason: hasAudio ? "no video stream (audio only)" : "no video stream")
        }
        format = fmt
        stream = st
        streamIndex = st.pointee.index
        info = VideoFile.describe(path: path, size: size, format: fmt, stream: st, hasAudio: hasAudio)
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = format
        avformat_close_input(&ctx)
    }

    /// FFmpeg demuxers a file may open with: video containers and raw video streams,
    /// plus common audio ones (so an audio file is reported as having no video
    /// stream rather than as garbage). Everything else (playlists, image sequences,
    /// `tty`, devices, network formats) is refused.
    public static let allowedFormats = [
        "mov", "mp4", "matroska", "webm", "avi", "flv", "live_flv", "mpegts", "mpeg", "mpegvideo", "asf", "ogg", "mxf",
        "nut", "rm", "wtv", "dv", "gxf", "h264", "hevc", "m4v", "h263", "vc1", "obu", "ivf", "mjpeg", "gif", "yuv4mpegpipe",
        "mp3", "wav", "flac", "aac", "aiff", "ac3", "eac3", "wv", "caf", "w64",
    ]

    /// Open failed: a container FFmpeg recognises from its first bytes but
    /// cannot open is truncated (e.g. mp4 without its moov atom), one it recognises
    /// but we do not allow is refused by name; anything else is not media.
    private static func classifyOpenFailure(path: String, code: Int32) -> VideoError {
        // EINVAL is what a format refused by the whitelist gives: "Invalid argument" says nothing.
        let message = code == vl_averror(EINVAL) ? "no video container recognised" : avErrorString(code)
        if code == vl_averror(ENOENT) || code == vl_averror(EACCES) {
            return VideoError(file: path, category: .notFound, reason: message)
        }
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            let head = handle.readData(ofLength: 4096)
            let recognised: String? = head.withUnsafeBytes { raw -> String? in
                // av_probe_input_format wants AVPROBE_PADDING_SIZE zero bytes after the data.
                var padded = [UInt8](raw.bindMemory(to: UInt8.self))
                let count = padded.count
                padded.append(contentsOf: [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE)))
                return padded.withUnsafeMutableBufferPointer { buf -> String? in
                    var pd = AVProbeData()
                    pd.buf = buf.baseAddress
                    pd.buf_size = Int32(count)
                    var score: Int32 = 0
                    return path.withCString { cpath -> String? in
                        pd.filename = cpath
                        guard let f = av_probe_input_format2(&pd, 1, &score), score >= AVPROBE_SCORE_EXTENSION else { return nil }
                        return String(cString: f.pointee.name)
                    }
                }
            }
            if let name = recognised {
                if !name.split(separator: ",").contains(where: { allowedFormats.contains(String($0)) }) {
                    return VideoError(file: path, category: .notMedia, reason: "\(name) files are not read (only video containers are)")
                }
                return VideoError(file: path, category: .truncated, reason: "\(name) container is incomplete: \(message)")
            }
        }
        return VideoError(file: path, category: .notMedia, reason: "not a recognised media file: \(message)")
    }

    private static func describe(path: String, size: Int64, format fmt: UnsafeMutablePointer<AVFormatContext>,
                                 stream st: UnsafeMutablePointer<AVStream>, hasAudio: Bool) -> VideoInfo {
        let par = st.pointee.codecpar.pointee
        let tb = st.pointee.time_base
        let rotation = displayRotation(st)
        var sar = st.pointee.sample_aspect_ratio
        if sar.num == 0 { sar = par.sample_aspect_ratio }
        let sarValue = (sar.num > 0 && sar.den > 0) ? Double(sar.num) / Double(sar.den) : 1
        let w = Int(par.width), h = Int(par.height)
        let sarWidth = Int((Double(w) * sarValue).rounded())
        let (dw, dh) = rotation % 180 == 0 ? (sarWidth, h) : (h, sarWidth)
        var duration: Double? = nil
        if fmt.pointee.duration > 0 {
            duration = Double(fmt.pointee.duration) / Double(AV_TIME_BASE)
        } else if st.pointee.duration > 0 {
            duration = Double(st.pointee.duration) * Rational(tb).value
        }
        let pixFmt = AVPixelFormat(par.format)
        var depth = 8
        var pixName = "unknown"
        if let desc = av_pix_fmt_desc_get(pixFmt) {
            depth = Int(desc.pointee.comp.0.depth)
            pixName = String(cString: desc.pointee.name)
        }
        let fps: (AVRational) -> Double? = { r in r.num > 0 && r.den > 0 ? Double(r.num) / Double(r.den) : nil }
        let start = st.pointee.start_time == vl_nopts_value() ? 0 : Double(st.pointee.start_time) * Rational(tb).value
        return VideoInfo(
            path: path, sizeBytes: size,
            container: String(cString: fmt.pointee.iformat.pointee.name),
            durationS: duration,
            codec: String(cString: avcodec_get_name(par.codec_id)),
            codedWidth: w, codedHeight: h, displayWidth: dw, displayHeight: dh,
            rotation: rotation, sampleAspectRatio: Rational(num: sar.num > 0 ? sar.num : 1, den: sar.den > 0 ? sar.den : 1),
            avgFps: fps(st.pointee.avg_frame_rate), realFps: fps(st.pointee.r_frame_rate),
            pixelFormat: pixName, bitDepth: depth,
            frameCount: st.pointee.nb_frames > 0 ? Int(st.pointee.nb_frames) : nil,
            hasAudio: hasAudio, timeBase: Rational(tb), startTimeS: start)
    }

    /// Clockwise display rotation from the stream's display matrix, as ffmpeg's
    /// autorotate computes it: `-av_display_rotation_get`, snapped to a multiple of 90.
    private static func displayRotation(_ st: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let raw = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return 0 }
        let angle = raw.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard angle.isFinite else { return 0 }
        let cw = Int((-angle / 90).rounded()) * 90
        return ((cw % 360) + 360) % 360
    }

    /// Seconds since the stream start for a timestamp in the stream's time base.
    func seconds(_ ts: Int64) -> Double {
        let tb = stream.pointee.time_base
        let start = stream.pointee.start_time == vl_nopts_value() ? 0 : stream.pointee.start_time
        guard tb.den != 0 else { return 0 }
        // In Double: a corrupt timestamp minus the start may not fit an Int64.
        return (Double(ts) - Double(start)) * Double(tb.num) / Double(tb.den)
    }

    /// The stream timestamp for `seconds` since the stream start.
    /// Clamped to ±2^62: a file's time base and start time are untrusted, and a
    /// Double beyond Int64 would trap in the conversion.
    func timestamp(_ seconds: Double) -> Int64 {
        let tb = stream.pointee.time_base
        let start = stream.pointee.start_time == vl_nopts_value() ? 0 : stream.pointee.start_time
        guard tb.num > 0, tb.den > 0 else { return start }
        let ticks = (seconds * Double(tb.den) / Double(tb.num)).rounded(.down)
        let limit = Double(Int64(1) << 62)
        let clamped = ticks.isNaN ? 0 : Int64(min(max(ticks, -limit), limit))
        let (sum, overflow) = start.addingReportingOverflow(clamped)
        return overflow ? (clamped > 0 ? Int64.max : Int64.min) : sum
    }

    /// Probes a file without keeping it open.
    public static func probe(_ path: String) throws -> VideoInfo {
        try VideoFile(path: path).info
    }
}
