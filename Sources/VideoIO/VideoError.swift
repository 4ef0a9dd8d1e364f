import CFFmpeg

/// A failure to read a video, with the file, a stable category scripts can
/// match on, and the human-readable reason (usually FFmpeg's own message).
public struct VideoError: Error, CustomStringConvertible, Sendable {
    /// Stable, machine-readable failure classes. Their raw values appear in JSON output.
    public enum Category: String, Codable, Sendable {
        /// The path does not exist or cannot be read.
        case notFound = "not_found"
        /// The file is not a media container FFmpeg recognises (garbage, empty, text...).
        case notMedia = "not_media"
        /// A media file without any video stream (e.g. audio only).
        case noVideoStream = "no_video_stream"
        /// A video stream from which no frame could be decoded (empty track, or nothing in range).
        case noFrames = "no_frames"
        /// The container is recognised but cut short (e.g. an mp4 missing its moov atom).
        case truncated = "truncated"
        /// The codec is unsupported or decoding failed for every packet.
        case decodeFailed = "decode_failed"
        /// The file took longer than its time budget (`--timeout`).
        case timeout = "timeout"
    }

    public let file: String
    public let category: Category
    public let reason: String

    public init(file: String, category: Category, reason: String) {
        self.file = file
        self.category = category
        self.reason = reason
    }

    /// One line: `FILE: reason (category)`.
    public var description: String { "\(file): \(reason) (\(category.rawValue))" }
}

/// A non-fatal problem met while decoding (a corrupt packet that was skipped,
/// a file that ends early); reported alongside the frames that were sampled.
public struct DecodeWarning: Codable, Sendable, Equatable {
    /// Same vocabulary as `VideoError.Category` (e.g. `decode_failed`, `truncated`).
    public let category: String
    public let message: String
    /// Stream time of the packet or frame concerned, when known.
    public let timeS: Double?

    public init(category: String, message: String, timeS: Double?) {
        self.category = category
        self.message = message
        self.timeS = timeS
    }

    enum CodingKeys: String, CodingKey {
        case category, message
        case timeS = "time_s"
    }
}

/// FFmpeg's text for an error code (what `av_err2str` gives in C).
func avErrorString(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    vl_strerror(code, &buf, buf.count)
    return String(cString: buf)
}
