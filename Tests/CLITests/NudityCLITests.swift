import Foundation
import XCTest

/// `scan --analyzers moderation,topics,nudity` (NudeNet 320n, the optional AGPL-3.0
/// model `make models` puts in Models/optional): body parts as detections, the
/// nudity labels as moderation-like flags; the astronaut's face is found where it
/// is and nothing else, the cat has none; the licence is said when it runs; a
/// policy denying explicit nudity passes here and fails closed without the
/// analyzer; thresholds on nudity labels need the analyzer.
final class NudityCLITests: XCTestCase {
    let analyzers = ["--analyzers", "moderation,topics,nudity"]

    func testDetectionsLabelsAndSchema() throws {
        let dir = try scratchFolder("nudity")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("r.jsonl")
        let r = try vidlabel(["scan", fixture("astronaut.mp4"), fixture("chelsea.mp4"), "-o", out.path] + analyzers)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("NudeNet 320n, whose weights are AGPL-3.0"), r.stderr)
        let reports = try readJSONLines(out)
        func nudity(_ report: [String: Any]) -> [[String: Any]] { (report["summary"] as? [String: Any])?["nudity"] as? [[String: Any]] ?? [] }
        for report in reports {
            // Every label listed, none flagged: no nudity in either photo.
            XCTAssertEqual(nudity(report).compactMap { $0["label"] as? String }.first, "nudity.explicit")
            XCTAssertEqual(nudity(report).count, 9)
            XCTAssertTrue(nudity(report).allSatisfy { $0["flagged"] as? Bool == false && $0["max_score"] as? Double == 0 }, "\(nudity(report))")
        }
        // The astronaut's face (NudeNet's own detect() on the photo: FACE_FEMALE at x 173-275, y 82-180 of 512).
        for f in reports[0]["frames"] as? [[String: Any]] ?? [] {
            let d = f["detections"] as? [[String: Any]] ?? []
            XCTAssertEqual(d.compactMap { $0["label"] as? String }, ["face_female"], "\(d)")
            let box = d.first?["box"] as? [Double] ?? []
            for (got, want) in zip(box, [173.0, 82, 275, 180].map { $0 / 512 }) { XCTAssertEqual(got, want, accuracy: 0.03, "\(box)") }
        }
        XCTAssertTrue((reports[1]["frames"] as? [[String: Any]] ?? []).allSatisfy { ($0["detections"] as? [Any])?.isEmpty == true })
        let models = (reports[0]["models"] as? [[String: Any]] ?? []).filter { $0["task"] as? String == "nudity" }.compactMap { $0["name"] as? String }
        XCTAssertEqual(models, ["nudenet-320n"])
        try assertValidReports(out.path)
    }

    func testPolicyThresholdsAndMissingModel() throws {
        let dir = try scratchFolder("nuditypolicy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("r.json"), plain = dir.appendingPathComponent("plain.json")
        XCTAssertEqual(try vidlabel(["scan", fixture("astronaut.mp4"), "-o", report.path, "--threshold", "nudity.explicit=0.3"] + analyzers).status, 0)
        XCTAssertEqual(try vidlabel(["scan", fixture("astronaut.mp4"), "-o", plain.path]).status, 0)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as! [String: Any]
        let explicit = ((saved["summary"] as? [String: Any])?["nudity"] as? [[String: Any]])?.first
        XCTAssertEqual(explicit?["threshold"] as? Double, 0.3)

        let policy = dir.appendingPathComponent("policy.json")
        try Data(#"{"deny": [{"label": "nudity.explicit", "score_over": 0.5}]}"#.utf8).write(to: policy)
        XCTAssertEqual(try vidlabel(["check", "--report", report.path, "--policy", policy.path]).status, 0)
        let blind = try vidlabel(["check", "--report", plain.path, "--policy", policy.path])
        XCTAssertEqual(blind.status, 1)
        XCTAssertTrue(blind.stdout.contains("body parts were not looked for"), blind.stdout)
        // Dropping the analyzer is a change diff reports.
        let dropped = try vidlabel(["diff", report.path, plain.path])
        XCTAssertEqual(dropped.status, 1)
        XCTAssertTrue(dropped.stdout.contains("body parts are no longer looked for"), dropped.stdout)

        // A nudity threshold without the analyzer, or a misspelt one, is a usage error.
        for args in [["--threshold", "nudity.explicit=0.3"], ["--threshold", "nudity.explict=0.3"] + analyzers] {
            let r = try vidlabel(["scan", fixture("astronaut.mp4")] + args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").first.map { $0.hasPrefix("vidlabel: --threshold") }, true, r.stderr)
        }
        // Without the optional model: the message says it is optional and how to get it.
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try linkBaseModels(into: models)
        let missing = try vidlabel(["scan", fixture("astronaut.mp4"), "--models-dir", models.path] + analyzers)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("NudeNet is optional (AGPL-3.0 weights)"), missing.stderr)
    }
}
