import Foundation
import XCTest

/// `scan --analyzers ...,cues` and `--shots` on `cues.mp4` (two real clips with a
/// second of black between them, then a photo; Tools/make-photo-clips.sh): the
/// black frames and the stitched cuts where ffmpeg put them, within a frame; the
/// report validates; text, HTML, `diff` and `check` know them.
final class CuesCLITests: XCTestCase {
    let cues = ["--analyzers", "moderation,topics,cues", "--shots"]
    let frame = 1.0 / 25
    lazy var dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-cues-cli-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ text: String, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func scan(_ args: [String], to name: String) throws -> [String: Any] {
        let out = dir.appendingPathComponent(name).path
        let r = try vidlabel(["scan"] + args + ["-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any] ?? [:]
    }

    func testBlackFramesAndShotsAreWhereTheyWereStitched() throws {
        let report = try scan([fixture("cues.mp4")] + cues, to: "cues.json")
        let segments = (report["segments"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "cue" }
        XCTAssertEqual(segments.count, 1, "\(segments)")
        XCTAssertEqual(segments.first?["label"] as? String, "black_frames")
        XCTAssertEqual(segments.first?["start_s"] as? Double ?? -1, 2, accuracy: frame)
        XCTAssertEqual(segments.first?["end_s"] as? Double ?? -1, 3, accuracy: frame)
        let summary = (report["summary"] as? [String: Any])?["cues"] as? [String: Any]
        XCTAssertEqual(summary?["black_segments"] as? Int, 1)
        XCTAssertEqual(summary?["black_s"] as? Double ?? 0, 1, accuracy: 2 * frame)

        let starts = (report["shots"] as? [[String: Any]] ?? []).compactMap { $0["start_s"] as? Double }
        for cut in [0.0, 2, 3, 5] {
            XCTAssertTrue(starts.contains { abs($0 - cut) <= frame + 1e-9 }, "no shot starts at \(cut) s: \(starts)")
        }
        XCTAssertFalse(starts.contains { $0 > 2 + frame && $0 < 3 - frame || $0 > 5 + frame }, "\(starts)")
        // Sampling stays keyframes: the cues came from every decoded frame.
        XCTAssertEqual((report["sampling"] as? [String: Any])?["mode"] as? String, "keyframes")

        // Scenes sampling lists shots unasked; plain keyframes lists neither.
        let scenes = try scan([fixture("cues.mp4"), "--sample", "scenes"], to: "scenes.json")
        XCTAssertEqual((scenes["shots"] as? [Any])?.count, starts.count)
        let plain = try scan([fixture("cues.mp4")], to: "plain.json")
        XCTAssertNil(plain["shots"])
        XCTAssertNil((plain["summary"] as? [String: Any])?["cues"])
        XCTAssertFalse((plain["segments"] as? [[String: Any]] ?? []).contains { $0["kind"] as? String == "cue" })
        // A real clip alone: cues looked for, none found.
        let chelsea = try scan([fixture("chelsea.mp4")] + cues, to: "chelsea.json")
        XCTAssertEqual(((chelsea["summary"] as? [String: Any])?["cues"] as? [String: Any])?["black_segments"] as? Int, 0)
        XCTAssertEqual((chelsea["shots"] as? [Any])?.count, 1)

        let python = repoRoot.appendingPathComponent(".build/tools-venv/bin/python")
        let check = try runProcess(python, ["-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            for path in sys.argv[2:]:
                jsonschema.validate(json.load(open(path)), schema)
            """, repoRoot.appendingPathComponent("Schemas/report.schema.json").path] + ["cues", "scenes", "plain", "chelsea"].map { dir.appendingPathComponent("\($0).json").path })
        XCTAssertEqual(check.status, 0, check.stderr)
    }

    /// Two runs, one and two threads: the same bytes.
    func testCuesAreDeterministic() throws {
        let a = try vidlabel(["scan", fixture("cues.mp4"), "--threads", "1"] + cues)
        let b = try vidlabel(["scan", fixture("cues.mp4"), "--threads", "2", "--batch-size", "3"] + cues)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
    }

    func testTextAndHTMLShowThem() throws {
        let text = try vidlabel(["scan", fixture("cues.mp4"), "--format", "text"] + cues)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("  black frames: 00:00:02.000–00:00:03.000"), text.stdout)
        XCTAssertTrue(text.stdout.contains("  shots: 5 (cuts at "), text.stdout)
        let html = dir.appendingPathComponent("cues.html").path
        XCTAssertEqual(try vidlabel(["scan", fixture("cues.mp4"), "--html", html] + cues).status, 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<section id=cues>"), "the shots and black frames band")
        XCTAssertTrue(page.contains("<title>black frames 00:00:02.000–00:00:03.000</title>"))
        XCTAssertEqual(page.components(separatedBy: "class=\"shot s").count - 1, 5)
    }

    func testDiffSeesCutsAndAnalyzersComeAndGo() throws {
        let base = dir.appendingPathComponent("base.json").path
        XCTAssertEqual(try vidlabel(["scan", fixture("cues.mp4"), "-o", base] + cues).status, 0)
        XCTAssertEqual(try vidlabel(["scan", fixture("cues.mp4"), "--baseline", base] + cues).status, 0, "the same scan: no change")

        let without = try vidlabel(["scan", fixture("cues.mp4"), "--baseline", base])
        XCTAssertEqual(without.status, 1)
        XCTAssertTrue(without.stderr.contains("black frames are no longer looked for"), without.stderr)
        XCTAssertTrue(without.stderr.contains("shots are no longer looked for"), without.stderr)
        XCTAssertTrue(without.stderr.contains("cue segment black_frames 2.00-3.00 s disappeared"), without.stderr)

        // A shot removed from the baseline: its cut appeared in the current scan.
        var report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base))) as! [String: Any]
        var shots = report["shots"] as! [[String: Any]]
        shots.remove(at: 3)
        report["shots"] = shots
        let edited = dir.appendingPathComponent("edited.json")
        try JSONSerialization.data(withJSONObject: report).write(to: edited)
        let d = try vidlabel(["diff", edited.path, base])
        XCTAssertEqual(d.status, 1)
        XCTAssertTrue(d.stdout.contains("a cut appeared at 3.00 s"), d.stdout)
        let back = try vidlabel(["diff", base, edited.path])
        XCTAssertTrue(back.stdout.contains("the cut at 3.00 s disappeared"), back.stdout)
    }

    func testPoliciesOnBlackFramesAndFaces() throws {
        let withCues = dir.appendingPathComponent("cues.json").path
        XCTAssertEqual(try vidlabel(["scan", fixture("cues.mp4"), "-o", withCues] + cues).status, 0)
        let plain = dir.appendingPathComponent("plain.json").path
        XCTAssertEqual(try vidlabel(["scan", fixture("cues.mp4"), "-o", plain]).status, 0)

        let short = try write(#"{"deny":[{"label":"black_frames","score_over":0.5,"min_duration_s":0.5}]}"#, "short.json")
        let r = try vidlabel(["check", "--report", withCues, "--policy", short])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("black frames from 2.00 s to 3.00 s"), r.stdout)
        let long = try write(#"{"deny":[{"label":"black_frames","score_over":0.5,"min_duration_s":2}]}"#, "long.json")
        XCTAssertEqual(try vidlabel(["check", "--report", withCues, "--policy", long]).status, 0)
        // Fails closed: the report was made without the cues analyzer.
        let blind = try vidlabel(["check", "--report", plain, "--policy", long])
        XCTAssertEqual(blind.status, 1)
        XCTAssertTrue(blind.stdout.contains("black frames were not looked for"), blind.stdout)

        let faces = dir.appendingPathComponent("faces.jsonl").path
        XCTAssertEqual(try vidlabel(["scan", fixture("astronaut.mp4"), fixture("coffee.mp4"), "-o", faces,
                                     "--analyzers", "moderation,topics,faces"]).status, 0)
        let requireFaces = try write(#"{"require":[{"label":"faces","min_score":0.5}]}"#, "require.json")
        let need = try vidlabel(["check", "--report", faces, "--policy", requireFaces])
        XCTAssertEqual(need.status, 1, "coffee has no face")
        XCTAssertTrue(need.stdout.contains("faces in 0 of the sampled frames < 0.5"), need.stdout)
        XCTAssertEqual(need.stdout.components(separatedBy: "require faces").count - 1, 1, "astronaut passes: \(need.stdout)")
        let denyFaces = try write(#"{"deny":[{"label":"faces","score_over":0.9}]}"#, "deny.json")
        let deny = try vidlabel(["check", "--report", faces, "--policy", denyFaces])
        XCTAssertEqual(deny.status, 1)
        XCTAssertTrue(deny.stdout.contains("faces over 0.9 from 0.00 s to 2.00 s"), deny.stdout)
        XCTAssertTrue(try vidlabel(["check", "--report", plain, "--policy", requireFaces]).stdout.contains("faces were not looked for"))
        // A typo in the analyzer's label is a usage error.
        let typo = try write(#"{"deny":[{"label":"black_frame","score_over":0.5}]}"#, "typo.json")
        let t = try vidlabel(["check", "--report", withCues, "--policy", typo])
        XCTAssertEqual(t.status, 2)
        XCTAssertTrue(t.stderr.contains("(did you mean \"black_frames\"?)"), t.stderr)
    }
}
