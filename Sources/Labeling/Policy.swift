import Foundation

/// A label policy for `vidlabel check`, e.g.
/// `{"deny": [{"label": "sexual", "score_over": 0.8, "min_duration_s": 1.0}],
///   "require": [{"topic": "music", "min_score": 0.2}]}`.
///
/// - deny: `label` is a moderation label or a topic; violated when frames whose
///   score is over `score_over` span at least `min_duration_s` seconds (default 0:
///   any frame). Spans use the report's rule: a frame stands until the next one.
/// - require: `topic` (summary score, the mean over frames) or `label`
///   (moderation max score) must reach `min_score`.
public struct Policy: Codable, Sendable {
    public struct Deny: Codable, Sendable {
        public var label: String
        public var scoreOver: Double
        public var minDurationS: Double?
        enum CodingKeys: String, CodingKey { case label; case scoreOver = "score_over"; case minDurationS = "min_duration_s" }
    }
    public struct Require: Codable, Sendable {
        public var topic: String?
        public var label: String?
        public var minScore: Double
        enum CodingKeys: String, CodingKey { case topic, label; case minScore = "min_score" }
    }
    public var deny: [Deny]?
    public var require: [Require]?

    public static func load(_ path: String) throws -> Policy {
        guard let data = FileManager.default.contents(atPath: path) else { throw DiffError("\(path): cannot read the policy") }
        do {
            let p = try JSONDecoder().decode(Policy.self, from: data)
            for r in p.require ?? [] where (r.topic == nil) == (r.label == nil) {
                throw DiffError("each require rule needs exactly one of \"topic\" or \"label\"")
            }
            return p
        } catch let e as DiffError { throw DiffError("\(path): \(e.description)") } catch {
            throw DiffError("\(path): not a valid policy: \(error)")
        }
    }

    /// A broken rule, with the time span when there is one.
    public struct Violation: Codable, Sendable {
        public var rule: String
        public var message: String
        public var startS: Double?
        public var endS: Double?
        enum CodingKeys: String, CodingKey { case rule, message; case startS = "start_s"; case endS = "end_s" }
    }

    public func check(_ report: Report) -> [Violation] {
        var out: [Violation] = []
        let frames = report.frames ?? []
        let ends = coverageEnds(times: frames.map(\.timeS), duration: report.video.durationS)
        func score(_ f: Report.Frame, _ label: String) -> Double? {
            if let m = f.moderation[label] { return m }
            if let t = f.topics.first(where: { $0.label == label }) { return t.score }
            return f.topics.isEmpty ? nil : 0 // a topic outside a frame's top 3 scores below them
        }
        for rule in deny ?? [] {
            let name = "deny \(rule.label) over \(rule.scoreOver)"
            if frames.isEmpty {
                // No per-frame data (--no-frames): judge by the summary, without times.
                let mx = report.summary.moderation.first { $0.label == rule.label }?.maxScore
                    ?? report.summary.topics.first { $0.label == rule.label }?.score ?? 0
                if mx > rule.scoreOver {
                    out.append(Violation(rule: name, message: "\(rule.label) max score \(round4(mx)) > \(rule.scoreOver) (report has no frames: no times)", startS: nil, endS: nil))
                }
                continue
            }
            var i = 0
            while i < frames.count {
                guard (score(frames[i], rule.label) ?? 0) > rule.scoreOver else { i += 1; continue }
                var j = i, best = score(frames[i], rule.label) ?? 0
                while j + 1 < frames.count, let s = score(frames[j + 1], rule.label), s > rule.scoreOver { j += 1; best = max(best, s) }
                let start = frames[i].timeS, end = ends[j]
                if end - start >= (rule.minDurationS ?? 0) {
                    out.append(Violation(rule: name, message: String(format: "%@ over %.4g from %.2f s to %.2f s (max %.4f)", rule.label, rule.scoreOver, start, end, best),
                                         startS: round4(start), endS: round4(end)))
                }
                i = j + 1
            }
        }
        for rule in require ?? [] {
            if let topic = rule.topic {
                let s = report.summary.topics.first { $0.label == topic }?.score ?? 0
                if s < rule.minScore {
                    out.append(Violation(rule: "require topic \(topic) >= \(rule.minScore)", message: "topic \(topic) score \(round4(s)) < \(rule.minScore)", startS: nil, endS: nil))
                }
            } else if let label = rule.label {
                let s = report.summary.moderation.first { $0.label == label }?.maxScore ?? 0
                if s < rule.minScore {
                    out.append(Violation(rule: "require \(label) >= \(rule.minScore)", message: "\(label) max score \(round4(s)) < \(rule.minScore)", startS: nil, endS: nil))
                }
            }
        }
        return out
    }
}
