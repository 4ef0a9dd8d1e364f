import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `vidlabel diff`, `check` and `scan --baseline`, on real reports.
final class DiffCLITests: XCTestCase {
    var dir: URL!
    var baseline: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-diff-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        baseline = dir.appendingPathComponent("baseline.jsonl")
        let r = try vidlabel(["scan", fixture("coffee.mp4"), fixture("scenes.mp4"), "--sample", "interval:0.5", "-o", baseline.path])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ records: [[String: Any]], _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        let text = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: "\n")
        try Data((text + "\n").utf8).write(to: url)
        return url
    }

    func testIdenticalReportsGiveExitZeroAndEmptyDiff() throws {
        let r = try vidlabel(["diff", baseline.path, baseline.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "")
    }

    func testThresholdChangeThatFlipsAFlagIsARegression() throws {
        let current = dir.appendingPathComponent("current.jsonl")
        XCTAssertEqual(try vidlabel(["scan", fixture("coffee.mp4"), fixture("scenes.mp4"), "--sample", "interval:0.5",
                                     "--threshold", "alcohol=0", "-o", current.path]).status, 0)
        let r = try vidlabel(["diff", baseline.path, current.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("FLAG alcohol is now flagged"), r.stdout)
        let json = try vidlabel(["diff", baseline.path, current.path, "--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(obj["regressions"] as? Int, 2)
        let gh = try vidlabel(["diff", baseline.path, current.path, "--format", "github"])
        XCTAssertTrue(gh.stdout.hasPrefix("::error file=\(fixture("coffee.mp4"))::alcohol is now flagged"), gh.stdout)
    }

    func testDriftWithinToleranceIsNotARegressionButBeyondIs() throws {
        var records = try readJSONLines(baseline)
        var summary = records[0]["summary"] as! [String: Any]
        var topics = summary["topics"] as! [[String: Any]]
        topics[0]["score"] = (topics[0]["score"] as! Double) - 0.03
        summary["topics"] = topics
        records[0]["summary"] = summary
        let drift = try write(records, "drift.jsonl")
        XCTAssertEqual(try vidlabel(["diff", baseline.path, drift.path]).status, 0)
        let strict = try vidlabel(["diff", baseline.path, drift.path, "--score-tolerance", "0.01"])
        XCTAssertEqual(strict.status, 1)
        XCTAssertTrue(strict.stdout.contains("topic food & drink score"), strict.stdout)
    }

    func testMissingFileIsReportedAndJUnitParses() throws {
        let records = try readJSONLines(baseline)
        let oneLeft = try write([records[0]], "one.jsonl")
        let r = try vidlabel(["diff", baseline.path, oneLeft.path, "--format", "junit"])
        XCTAssertEqual(r.status, 1)
        let xml = try XMLDocument(data: Data(r.stdout.utf8))
        let cases = try xml.nodes(forXPath: "//testcase")
        XCTAssertEqual(cases.count, 2)
        let failures = try xml.nodes(forXPath: "//testcase/failure")
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual((failures[0] as? XMLElement)?.attribute(forName: "type")?.stringValue, "missing_in_current")
        let text = try vidlabel(["diff", oneLeft.path, baseline.path])
        XCTAssertTrue(text.stdout.contains("not in the baseline"), text.stdout)
    }

    func testPolicyViolationsComeWithTheirTimes() throws {
        // A real report with its frames' sexual scores set to a known pattern.
        var record = try readJSONLines(baseline)[1]
        var frames = record["frames"] as! [[String: Any]]
        frames = Array(frames.prefix(5))
        let pattern = [0.1, 0.9, 0.95, 0.1, 0.85]
        for i in 0..<5 {
            frames[i]["time_s"] = Double(i)
            var m = frames[i]["moderation"] as! [String: Any]
            m["sexual"] = pattern[i]
            frames[i]["moderation"] = m
        }
        record["frames"] = frames
        var video = record["video"] as! [String: Any]
        video["duration_s"] = 5.0
        record["video"] = video
        let report = try write([record], "report.jsonl")
        let policy = dir.appendingPathComponent("policy.json")
        try Data(#"{"deny": [{"label": "sexual", "score_over": 0.8}], "require": [{"topic": "music", "min_score": 0.9}]}"#.utf8).write(to: policy)
        let r = try vidlabel(["check", "--report", report.path, "--policy", policy.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("from 1.00 s to 3.00 s"), r.stdout)
        XCTAssertTrue(r.stdout.contains("from 4.00 s to 5.00 s"), r.stdout)
        XCTAssertTrue(r.stdout.contains("topic music score"), r.stdout)
        try Data(#"{"deny": [{"label": "sexual", "score_over": 0.8, "min_duration_s": 1.5}]}"#.utf8).write(to: policy)
        let longOnly = try vidlabel(["check", "--report", report.path, "--policy", policy.path])
        XCTAssertEqual(longOnly.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }.count, 1, longOnly.stdout)
        try Data(#"{"deny": [{"label": "sexual", "score_over": 0.99}]}"#.utf8).write(to: policy)
        XCTAssertEqual(try vidlabel(["check", "--report", report.path, "--policy", policy.path]).status, 0)
        try Data("{not json".utf8).write(to: policy)
        XCTAssertEqual(try vidlabel(["check", "--report", report.path, "--policy", policy.path]).status, 2)
    }

    func testScanWithBaselineDiffsInOneStep() throws {
        let same = try vidlabel(["scan", fixture("coffee.mp4"), fixture("scenes.mp4"), "--sample", "interval:0.5", "--baseline", baseline.path])
        XCTAssertEqual(same.status, 0, same.stderr)
        let flipped = try vidlabel(["scan", fixture("coffee.mp4"), fixture("scenes.mp4"), "--sample", "interval:0.5",
                                    "--threshold", "drugs=0", "--baseline", baseline.path])
        XCTAssertEqual(flipped.status, 1)
        XCTAssertTrue(flipped.stderr.contains("FLAG drugs is now flagged"), flipped.stderr)
        XCTAssertEqual(try vidlabel(["diff", baseline.path, dir.appendingPathComponent("nope.jsonl").path]).status, 2)
    }
}
