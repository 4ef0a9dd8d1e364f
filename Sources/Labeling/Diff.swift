import Foundation

/// A report or error record as read back from JSON (scan output or batch JSON Lines).
public struct LoadedReport {
    public let path: String
    public let report: Report?
    /// `category: message` for error records.
    public let error: String?

    public init(path: String, report: Report?, error: String?) {
        self.path = path
        self.report = report
        self.error = error
    }
}

/// Reads `scan` JSON (one object, compact or pretty) or `batch` JSON Lines.
public func loadReports(_ file: String) throws -> [LoadedReport] {
    guard let data = FileManager.default.contents(atPath: file) else {
        throw DiffError("\(file): cannot read")
    }
    let decoder = JSONDecoder()
    func parse(_ d: Data) throws -> LoadedReport {
        guard let obj = try JSONSerialization.jsonObject(with: d) as? [String: Any],
              let path = (obj["file"] as? [String: Any])?["path"] as? String else { throw DiffError("not a vidlabel report") }
        if let e = obj["error"] as? [String: Any] {
            return LoadedReport(path: path, report: nil, error: "\(e["category"] ?? "?"): \(e["message"] ?? "")")
        }
        return LoadedReport(path: path, report: try decoder.decode(Report.self, from: d), error: nil)
    }
    if let whole = try? parse(data) { return [whole] }
    var out: [LoadedReport] = []
    for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
        do { out.append(try parse(Data(line))) } catch { throw DiffError("\(file): line \(i + 1) is not a vidlabel report (\(error))") }
    }
    if out.isEmpty { throw DiffError("\(file): no reports in it") }
    return out
}

public struct DiffError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// One difference between a baseline and a current report. Every change listed
/// is beyond tolerance, so any change is a regression for CI.
public struct Change: Codable, Sendable, Equatable {
    /// flag_changed, score_changed, label_added, label_removed, segment_appeared,
    /// segment_disappeared, segment_moved, missing_in_current, missing_in_baseline, error_changed,
    /// faces_appeared, faces_disappeared, faces_changed, text_appeared, text_disappeared,
    /// cut_appeared, cut_disappeared. A report made with an analyzer or a shot list
    /// against one made without is label_added / label_removed (label `faces`,
    /// `text`, `nudity`, `cues` or `shots`).
    public var kind: String
    public var label: String?
    public var message: String
}

/// Per-file result of `vidlabel diff`.
public struct FileDiff: Codable, Sendable {
    public var path: String
    public var changes: [Change]
}

/// Compares reports file by file (matched by path).
public struct ReportDiffer {
    public var scoreTolerance = 0.05
    public var timeTolerance = 0.5
    /// Only these labels (moderation labels or topics); nil: all.
    public var labels: Set<String>? = nil

    public init(scoreTolerance: Double = 0.05, timeTolerance: Double = 0.5, labels: Set<String>? = nil) {
        self.scoreTolerance = scoreTolerance
        self.timeTolerance = timeTolerance
        self.labels = labels
    }

    func wanted(_ label: String) -> Bool { labels?.contains(label) ?? true }

    /// Files whose two reports were made in ways that make scores incomparable
    /// (another sampling or other model files): listed as warnings, so a "no
    /// change" or a regression is not read at face value.
    public func comparabilityWarnings(baseline: [LoadedReport], current: [LoadedReport]) -> [String] {
        let cur = Dictionary(current.map { ($0.path, $0) }, uniquingKeysWith: { _, b in b })
        var out: [String] = []
        for b in baseline {
            guard let br = b.report, let cr = cur[b.path]?.report else { continue }
            if br.sampling.mode != cr.sampling.mode || !sameParams(br.sampling.params, cr.sampling.params) {
                out.append("\(b.path): sampled differently (baseline \(describe(br.sampling)), current \(describe(cr.sampling))): scores and segments are not comparable")
            }
            let bm = br.models.map { "\($0.name) \($0.sha256.prefix(12))" }, cm = cr.models.map { "\($0.name) \($0.sha256.prefix(12))" }
            if bm != cm {
                out.append("\(b.path): made with other models (baseline \(bm.joined(separator: ", ")), current \(cm.joined(separator: ", ")))")
            }
        }
        return out
    }

    private func sameParams(_ a: Report.Sampling.Params, _ b: Report.Sampling.Params) -> Bool {
        a.intervalS == b.intervalS && a.sceneThreshold == b.sceneThreshold && a.minInterval == b.minInterval && a.maxGap == b.maxGap
            && a.maxFrames == b.maxFrames && a.start == b.start && a.end == b.end
    }

    private func describe(_ s: Report.Sampling) -> String {
        let p = s.params
        let parts: [String?] = [p.intervalS.map { "every \($0) s" }, p.sceneThreshold.map { "threshold \($0)" },
                                p.maxGap.map { "max gap \($0) s" }, p.maxFrames.map { "max \($0) frames" },
                                p.start.map { "from \($0) s" }, p.end.map { "to \($0) s" }]
        return ([s.mode] + parts.compactMap { $0 }).joined(separator: ", ")
    }

    public func diff(baseline: [LoadedReport], current: [LoadedReport]) -> [FileDiff] {
        let base = Dictionary(baseline.map { ($0.path, $0) }, uniquingKeysWith: { _, b in b })
        let cur = Dictionary(current.map { ($0.path, $0) }, uniquingKeysWith: { _, b in b })
        var out: [FileDiff] = []
        for path in Set(base.keys).union(cur.keys).sorted() {
            guard let b = base[path] else {
                out.append(FileDiff(path: path, changes: [Change(kind: "missing_in_baseline", label: nil, message: "file is not in the baseline")]))
                continue
            }
            guard let c = cur[path] else {
                out.append(FileDiff(path: path, changes: [Change(kind: "missing_in_current", label: nil, message: "file is missing from the current results")]))
                continue
            }
            out.append(FileDiff(path: path, changes: compare(b, c)))
        }
        return out
    }

    func compare(_ b: LoadedReport, _ c: LoadedReport) -> [Change] {
        guard let br = b.report, let cr = c.report else {
            if b.error != c.error {
                return [Change(kind: "error_changed", label: nil, message: "was \(b.error ?? "ok"), now \(c.error ?? "ok")")]
            }
            return []
        }
        var changes: [Change] = []
        let f = { (x: Double) in String(format: "%.4f", x) }
        // Moderation labels and, when both looked for body parts, the nudity labels.
        let both = br.summary.nudity != nil && cr.summary.nudity != nil
        let bLabels = both ? br.thresholdedLabels : br.summary.moderation, cLabels = both ? cr.thresholdedLabels : cr.summary.moderation
        let bm = Dictionary(bLabels.map { ($0.label, $0) }, uniquingKeysWith: { a, _ in a })
        for m in cLabels where wanted(m.label) {
            guard let old = bm[m.label] else {
                changes.append(Change(kind: "label_added", label: m.label, message: "moderation label \(m.label) is new"))
                continue
            }
            if old.flagged != m.flagged {
                changes.append(Change(kind: "flag_changed", label: m.label,
                                      message: "\(m.label) \(m.flagged ? "is now flagged" : "is no longer flagged") (max score \(f(old.maxScore)) -> \(f(m.maxScore)), threshold \(f(m.threshold)))"))
            }
            if abs(old.maxScore - m.maxScore) > scoreTolerance {
                changes.append(Change(kind: "score_changed", label: m.label, message: "\(m.label) max score \(f(old.maxScore)) -> \(f(m.maxScore))"))
            }
        }
        for label in bm.keys.sorted() where wanted(label) && !cLabels.contains(where: { $0.label == label }) {
            changes.append(Change(kind: "label_removed", label: label, message: "moderation label \(label) is gone"))
        }
        // Topics present = leading on at least one sampled frame.
        let bt = Dictionary(br.summary.topics.map { ($0.label, $0) }, uniquingKeysWith: { a, _ in a })
        let ct = Dictionary(cr.summary.topics.map { ($0.label, $0) }, uniquingKeysWith: { a, _ in a })
        for label in Set(bt.keys).union(ct.keys).sorted() where wanted(label) {
            let old = bt[label], new = ct[label]
            let was = (old?.coverage ?? 0) > 0, now = (new?.coverage ?? 0) > 0
            if was != now {
                changes.append(Change(kind: now ? "label_added" : "label_removed", label: label,
                                      message: "topic \(label) \(now ? "appeared" : "disappeared") (score \(f(old?.score ?? 0)) -> \(f(new?.score ?? 0)))"))
            } else if abs((old?.score ?? 0) - (new?.score ?? 0)) > scoreTolerance {
                changes.append(Change(kind: "score_changed", label: label, message: "topic \(label) score \(f(old?.score ?? 0)) -> \(f(new?.score ?? 0))"))
            }
        }
        changes += compareSegments(br.segments.filter { wanted($0.label) }, cr.segments.filter { wanted($0.label) })
        if labels == nil {
            changes += compareFaces(br.summary.people, cr.summary.people)
            changes += compareText(br.summary.text, cr.summary.text)
            changes += lookedFor("nudity", "body parts", br.summary.nudity != nil, cr.summary.nudity != nil)
            changes += lookedFor("cues", "black frames", br.summary.cues != nil, cr.summary.cues != nil)
            changes += compareShots(br.shots, cr.shots)
        }
        return changes
    }

    /// Faces (the faces analyzer's summary): faces seen where there were none or the
    /// other way round, a different largest count in one frame, or a share of frames
    /// with a face moved beyond the score tolerance. One report with faces and one
    /// without is a change too: the gate must not pass because an analyzer was dropped.
    func compareFaces(_ old: Report.PeopleSummary?, _ new: Report.PeopleSummary?) -> [Change] {
        switch (old, new) {
        case (nil, nil), (nil, _?), (_?, nil): return lookedFor("faces", "faces", old != nil, new != nil)
        case let (o?, n?):
            let f = { (x: Double) in String(format: "%.4f", x) }
            if (o.framesWithFaces > 0) != (n.framesWithFaces > 0) {
                return [Change(kind: n.framesWithFaces > 0 ? "faces_appeared" : "faces_disappeared", label: "faces",
                               message: n.framesWithFaces > 0 ? "faces appeared (\(n.framesWithFaces) frames, at most \(n.maxFaces) at once)"
                                                             : "faces disappeared (were in \(o.framesWithFaces) frames, at most \(o.maxFaces) at once)")]
            }
            var out: [Change] = []
            if o.maxFaces != n.maxFaces {
                out.append(Change(kind: "faces_changed", label: "faces", message: "most faces in one frame \(o.maxFaces) -> \(n.maxFaces)"))
            }
            if abs(o.faceFrameFraction - n.faceFrameFraction) > scoreTolerance {
                out.append(Change(kind: "faces_changed", label: "faces",
                                  message: "frames with a face \(f(o.faceFrameFraction)) -> \(f(n.faceFrameFraction))"))
            }
            return out
        }
    }

    /// Distinct text lines (matched ignoring case and runs of spaces): each read in
    /// one report only is a change.
    func compareText(_ old: [Report.TextSummary]?, _ new: [Report.TextSummary]?) -> [Change] {
        guard let old, let new else { return lookedFor("text", "text lines", old != nil, new != nil) }
        let before = Set(old.map { Report.TextSummary.key($0.text) }), now = Set(new.map { Report.TextSummary.key($0.text) })
        let f = { (x: Double) in String(format: "%.2f", x) }
        return old.filter { !now.contains(Report.TextSummary.key($0.text)) }.map {
            Change(kind: "text_disappeared", label: "text", message: "text \"\($0.text)\" (\(f($0.firstS))-\(f($0.lastS)) s) is no longer read")
        } + new.filter { !before.contains(Report.TextSummary.key($0.text)) }.map {
            Change(kind: "text_appeared", label: "text", message: "text \"\($0.text)\" appeared (\(f($0.firstS))-\(f($0.lastS)) s)")
        }
    }

    /// An analyzer (or the shot list) on one side only: the gate must not pass
    /// because something stopped being looked for.
    func lookedFor(_ label: String, _ what: String, _ before: Bool, _ now: Bool) -> [Change] {
        if before == now { return [] }
        return [now ? Change(kind: "label_added", label: label, message: "\(what) were not looked for in the baseline")
                    : Change(kind: "label_removed", label: label, message: "\(what) are no longer looked for")]
    }

    /// Shot lists: every cut (a shot's start after the first) matched to one within
    /// the time tolerance, in order; the rest appeared or disappeared.
    func compareShots(_ old: [Report.Shot]?, _ new: [Report.Shot]?) -> [Change] {
        guard let old, let new else { return lookedFor("shots", "shots", old != nil, new != nil) }
        var unmatched = new.dropFirst().map(\.startS)
        var changes: [Change] = []
        for cut in old.dropFirst().map(\.startS) {
            if let i = unmatched.indices.min(by: { abs(unmatched[$0] - cut) < abs(unmatched[$1] - cut) }),
               abs(unmatched[i] - cut) <= timeTolerance {
                unmatched.remove(at: i)
            } else {
                changes.append(Change(kind: "cut_disappeared", label: "shots", message: String(format: "the cut at %.2f s disappeared", cut)))
            }
        }
        for cut in unmatched {
            changes.append(Change(kind: "cut_appeared", label: "shots", message: String(format: "a cut appeared at %.2f s", cut)))
        }
        return changes
    }

    func compareSegments(_ old: [Report.Segment], _ new: [Report.Segment]) -> [Change] {
        var changes: [Change] = []
        var unmatched = new
        let f = { (x: Double) in String(format: "%.2f", x) }
        for s in old {
            let same = unmatched.indices.filter { unmatched[$0].label == s.label && unmatched[$0].kind == s.kind }
            if let i = same.first(where: { abs(unmatched[$0].startS - s.startS) <= timeTolerance && abs(unmatched[$0].endS - s.endS) <= timeTolerance }) {
                unmatched.remove(at: i)
            } else if let i = same.first(where: { unmatched[$0].startS < s.endS && s.startS < unmatched[$0].endS }) {
                let n = unmatched.remove(at: i)
                changes.append(Change(kind: "segment_moved", label: s.label,
                                      message: "\(s.kind) segment \(s.label) \(f(s.startS))-\(f(s.endS)) s moved to \(f(n.startS))-\(f(n.endS)) s"))
            } else {
                changes.append(Change(kind: "segment_disappeared", label: s.label,
                                      message: "\(s.kind) segment \(s.label) \(f(s.startS))-\(f(s.endS)) s disappeared"))
            }
        }
        for n in unmatched {
            changes.append(Change(kind: "segment_appeared", label: n.label, message: "\(n.kind) segment \(n.label) \(f(n.startS))-\(f(n.endS)) s appeared"))
        }
        return changes
    }
}
