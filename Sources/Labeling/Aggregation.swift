/// Per-frame scores, before they become a report.
public struct FrameScores: Sendable {
    public var timeS: Double
    public var pts: Int64
    public var keyFrame: Bool
    /// In `Taxonomy.moderation` order.
    public var moderation: [Double]
    /// In `Taxonomy.topics` order.
    public var topics: [Double]
    /// Top-k ImageNet classes (index, probability), best first.
    public var classes: [(Int, Double)]
    /// Top-k classes of a custom model, if one is used.
    public var custom: [(Int, Double)]?
    /// The custom model's full probability vector (summary needs every class).
    public var customAll: [Float]?
    /// Faces found, best first (nil: the faces analyzer did not run).
    public var faces: [Face]? = nil
    /// Text lines read, in reading order (nil: the text analyzer did not run).
    public var text: [TextLine]? = nil
    /// NudeNet's detections, best first (nil: the nudity analyzer did not run).
    public var detections: [Detection]? = nil
    /// In `NudityTaxonomy.labels` order (nil: the nudity analyzer did not run).
    public var nudity: [Double]? = nil

    /// A sampled frame before any analyzer ran.
    init(timeS: Double, pts: Int64, keyFrame: Bool) {
        (self.timeS, self.pts, self.keyFrame) = (timeS, pts, keyFrame)
        (moderation, topics, classes, custom, customAll) = ([], [], [], nil, nil)
    }
}

/// Time each sampled frame's coverage ends: the next frame's time, or the video
/// end for the last one. Segments (`Aggregator`) and policy spans (`Policy`) both use it.
public func coverageEnds(times: [Double], duration: Double?) -> [Double] {
    times.indices.map { i in i + 1 < times.count ? times[i + 1] : max(duration ?? times[i], times[i]) }
}

/// Turns frame scores into segments and the whole-video summary.
///
/// Segments: each sampled frame stands for the time until the next sampled
/// frame (the last one until the end of the video), so a run of frames over a
/// threshold covers [first frame, frame after the run). Runs closer than
/// `mergeGap` seconds are merged.
public struct Aggregator: Sendable {
    public var thresholds: [String: Double]
    public var minDuration: Double
    public var mergeGap: Double

    public init(thresholds: [String: Double] = [:], minDuration: Double = 0, mergeGap: Double = 1.0) {
        var t: [String: Double] = [:]
        for label in Taxonomy.moderation { t[label.name] = thresholds[label.name] ?? label.defaultThreshold }
        for label in NudityTaxonomy.labels { t[label.name] = thresholds[label.name] ?? label.defaultThreshold }
        self.thresholds = t
        self.minDuration = minDuration
        self.mergeGap = mergeGap
    }


    /// Runs of frames where `active(i)` holds, as segments, merged across short gaps.
    func runs(_ frames: [FrameScores], ends: [Double], label: String, kind: String,
              active: (Int) -> Bool, score: (Int) -> Double) -> [Report.Segment] {
        var out: [Report.Segment] = []
        var i = 0
        while i < frames.count {
            guard active(i) else { i += 1; continue }
            var j = i, best = score(i)
            while j + 1 < frames.count && active(j + 1) { j += 1; best = max(best, score(j)) }
            let seg = Report.Segment(label: label, kind: kind, startS: frames[i].timeS, endS: ends[j], maxScore: best)
            if var last = out.last, seg.startS - last.endS < mergeGap {
                last.endS = seg.endS
                last.maxScore = max(last.maxScore, seg.maxScore)
                out[out.count - 1] = last
            } else {
                out.append(seg)
            }
            i = j + 1
        }
        return out
    }

    /// The moderation summary, one entry per label in taxonomy order, and the
    /// runs over each label's threshold (rounded; by label, then start time).
    func moderation(_ frames: [FrameScores], ends: [Double]) -> (summary: [Report.ModerationSummary], segments: [Report.Segment]) {
        labels(Taxonomy.moderation.map(\.name), frames, ends: ends) { $0.moderation }
    }

    /// The summary of thresholded labels `names` (a frame's scores in that order from
    /// `scores`) and their runs over threshold: moderation and nudity labels alike.
    func labels(_ names: [String], _ frames: [FrameScores], ends: [Double],
                scores frameScores: (FrameScores) -> [Double]) -> (summary: [Report.ModerationSummary], segments: [Report.Segment]) {
        let n = Double(max(frames.count, 1))
        var summary: [Report.ModerationSummary] = []
        var segments: [Report.Segment] = []
        let all = frames.map(frameScores)
        for (li, name) in names.enumerated() {
            let threshold = thresholds[name]!
            let scores = all.map { li < $0.count ? $0[li] : 0 }
            let segs = runs(frames, ends: ends, label: name, kind: "moderation",
                            active: { scores[$0] >= threshold }, score: { scores[$0] })
            let flagged = segs.contains { $0.endS - $0.startS >= minDuration || minDuration <= 0 }
            segments += segs
            summary.append(Report.ModerationSummary(label: name, maxScore: round4(scores.max() ?? 0),
                                                    meanScore: round4(scores.reduce(0, +) / n), flagged: flagged,
                                                    threshold: threshold))
        }
        return (summary, segments.map(roundSegment))
    }

    /// The topic summary, by score, and the runs where each topic leads (rounded; by start time).
    func topics(_ frames: [FrameScores], ends: [Double]) -> (summary: [Report.TopicSummary], segments: [Report.Segment]) {
        let n = Double(max(frames.count, 1))
        let topicCount = Taxonomy.topics.count
        let leader = frames.map { f in (0..<topicCount).max { f.topics[$0] < f.topics[$1] || (f.topics[$0] == f.topics[$1] && $0 > $1) }! }
        var topics: [Report.TopicSummary] = []
        var topicSegments: [Report.Segment] = []
        for t in 0..<topicCount {
            let mean = frames.map { $0.topics[t] }.reduce(0, +) / n
            let lead = Double(leader.filter { $0 == t }.count) / n
            topics.append(Report.TopicSummary(label: Taxonomy.topics[t], score: round4(mean), coverage: round4(lead)))
            topicSegments += runs(frames, ends: ends, label: Taxonomy.topics[t], kind: "topic",
                                  active: { leader[$0] == t }, score: { frames[$0].topics[t] })
        }
        topics.sort { ($0.score, $1.label) > ($1.score, $0.label) }
        topicSegments.sort { ($0.startS, $0.label) < ($1.startS, $1.label) }
        return (topics, topicSegments.map(roundSegment))
    }

    /// A custom model's `topK` classes by mean probability over the frames.
    func custom(_ frames: [FrameScores], names: [String], topK: Int) -> [Report.CustomSummary]? {
        guard let first = frames.first?.customAll else { return nil }
        let n = Double(max(frames.count, 1))
        var sum = [Double](repeating: 0, count: first.count), mx = [Double](repeating: 0, count: first.count)
        for f in frames { for (i, p) in (f.customAll ?? []).enumerated() { sum[i] += Double(p); mx[i] = max(mx[i], Double(p)) } }
        return sum.indices.sorted { (sum[$0], -$0) > (sum[$1], -$1) }.prefix(topK).map {
            Report.CustomSummary(id: $0, name: $0 < names.count ? names[$0] : "class \($0)", meanScore: round4(sum[$0] / n), maxScore: round4(mx[$0]))
        }
    }

    private func roundSegment(_ s: Report.Segment) -> Report.Segment {
        Report.Segment(label: s.label, kind: s.kind, startS: round4(s.startS), endS: round4(s.endS), maxScore: round4(s.maxScore))
    }
}
