import Foundation

/// Self-contained HTML reports for people: one page per video (header, flags, a
/// timeline per moderation label, the topic band, every sampled frame's
/// thumbnail) and an index page for a batch. Thumbnails are JPEG data URIs and
/// the page carries a Content-Security-Policy that forbids every fetch, so it
/// opens offline and can be attached to a ticket. No script: timeline points and
/// segments are links to their frames (`#f12`), highlighted with `:target`.
public enum HTMLWriter {
    /// Thumbnail width in pixels: 160 keeps a 1-hour video sampled every 2 s
    /// (1,800 frames) near 8 MB of page.
    public static let thumbnailWidth = 160
    /// A box drawn over a thumbnail, in the upright frame's coordinates normalised
    /// to 0-1 (the analyzers' faces, text lines and detections are drawn too).
    public struct Overlay: Sendable {
        public var x: Double, y: Double, width: Double, height: Double
        public var label: String
        /// CSS class: `face`, `text`, `detection`.
        public var kind: String
        public init(x: Double, y: Double, width: Double, height: Double, label: String, kind: String) {
            (self.x, self.y, self.width, self.height, self.label, self.kind) = (x, y, width, height, label, kind)
        }
    }

    /// The page of one video. `thumbnails` in `report.frames` order (may be empty);
    /// `overlays(i)` gives frame i's boxes.
    public static func page(_ report: Report, thumbnails: [Thumbnail], overlays: (Int) -> [Overlay] = { _ in [] }) -> String {
        let name = (report.file.path as NSString).lastPathComponent
        var h = head(title: "vidlabel: \(name)")
        h += "<header><h1>\(esc(name))</h1>\n<p class=path>\(esc(report.file.path))</p>\n<p class=facts>\(facts(report))</p>\n"
        h += "<table class=models><tr><th>model</th><th>task</th><th>sha256</th></tr>"
        for m in report.models { h += "<tr><td>\(esc(m.name))</td><td>\(esc(m.task))</td><td><code>\(esc(m.sha256))</code></td></tr>" }
        h += "</table></header>\n"
        let frames = report.frames ?? []
        let times = frames.map(\.timeS)
        let duration = max(report.video.durationS ?? 0, times.last ?? 0, 0.001)
        func frameAt(_ t: Double) -> Int { times.lastIndex { $0 <= t + 1e-6 } ?? 0 }

        // Flags first: what a moderator acts on.
        h += "<section id=flags><h2>Flags</h2>\n"
        let flagged = report.thresholdedLabels.filter(\.flagged)
        if flagged.isEmpty { h += "<p class=none>No moderation label is flagged.</p>\n" }
        for m in flagged {
            h += "<div class=flag><b>\(esc(m.label))</b> max \(score(m.maxScore)) (threshold \(round4(m.threshold)))<ul>"
            for s in report.segments where s.kind == "moderation" && s.label == m.label {
                h += "<li><a href=\"#f\(frameAt(s.startS))\">\(timecode(s.startS))–\(timecode(s.endS))</a> max \(score(s.maxScore))</li>"
            }
            h += "</ul></div>\n"
        }
        if !report.errors.isEmpty {
            h += "<div class=errors><b>Decode problems</b><ul>"
            for e in report.errors { h += "<li>\(esc(e.category))\(e.timeS.map { " at \(timecode($0))" } ?? ""): \(esc(e.message))</li>" }
            h += "</ul></div>\n"
        }
        h += "</section>\n"

        // One timeline per moderation label: score over time, threshold, segments shaded.
        let width = 1000.0, height = 80.0
        func x(_ t: Double) -> String { String(format: "%.1f", t / duration * width) }
        func y(_ v: Double) -> String { String(format: "%.1f", (1 - min(1, max(0, v))) * (height - 4) + 2) }
        h += "<section id=timelines><h2>Moderation timelines</h2>\n"
        // Nudity's second-level labels would repeat their parent's line; their flags are above.
        for m in report.thresholdedLabels where m.label.split(separator: ".").count <= 2 {
            h += "<div class=timeline data-label=\"\(esc(m.label))\"><h3>\(esc(m.label)) <small>max \(score(m.maxScore)), threshold \(round4(m.threshold))\(m.flagged ? ", flagged" : "")</small></h3>\n"
            h += "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" preserveAspectRatio=none role=img aria-label=\"\(esc(m.label)) score over time\">"
            for s in report.segments where s.kind == "moderation" && s.label == m.label {
                h += "<a href=\"#f\(frameAt(s.startS))\"><rect class=seg x=\"\(x(s.startS))\" y=0 width=\"\(String(format: "%.1f", max(1, (s.endS - s.startS) / duration * width)))\" height=\"\(Int(height))\"><title>\(timecode(s.startS))–\(timecode(s.endS))</title></rect></a>"
            }
            h += "<line class=threshold x1=0 x2=\"\(Int(width))\" y1=\"\(y(m.threshold))\" y2=\"\(y(m.threshold))\"/>"
            let points = frames.map { "\(x($0.timeS)),\(y($0.score(of: m.label) ?? 0))" }.joined(separator: " ")
            if !points.isEmpty { h += "<polyline class=score points=\"\(points)\"/>" }
            for (i, f) in frames.enumerated() {
                let v = f.score(of: m.label) ?? 0
                h += "<a href=\"#f\(i)\"><circle class=\"pt\(v >= m.threshold ? " over" : "")\" cx=\"\(x(f.timeS))\" cy=\"\(y(v))\" r=3><title>\(timecode(f.timeS)) \(score(v))</title></circle></a>"
            }
            h += "</svg></div>\n"
        }
        h += "</section>\n"

        // Topic segments as one coloured band, with a legend of the topics present.
        let topicSegments = report.segments.filter { $0.kind == "topic" }
        h += "<section id=topics><h2>Topics</h2>\n<svg class=band viewBox=\"0 0 \(Int(width)) 24\" preserveAspectRatio=none>"
        for s in topicSegments {
            let hue = (Taxonomy.topics.firstIndex(of: s.label) ?? 0) * 360 / max(1, Taxonomy.topics.count)
            h += "<a href=\"#f\(frameAt(s.startS))\"><rect x=\"\(x(s.startS))\" y=0 width=\"\(String(format: "%.1f", max(1, (s.endS - s.startS) / duration * width)))\" height=24 fill=\"hsl(\(hue),60%,55%)\"><title>\(esc(s.label)) \(timecode(s.startS))–\(timecode(s.endS))</title></rect></a>"
        }
        h += "</svg>\n<ul class=legend>"
        for t in report.summary.topics where t.coverage > 0 {
            let hue = (Taxonomy.topics.firstIndex(of: t.label) ?? 0) * 360 / max(1, Taxonomy.topics.count)
            h += "<li><span style=\"background:hsl(\(hue),60%,55%)\"></span>\(esc(t.label)) \(score(t.score)) · \(Int((t.coverage * 100).rounded()))% of frames</li>"
        }
        h += "</ul></section>\n"

        // Shots and black frames (cues), when they were looked for: shots alternate shades.
        let black = report.segments.filter { $0.kind == "cue" && $0.label == Report.blackFramesLabel }
        if report.shots != nil || report.summary.cues != nil {
            h += "<section id=cues><h2>Shots and black frames</h2>\n<svg class=band viewBox=\"0 0 \(Int(width)) 24\" preserveAspectRatio=none>"
            for (i, s) in (report.shots ?? []).enumerated() {
                h += "<a href=\"#f\(frameAt(s.startS))\"><rect class=\"shot s\(i % 2)\" x=\"\(x(s.startS))\" y=0 width=\"\(String(format: "%.1f", max(1, (s.endS - s.startS) / duration * width)))\" height=12><title>shot \(i + 1): \(timecode(s.startS))–\(timecode(s.endS))</title></rect></a>"
            }
            for s in black {
                h += "<a href=\"#f\(frameAt(s.startS))\"><rect class=black x=\"\(x(s.startS))\" y=12 width=\"\(String(format: "%.1f", max(1, (s.endS - s.startS) / duration * width)))\" height=12><title>black frames \(timecode(s.startS))–\(timecode(s.endS))</title></rect></a>"
            }
            h += "</svg>\n<p>"
            if let shots = report.shots { h += "\(shots.count) shot\(shots.count == 1 ? "" : "s") (top row). " }
            if report.summary.cues != nil {
                h += black.isEmpty ? "No black frames." : "Black frames (bottom row): " + black.map { "\(timecode($0.startS))–\(timecode($0.endS))" }.joined(separator: ", ") + "."
            }
            h += "</p></section>\n"
        }

        // On-screen text: every distinct line with where it was first and last read.
        if let lines = report.summary.text {
            h += "<section id=text><h2>On-screen text</h2>\n"
            if lines.isEmpty { h += "<p class=none>No text was read.</p>\n" } else {
                h += "<table class=text><tr><th>text</th><th>first</th><th>last</th><th>frames</th><th>score</th></tr>"
                for l in lines {
                    h += "<tr><td>\(esc(l.text))</td><td><a href=\"#f\(frameAt(l.firstS))\">\(timecode(l.firstS))</a></td><td><a href=\"#f\(frameAt(l.lastS))\">\(timecode(l.lastS))</a></td><td>\(l.frames)</td><td>\(score(l.maxScore))</td></tr>"
                }
                h += "</table>\n"
            }
            h += "</section>\n"
        }

        // Every sampled frame.
        h += "<section id=frames><h2>Frames (\(frames.count))</h2>\n<div class=grid>\n"
        for (i, f) in frames.enumerated() {
            let over = report.thresholdedLabels.filter { (f.score(of: $0.label) ?? 0) >= $0.threshold }.map(\.label)
            h += "<figure id=f\(i) class=\"frame\(over.isEmpty ? "" : " over")\"><div class=thumb>"
            if i < thumbnails.count, !thumbnails[i].jpeg.isEmpty {
                let t = thumbnails[i]
                h += "<img alt=\"frame at \(timecode(f.timeS))\(t.blurred ? " (blurred)" : "")\" width=\(t.width) height=\(t.height) src=\"data:image/jpeg;base64,\(Data(t.jpeg).base64EncodedString())\">"
                if t.blurred { h += "<span class=blurred>blurred</span>" }
            }
            // The analyzers' boxes (faces, text lines, body parts), then the caller's.
            // A report read back from a file is untrusted: a box of another length is skipped.
            func overlay(_ box: [Double], _ label: String, _ kind: String) -> Overlay? {
                box.count == 4 ? Overlay(x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1], label: label, kind: kind) : nil
            }
            let boxes = (f.faces ?? []).compactMap { overlay($0.box, "face \(score($0.score))", "face") }
                + (f.text ?? []).compactMap { overlay($0.box, "text \($0.text) \(score($0.score))", "text") }
                + (f.detections ?? []).compactMap { overlay($0.box, "\($0.label) \(score($0.score))", "detection") }
            for o in boxes + overlays(i) {
                h += String(format: "<span class=\"box %@\" style=\"left:%.1f%%;top:%.1f%%;width:%.1f%%;height:%.1f%%\" title=\"%@\"></span>",
                            esc(o.kind), o.x * 100, o.y * 100, o.width * 100, o.height * 100, esc(o.label))
            }
            let top = f.topics.first.map { "\(esc($0.label)) \(score($0.score))" } ?? ""
            h += "</div><figcaption><b>\(timecode(f.timeS))</b>\(f.keyFrame ? " key" : "")<br>\(top)"
            for label in over { h += "<br><span class=over>\(esc(label)) \(score(f.score(of: label) ?? 0))</span>" }
            h += "</figcaption></figure>\n"
        }
        h += "</div></section>\n</body></html>\n"
        return h
    }

    /// One row of a batch's index: what the index shows of a file, small enough to
    /// keep for every file of a long batch.
    public struct IndexEntry: Sendable {
        public var path: String
        /// The page's file name in the index's folder (nil: no page).
        public var page: String?
        /// Flagged labels with their max scores, in taxonomy order.
        public var flags: [(label: String, maxScore: Double)]
        public var topTopic: (label: String, score: Double)?
        public var durationS: Double?
        /// Set for files that failed.
        public var error: String?

        public init(_ r: LoadedReport, page: String?) {
            path = r.path
            self.page = page
            flags = r.report?.thresholdedLabels.filter(\.flagged).map { ($0.label, $0.maxScore) } ?? []
            topTopic = r.report?.summary.topics.first.map { ($0.label, $0.score) }
            durationS = r.report?.video.durationS
            error = r.report == nil ? (r.error ?? "failed") : nil
        }
    }

    /// A batch's index: every file, flagged ones first, then failed ones, then the
    /// rest, each in path order, with their flags and a link to their page.
    public static func index(_ entries: [IndexEntry], note: String? = nil) -> String {
        var h = head(title: "vidlabel: \(entries.count) files")
        let flaggedCount = entries.filter { !$0.flags.isEmpty }.count
        h += "<header><h1>\(entries.count) file\(entries.count == 1 ? "" : "s"), \(flaggedCount) flagged</h1>"
        if let note { h += "<p class=path>\(esc(note))</p>" }
        h += "</header>\n<table class=index><tr><th>file</th><th>flags</th><th>top topic</th><th>duration</th></tr>\n"
        func rank(_ e: IndexEntry) -> Int { e.error != nil ? 1 : (e.flags.isEmpty ? 2 : 0) }
        for e in entries.sorted(by: { (rank($0), $0.path) < (rank($1), $1.path) }) {
            let link = e.page.map { "<a href=\"\(esc($0))\">\(esc(e.path))</a>" } ?? esc(e.path)
            if let error = e.error {
                h += "<tr class=failed><td>\(link)</td><td colspan=3>error: \(esc(error))</td></tr>\n"
                continue
            }
            let flags = e.flags.map { "\(esc($0.label)) \(score($0.maxScore))" }.joined(separator: ", ")
            let topic = e.topTopic.map { "\(esc($0.label)) \(score($0.score))" } ?? ""
            h += "<tr\(flags.isEmpty ? "" : " class=flagged")><td>\(link)</td><td>\(flags.isEmpty ? "—" : flags)</td><td>\(topic)</td><td>\(e.durationS.map(timecode) ?? "")</td></tr>\n"
        }
        return h + "</table>\n</body></html>\n"
    }

    /// A page file name for `path` that is safe in any folder and unique per path:
    /// the file name's letters, digits, `.`, `-` and `_`, then 8 hex digits of the
    /// path's SHA-256 (two `clip.mp4` in different folders get different pages).
    public static func pageName(for path: String) -> String {
        let base = (path as NSString).lastPathComponent
        var safe = String(base.unicodeScalars.prefix(80).map { c -> Character in
            (c.isASCII && (CharacterSet.alphanumerics.contains(c) || "._-".unicodeScalars.contains(c))) ? Character(c) : "_"
        })
        if safe.hasPrefix(".") { safe = "_" + safe }
        return "\(safe)-\(SHA256.hex(of: Data(path.utf8)).prefix(8)).html"
    }

    static func facts(_ r: Report) -> String {
        let v = r.video
        var parts: [String] = []
        if let d = v.durationS { parts.append(timecode(d)) }
        parts.append("\(v.width)×\(v.height)")
        parts.append(esc(v.codec))
        if let fps = v.avgFps { parts.append(String(format: "%.2f fps", fps)) }
        if v.rotation != 0 { parts.append("rotated \(v.rotation)°") }
        parts.append("\(r.file.sizeBytes) bytes")
        parts.append("\(r.sampling.framesSampled) frames sampled (\(esc(TextWriter.samplingText(r.sampling))))")
        return parts.joined(separator: " · ")
    }

    static func head(title: String) -> String {
        """
        <!doctype html>
        <html lang=en><head><meta charset=utf-8>
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
        <meta name=viewport content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>\(css)</style></head><body>

        """
    }

    static let css = """
    body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#222;background:#fafafa}
    h1{font-size:20px;margin:0}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ccc}h3{font-size:14px;margin:8px 0 2px}
    .path{color:#666;margin:2px 0}.facts{margin:4px 0}code{font-size:11px}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #e4e4e4}
    .flag{background:#fff0f0;border-left:4px solid #c00;padding:4px 8px;margin:4px 0}.flag ul,.errors ul{margin:2px 0}.none{color:#060}
    .timeline svg{width:100%;height:80px;background:#fff;border:1px solid #ddd}.seg{fill:#f6b6b6}.threshold{stroke:#c00;stroke-dasharray:6 4;stroke-width:1}
    .score{fill:none;stroke:#335;stroke-width:1.5}.pt{fill:#335}.pt.over{fill:#c00}svg a:hover rect,svg a:hover circle{opacity:.6}
    .band{width:100%;height:24px;border:1px solid #ddd}.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
    .legend span{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
    .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px}.frame{margin:0;background:#fff;border:1px solid #ddd;padding:4px}
    .frame.over{border-color:#c00}.frame:target{outline:3px solid #36c}.thumb{position:relative;line-height:0}.thumb img{width:100%;height:auto}
    .blurred{position:absolute;left:4px;top:4px;background:#c00;color:#fff;font-size:10px;line-height:14px;padding:0 4px}
    .shot.s0{fill:#9ab}.shot.s1{fill:#cde}.black{fill:#111}
    .box{position:absolute;border:2px solid #0a0}.box.text{border-color:#06c}.box.detection{border-color:#c60}
    figcaption{font-size:12px}.over{color:#c00}tr.flagged td:nth-child(2){color:#c00;font-weight:bold}tr.failed{color:#888}
    """

    static func score(_ x: Double) -> String { TextWriter.score(x) }

    /// Text safe in HTML content and attribute values.
    static func esc(_ s: String) -> String { xmlEscaped(s) }
}
