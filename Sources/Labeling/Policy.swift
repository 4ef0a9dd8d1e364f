import Foundation

/// A policy file that is valid JSON but not a valid policy.
public struct PolicyError: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A label policy for `vidlabel check`, e.g.
/// `{"deny": [{"label": "sexual", "score_over": 0.8, "min_duration_s": 1.0}],
///   "require": [{"topic": "music", "min_score": 0.2}]}`.
///
/// - deny: `label` is a moderation label or a topic; violated when frames whose
///   score is over `score_over` span at least `min_duration_s` seconds (default 0:
///   any frame). Spans use the report's rule: a frame stands until the next one.
/// - require: `topic` (summary score, the mean over frames) or `label`
///   (moderation max score) must reach `min_score`.
/// - The analyzers' labels:
///   - `faces` (faces analyzer): deny frames whose best face scores over
///     `score_over`; require a share of sampled frames with a face of at least `min_score`.
///   - `text` (text analyzer): deny frames with a line read more confidently than
///     `score_over`; require some line read with at least `min_score`.
///   - `nudity.explicit` and the other `NudityTaxonomy` labels (nudity analyzer):
///     as moderation labels, each frame scored by its best detection of the label's parts.
///   - `black_frames` (cues analyzer): deny runs of black frames of at least
///     `min_duration_s` (`score_over` applies to the run's share of dark pixels).
///
///   A rule on an analyzer the report was not made with is broken: a gate must not
///   pass because nothing looked.
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

    public init(deny: [Deny]?, require: [Require]?) {
        self.deny = deny
        self.require = require
    }

    /// Reads and checks a policy file. Strict, because a gate must fail closed: an
    /// unknown or misspelt key, a missing one, a value of the wrong type or range,
    /// an unknown label or topic name, or a policy with no rule at all is an error
    /// naming the rule and the key (`policy.json: deny[0]: missing "score_over"`).
    /// - Throws: `DiffError` with that one-line message.
    public static func load(_ path: String) throws -> Policy {
        guard let data = FileManager.default.contents(atPath: path) else { throw DiffError("\(path): cannot read the policy") }
        do { return try parse(data) } catch let e as PolicyError {
            throw DiffError("\(path): \(e.message)")
        } catch {
            throw DiffError("\(path): \(error)")
        }
    }

    /// Parses policy JSON. - Throws: `PolicyError` or `JSONSyntaxError`.
    public static func parse(_ data: Data) throws -> Policy {
        guard case .object(let top) = try JSONValue.parse(data) else { throw PolicyError("the policy must be a JSON object with \"deny\" and/or \"require\" lists") }
        try onlyKeys(top, ["deny", "require"], at: "the policy")
        func rules(_ key: String) throws -> [[String: JSONValue]]? {
            guard let v = top[key] else { return nil }
            guard case .array(let items) = v else { throw PolicyError("\"\(key)\" must be a list of rules, got \(v.typeName)") }
            return try items.enumerated().map { i, item in
                guard case .object(let o) = item else { throw PolicyError("\(key)[\(i)]: a rule must be an object, got \(item.typeName)") }
                return o
            }
        }
        let deny = try rules("deny")?.enumerated().map { i, o -> Deny in
            let at = "deny[\(i)]"
            try onlyKeys(o, ["label", "score_over", "min_duration_s"], at: at)
            let label = try string(o, "label", at: at)
            try known(label, at: at, names: Taxonomy.moderation.map(\.name) + Taxonomy.topics + [facesLabel, textLabel, Report.blackFramesLabel]
                        + nudityLabels, what: "label or topic")
            return Deny(label: label, scoreOver: try number(o, "score_over", at: at, in: 0...1),
                        minDurationS: try o["min_duration_s"].map { _ in try number(o, "min_duration_s", at: at, in: 0...(7 * 86_400)) })
        }
        let require = try rules("require")?.enumerated().map { i, o -> Require in
            let at = "require[\(i)]"
            try onlyKeys(o, ["topic", "label", "min_score"], at: at)
            guard (o["topic"] == nil) != (o["label"] == nil) else { throw PolicyError("\(at): give exactly one of \"topic\" or \"label\"") }
            let score = try number(o, "min_score", at: at, in: 0...1)
            if o["topic"] != nil {
                let topic = try string(o, "topic", at: at)
                try known(topic, at: at, names: Taxonomy.topics, what: "topic")
                return Require(topic: topic, label: nil, minScore: score)
            }
            let label = try string(o, "label", at: at)
            try known(label, at: at, names: Taxonomy.moderation.map(\.name) + [facesLabel, textLabel] + nudityLabels,
                      what: "moderation label, faces, text or nudity label")
            return Require(topic: nil, label: label, minScore: score)
        }
        if (deny ?? []).isEmpty && (require ?? []).isEmpty {
            throw PolicyError("the policy has no rules: a check against it could never fail")
        }
        return Policy(deny: deny, require: require)
    }

    private static func onlyKeys(_ o: [String: JSONValue], _ allowed: [String], at: String) throws {
        for key in o.keys.sorted() where !allowed.contains(key) {
            let near = allowed.min { editDistance($0, key) < editDistance($1, key) }.flatMap { editDistance($0, key) <= 3 ? $0 : nil }
            throw PolicyError("\(at): unknown key \"\(key)\"\(near.map { " (did you mean \"\($0)\"?)" } ?? "") (keys: \(allowed.joined(separator: ", ")))")
        }
    }

    private static func string(_ o: [String: JSONValue], _ key: String, at: String) throws -> String {
        guard let v = o[key] else { throw PolicyError("\(at): missing \"\(key)\"") }
        guard case .string(let s) = v else { throw PolicyError("\(at): \"\(key)\" must be a string, got \(v.typeName)") }
        return s
    }

    private static func number(_ o: [String: JSONValue], _ key: String, at: String, in range: ClosedRange<Double>) throws -> Double {
        guard let v = o[key] else { throw PolicyError("\(at): missing \"\(key)\"") }
        guard case .number(let x) = v else { throw PolicyError("\(at): \"\(key)\" must be a number, got \(v.typeName)") }
        guard range.contains(x) else { throw PolicyError("\(at): \"\(key)\" must be from \(range.lowerBound) to \(range.upperBound), got \(x)") }
        return x
    }

    private static func known(_ name: String, at: String, names: [String], what: String) throws {
        guard !names.contains(name) else { return }
        throw PolicyError("\(at): unknown \(what) \"\(name)\"\(Taxonomy.suggestion(for: name, among: names).map { " (did you mean \"\($0)\"?)" } ?? ""); valid: \(names.joined(separator: ", "))")
    }

    /// A broken rule, with the time span when there is one.
    public struct Violation: Codable, Sendable {
        public var rule: String
        public var message: String
        public var startS: Double?
        public var endS: Double?
        enum CodingKeys: String, CodingKey { case rule, message; case startS = "start_s"; case endS = "end_s" }
    }

    /// The faces analyzer's label in policies.
    static let facesLabel = "faces"
    /// The text analyzer's label in policies.
    static let textLabel = "text"
    static var nudityLabels: [String] { NudityTaxonomy.labels.map(\.name) }

    public func check(_ report: Report) -> [Violation] {
        var out: [Violation] = []
        let frames = report.frames ?? []
        let ends = coverageEnds(times: frames.map(\.timeS), duration: report.video.durationS)
        func notLookedFor(_ rule: String, _ what: String, _ analyzer: String) -> Violation {
            Violation(rule: rule, message: "\(what) were not looked for (scan with --analyzers moderation,topics,\(analyzer))", startS: nil, endS: nil)
        }
        /// What a rule on `label` needs and the analyzer that finds it, when the report
        /// was made without that analyzer: the rule is broken, not passed.
        func unseen(_ label: String) -> (what: String, analyzer: String)? {
            switch label {
            case Report.blackFramesLabel: report.summary.cues == nil ? ("black frames", "cues") : nil
            case Policy.facesLabel: report.summary.people == nil ? ("faces", "faces") : nil
            case Policy.textLabel: report.summary.text == nil ? ("text lines", "text") : nil
            case _ where Policy.nudityLabels.contains(label): report.summary.nudity == nil ? ("body parts", "nudity") : nil
            default: nil
            }
        }
        func score(_ f: Report.Frame, _ label: String) -> Double? {
            if label == Policy.facesLabel { return f.faces?.map(\.score).max() ?? 0 }
            if label == Policy.textLabel { return f.textScore ?? 0 }
            if let m = f.score(of: label) { return m }
            if let t = f.topics.first(where: { $0.label == label }) { return t.score }
            return f.topics.isEmpty ? nil : 0 // a topic outside a frame's top 3 scores below them
        }
        for rule in deny ?? [] {
            let name = "deny \(rule.label) over \(rule.scoreOver)"
            if let missing = unseen(rule.label) {
                out.append(notLookedFor(name, missing.what, missing.analyzer))
                continue
            }
            if rule.label == Report.blackFramesLabel {
                for s in report.segments where s.kind == "cue" && s.label == rule.label && s.maxScore > rule.scoreOver
                    && s.endS - s.startS >= (rule.minDurationS ?? 0) {
                    out.append(Violation(rule: name, message: String(format: "black frames from %.2f s to %.2f s", s.startS, s.endS),
                                         startS: s.startS, endS: s.endS))
                }
                continue
            }
            if frames.isEmpty {
                // No per-frame data (--no-frames): judge by the summary, without times.
                let mx = report.thresholdedLabels.first { $0.label == rule.label }?.maxScore
                    ?? report.summary.topics.first { $0.label == rule.label }?.score
                    ?? (rule.label == Policy.textLabel ? report.summary.text?.map(\.maxScore).max() : nil) ?? 0
                // A face rule cannot be judged without frames: broken, not passed.
                if rule.label == Policy.facesLabel {
                    out.append(Violation(rule: name, message: "faces need per-frame results (report has no frames)", startS: nil, endS: nil))
                } else if mx > rule.scoreOver {
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
            if let label = rule.label, let missing = unseen(label) {
                out.append(notLookedFor("require \(label) >= \(rule.minScore)", missing.what, missing.analyzer))
            } else if let topic = rule.topic {
                let s = report.summary.topics.first { $0.label == topic }?.score ?? 0
                if s < rule.minScore {
                    out.append(Violation(rule: "require topic \(topic) >= \(rule.minScore)", message: "topic \(topic) score \(round4(s)) < \(rule.minScore)", startS: nil, endS: nil))
                }
            } else if rule.label == Policy.facesLabel, let people = report.summary.people {
                if people.faceFrameFraction < rule.minScore {
                    out.append(Violation(rule: "require faces >= \(rule.minScore)", message: String(format: "faces in %.4g of the sampled frames < %.4g", people.faceFrameFraction, rule.minScore),
                                         startS: nil, endS: nil))
                }
            } else if rule.label == Policy.textLabel, let text = report.summary.text {
                let best = text.map(\.maxScore).max() ?? 0
                if best < rule.minScore {
                    out.append(Violation(rule: "require text >= \(rule.minScore)", message: text.isEmpty ? "no text was read" : String(format: "the best text line scores %.4g < %.4g", best, rule.minScore),
                                         startS: nil, endS: nil))
                }
            } else if let label = rule.label {
                let s = report.thresholdedLabels.first { $0.label == label }?.maxScore ?? 0
                if s < rule.minScore {
                    out.append(Violation(rule: "require \(label) >= \(rule.minScore)", message: "\(label) max score \(round4(s)) < \(rule.minScore)", startS: nil, endS: nil))
                }
            }
        }
        return out
    }
}
