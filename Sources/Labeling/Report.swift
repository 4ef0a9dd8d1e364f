/// The JSON report of one video (`schema_version` 1; Schemas/report.schema.json).
/// Keys are snake_case and written sorted; floats rounded to 4 decimals, so
/// two runs on the same input give identical bytes.
public struct Report: Codable, Sendable {
    public struct Tool: Codable, Sendable { public var name: String; public var version: String }
    public struct FileInfo: Codable, Sendable {
        public var path: String
        public var sizeBytes: Int64
        /// Modification time, seconds since 1970 (set by `batch`, for `--resume`).
        public var mtime: Double?
        enum CodingKeys: String, CodingKey { case path; case sizeBytes = "size_bytes"; case mtime }
    }
    public struct Video: Codable, Sendable {
        public var durationS: Double?
        public var width: Int
        public var height: Int
        public var rotation: Int
        public var codec: String
        public var avgFps: Double?
        enum CodingKeys: String, CodingKey { case durationS = "duration_s"; case width, height, rotation, codec; case avgFps = "avg_fps" }
    }
    public struct Sampling: Codable, Sendable {
        public struct Params: Codable, Sendable {
            public var intervalS: Double?
            public var sceneThreshold: Double?
            public var minInterval: Double?
            public var maxGap: Double?
            public var maxFrames: Int?
            public var start: Double?
            public var end: Double?
            enum CodingKeys: String, CodingKey {
                case intervalS = "interval_s", sceneThreshold = "scene_threshold", minInterval = "min_interval"
                case maxGap = "max_gap", maxFrames = "max_frames", start, end
            }
        }
        public var mode: String
        public var params: Params
        public var framesSampled: Int
        enum CodingKeys: String, CodingKey { case mode; case framesSampled = "frames_sampled"; case params }
    }
    public struct ModelInfo: Codable, Sendable { public var name: String; public var task: String; public var sha256: String }
    public struct ModerationSummary: Codable, Sendable {
        public var label: String
        public var maxScore: Double
        public var meanScore: Double
        public var flagged: Bool
        public var threshold: Double
        enum CodingKeys: String, CodingKey { case label; case maxScore = "max_score"; case meanScore = "mean_score"; case flagged, threshold }
    }
    public struct TopicSummary: Codable, Sendable {
        public var label: String
        /// Mean of the topic's frame score over all sampled frames.
        public var score: Double
        /// Fraction of sampled frames where this topic has the highest score.
        public var coverage: Double
    }
    public struct ClassScore: Codable, Sendable { public var id: Int; public var name: String; public var score: Double }
    public struct CustomSummary: Codable, Sendable {
        public var id: Int
        public var name: String
        public var meanScore: Double
        public var maxScore: Double
        enum CodingKeys: String, CodingKey { case id, name; case meanScore = "mean_score"; case maxScore = "max_score" }
    }
    /// The faces analyzer's summary.
    public struct PeopleSummary: Codable, Sendable, Equatable {
        /// The most faces in one sampled frame.
        public var maxFaces: Int
        /// Sampled frames with at least one face, and their fraction of all sampled frames.
        public var framesWithFaces: Int
        public var faceFrameFraction: Double
        enum CodingKeys: String, CodingKey { case maxFaces = "max_faces", framesWithFaces = "frames_with_faces", faceFrameFraction = "face_frame_fraction" }

        init(_ frames: [FrameScores]) {
            let counts = frames.map { $0.faces?.count ?? 0 }
            maxFaces = counts.max() ?? 0
            framesWithFaces = counts.filter { $0 > 0 }.count
            faceFrameFraction = frames.isEmpty ? 0 : round4(Double(framesWithFaces) / Double(frames.count))
        }
    }
    /// The cues analyzer's summary: present whenever black frames were looked for,
    /// so "none found" differs from "not looked for".
    public struct CueSummary: Codable, Sendable, Equatable {
        /// Runs of black frames (segments of kind `cue`, label `black_frames`) and their total length.
        public var blackSegments: Int
        public var blackS: Double
        enum CodingKeys: String, CodingKey { case blackSegments = "black_segments", blackS = "black_s" }
    }
    /// One distinct line of on-screen text: the frames where it was read (the same
    /// title on 20 frames is one entry). Lines are the same when they match ignoring
    /// case and runs of spaces; `text` is its first spelling.
    public struct TextSummary: Codable, Sendable, Equatable {
        public var text: String
        public var firstS: Double
        public var lastS: Double
        /// Sampled frames it was read in.
        public var frames: Int
        public var maxScore: Double
        enum CodingKeys: String, CodingKey { case text; case firstS = "first_s"; case lastS = "last_s"; case frames; case maxScore = "max_score" }

        /// The key lines are merged by.
        static func key(_ text: String) -> String {
            text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }

        /// Every distinct line of `frames`, by first sighting (in reading order within a frame).
        static func lines(_ frames: [FrameScores]) -> [TextSummary] {
            var byKey: [String: TextSummary] = [:]
            var order: [String] = []
            for f in frames {
                // A line read twice in one frame counts once for it.
                var seen = Set<String>()
                for line in f.text ?? [] {
                    let k = key(line.text)
                    let first = seen.insert(k).inserted
                    if var s = byKey[k] {
                        s.lastS = round4(f.timeS)
                        if first { s.frames += 1 }
                        s.maxScore = max(s.maxScore, round4(line.score))
                        byKey[k] = s
                    } else {
                        byKey[k] = TextSummary(text: line.text, firstS: round4(f.timeS), lastS: round4(f.timeS), frames: 1, maxScore: round4(line.score))
                        order.append(k)
                    }
                }
            }
            return order.map { byKey[$0]! }
        }
    }
    public struct Summary: Codable, Sendable {
        public var moderation: [ModerationSummary]
        public var topics: [TopicSummary]
        public var custom: [CustomSummary]?
        /// With the faces analyzer only.
        public var people: PeopleSummary?
        /// With the cues analyzer only.
        public var cues: CueSummary? = nil
        /// With the text analyzer only: every distinct line read.
        public var text: [TextSummary]? = nil
        /// With the nudity analyzer only: `NudityTaxonomy`'s labels, as moderation's.
        public var nudity: [ModerationSummary]? = nil
    }
    /// A body part NudeNet found in a frame: its class, score and box [x0, y0, x1,
    /// y1] as fractions of the upright frame's width and height.
    public struct DetectionBox: Codable, Sendable, Equatable {
        public var label: String
        public var score: Double
        public var box: [Double]
        init(_ d: Detection) { label = d.label; score = round4(d.score); box = [d.x0, d.y0, d.x1, d.y1].map(round4) }
    }
    /// A line of text in a frame: what was read, the recogniser's confidence, and
    /// its box [x0, y0, x1, y1] as fractions of the upright frame's width and height.
    public struct TextBox: Codable, Sendable, Equatable {
        public var text: String
        public var score: Double
        public var box: [Double]
        init(_ l: TextLine) { text = l.text; score = round4(l.score); box = [l.x0, l.y0, l.x1, l.y1].map(round4) }
    }
    /// A face in a frame: box [x0, y0, x1, y1] as fractions of the upright frame's
    /// width and height, and its probability.
    public struct FaceBox: Codable, Sendable, Equatable {
        public var box: [Double]
        public var score: Double
        init(_ f: Face) { box = [f.x0, f.y0, f.x1, f.y1].map(round4); score = round4(f.score) }
    }
    public struct Segment: Codable, Sendable, Equatable {
        public var label: String
        /// "moderation", "topic", or "cue" (technical cues: `black_frames`).
        public var kind: String
        public var startS: Double
        public var endS: Double
        /// For a cue, the largest share of dark pixels in one of its frames.
        public var maxScore: Double
        /// Black frames only: the highest mean luma of its frames, 0-1 of the video's luma range.
        public var meanLuma: Double? = nil
        enum CodingKeys: String, CodingKey {
            case label, kind; case startS = "start_s"; case endS = "end_s"; case maxScore = "max_score"; case meanLuma = "mean_luma"
        }
    }
    /// One shot: from its first frame to the next shot's first frame (the last one
    /// to the end of its last frame).
    public struct Shot: Codable, Sendable, Equatable {
        public var startS: Double
        public var endS: Double
        enum CodingKeys: String, CodingKey { case startS = "start_s"; case endS = "end_s" }
    }
    public struct LabelScore: Codable, Sendable { public var label: String; public var score: Double }
    public struct Frame: Codable, Sendable {
        public var timeS: Double
        public var pts: Int64
        public var keyFrame: Bool
        public var moderation: [String: Double]
        public var topics: [LabelScore]
        public var classes: [ClassScore]
        public var custom: [ClassScore]?
        /// With the faces analyzer only, best first.
        public var faces: [FaceBox]? = nil
        /// With the text analyzer only, in reading order.
        public var text: [TextBox]? = nil
        /// With the nudity analyzer only, best first.
        public var detections: [DetectionBox]? = nil
        enum CodingKeys: String, CodingKey {
            case timeS = "time_s", pts, keyFrame = "key_frame"
            case moderation, topics, classes, custom, faces, text, detections
        }
    }
    public struct DecodeError: Codable, Sendable {
        public var category: String
        public var message: String
        public var timeS: Double?
        enum CodingKeys: String, CodingKey { case category, message; case timeS = "time_s" }
    }

    /// The label of black-frame cue segments.
    public static let blackFramesLabel = "black_frames"

    public var schemaVersion = 1
    public var tool: Tool
    public var file: FileInfo
    public var video: Video
    public var sampling: Sampling
    public var models: [ModelInfo]
    public var summary: Summary
    public var segments: [Segment]
    /// The shot list: with `--sample scenes` (from its cuts) or `--shots`; nil otherwise.
    public var shots: [Shot]? = nil
    public var frames: [Frame]?
    public var errors: [DecodeError]
    /// Hash of the options and model files that produced this report (set by `batch`, for `--resume`).
    public var fingerprint: String?

    /// In the schema's order: the encoder writes keys in this order.
    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case tool, file, fingerprint, video, sampling, models, summary, segments, shots, frames, errors
    }
}

/// Rounds to 4 decimals (report floats), so output is stable byte for byte.
@inline(__always)
public func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }

extension Report {
    /// Every label with a threshold: moderation's, then the nudity analyzer's.
    public var thresholdedLabels: [ModerationSummary] { summary.moderation + (summary.nudity ?? []) }
}

extension Report.Frame {
    /// A thresholded label's score in this frame: moderation's from its map, a
    /// nudity label's from the frame's detections (nil when the frame has neither).
    public func score(of label: String) -> Double? {
        if let m = moderation[label] { return m }
        guard let detections, let l = NudityTaxonomy.labels.first(where: { $0.name == label }) else { return nil }
        return NudityTaxonomy.score(l, in: detections.map { (label: $0.label, score: $0.score) })
    }

    /// The best text line's score (0 without text; nil when text was not read).
    public var textScore: Double? { text.map { $0.map(\.score).max() ?? 0 } }
}
