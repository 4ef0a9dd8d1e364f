import Foundation
import XCTest

/// `scan --analyzers moderation,topics,text` on clips of real photos: scikit-image's
/// scanned page (printed text: its title "Region-based segmentation" and four more
/// lines read exactly), none in the cat or the astronaut; the report validates
/// against the schema; diff sees a line appear or disappear; a policy can require
/// text and fails closed on a report made without it.
final class TextCLITests: XCTestCase {
    let analyzers = ["--analyzers", "moderation,topics,text"]

    func testPrintedTextIsReadExactly() throws {
        let dir = try scratchFolder("text")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("r.jsonl")
        let r = try vidlabel(["scan", fixture("page.mp4"), fixture("chelsea.mp4"), fixture("astronaut.mp4"), "-o", out.path] + analyzers)
        XCTAssertEqual(r.status, 0, r.stderr)
        let reports = try readJSONLines(out)
        func summary(_ report: [String: Any]) -> [[String: Any]] { (report["summary"] as? [String: Any])?["text"] as? [[String: Any]] ?? [] }
        let page = reports[0]
        let read = summary(page).compactMap { ($0["text"] as? String)?.lowercased() }
        // The page's lines the recogniser reads whole (rapidocr reads the same ones).
        for line in ["region-based segmentation", "let us first determine markers of the coins and the",
                     "background. these markers are pixels that we can label", "histogram of grey values:"] {
            XCTAssertTrue(read.contains(line), "\"\(line)\" not read: \(read)")
        }
        // The title is the first line, on every frame, at the top left of the page.
        let title = summary(page).first!
        XCTAssertEqual(title["text"] as? String, "Region-based segmentation")
        XCTAssertEqual(title["frames"] as? Int, (page["sampling"] as? [String: Any])?["frames_sampled"] as? Int)
        for f in page["frames"] as? [[String: Any]] ?? [] {
            let first = (f["text"] as? [[String: Any]])?.first
            XCTAssertEqual(first?["text"] as? String, "Region-based segmentation")
            let box = first?["box"] as? [Double] ?? []
            // x 3-296, y 8-36 of 384x191 (the line's box in the photo).
            for (got, want) in zip(box, [3.0 / 384, 8.0 / 191, 296.0 / 384, 36.0 / 191]) { XCTAssertEqual(got, want, accuracy: 0.03, "\(box)") }
            XCTAssertGreaterThan(first?["score"] as? Double ?? 0, 0.99)
        }
        let models = (page["models"] as? [[String: Any]] ?? []).filter { $0["task"] as? String == "text" }.compactMap { $0["name"] as? String }
        XCTAssertEqual(models, ["ppocr-det", "ppocr-cls", "ppocr-rec"])
        for report in reports[1...] {
            XCTAssertEqual(summary(report).count, 0, "no text in \(report["file"]!): \(summary(report))")
            XCTAssertTrue((report["frames"] as? [[String: Any]] ?? []).allSatisfy { ($0["text"] as? [Any])?.isEmpty == true })
        }
        try assertValidReports(out.path)

        // For people: the lines with where they were read, in the text summary and the
        // HTML page (a table of lines; each line's box drawn on the thumbnails).
        let html = dir.appendingPathComponent("page.html")
        let text = try vidlabel(["scan", fixture("page.mp4"), "--format", "text", "--html", html.path] + analyzers)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("  text\n    00:00:00.000–00:00:01.000  Region-based segmentation"), text.stdout)
        let pageHTML = try String(contentsOf: html, encoding: .utf8)
        XCTAssertTrue(pageHTML.contains("<h2>On-screen text</h2>") && pageHTML.contains("<td>Region-based segmentation</td>"), "no text table")
        XCTAssertEqual(pageHTML.components(separatedBy: "class=\"box text\"").count - 1, 10, "five lines boxed on each of two thumbnails")
    }

    func testDiffAndPolicySeeText() throws {
        let dir = try scratchFolder("textdiff")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("base.json"), plain = dir.appendingPathComponent("plain.json")
        XCTAssertEqual(try vidlabel(["scan", fixture("page.mp4"), "-o", base.path] + analyzers).status, 0)
        XCTAssertEqual(try vidlabel(["scan", fixture("page.mp4"), "-o", plain.path]).status, 0)
        XCTAssertEqual(try vidlabel(["diff", base.path, base.path]).status, 0)
        // The title no longer read: a change; read in the new report only: a change too.
        let gone = dir.appendingPathComponent("gone.json")
        try writeReport(base, to: gone) { summary in
            summary["text"] = (summary["text"] as! [[String: Any]]).filter { $0["text"] as? String != "Region-based segmentation" }
        }
        let r = try vidlabel(["diff", base.path, gone.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("text \"Region-based segmentation\" (0.00-1.00 s) is no longer read"), r.stdout)
        let back = try vidlabel(["diff", gone.path, base.path, "--format", "json"])
        XCTAssertEqual(back.status, 1)
        XCTAssertTrue(back.stdout.contains("\"text_appeared\""), back.stdout)
        let dropped = try vidlabel(["diff", base.path, plain.path])
        XCTAssertEqual(dropped.status, 1)
        XCTAssertTrue(dropped.stdout.contains("text lines are no longer looked for"), dropped.stdout)

        // require text: met on the page; broken (not passed) on a report made without the analyzer.
        let policy = dir.appendingPathComponent("policy.json")
        try Data(#"{"require": [{"label": "text", "min_score": 0.9}]}"#.utf8).write(to: policy)
        XCTAssertEqual(try vidlabel(["check", "--report", base.path, "--policy", policy.path]).status, 0)
        let blind = try vidlabel(["check", "--report", plain.path, "--policy", policy.path])
        XCTAssertEqual(blind.status, 1)
        XCTAssertTrue(blind.stdout.contains("text lines were not looked for"), blind.stdout)
        // deny text: any line over 0.5 is a violation, with its times.
        try Data(#"{"deny": [{"label": "text", "score_over": 0.5}]}"#.utf8).write(to: policy)
        let denied = try vidlabel(["check", "--report", base.path, "--policy", policy.path])
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stdout.contains("text over 0.5 from 0.00 s to 2.00 s"), denied.stdout)
        // A misspelt label fails closed, with a suggestion.
        try Data(#"{"deny": [{"label": "txt", "score_over": 0.5}]}"#.utf8).write(to: policy)
        let typo = try vidlabel(["check", "--report", base.path, "--policy", policy.path])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("did you mean \"text\""), typo.stderr)
    }
}
