import Foundation
import XCTest

/// `vidlabel scan`, run as a user would, its JSON parsed and checked.
final class ScanCLITests: XCTestCase {
    func scan(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (RunResult, [String: Any]) {
        let r = try vidlabel(["scan"] + args)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return (r, r.json(file, line))
    }

    func topTopics(_ report: [String: Any]) -> [String] {
        ((report["summary"] as? [String: Any])?["topics"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
    }

    func testReportValidatesAgainstSchema() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-schema-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("reports.jsonl")
        let r = try vidlabel(["scan", fixture("scenes.mp4"), fixture("garbage.mp4"), fixture("rotated.mp4"),
                              "--sample", "scenes", "-o", out.path])
        XCTAssertEqual(r.status, 1, "one file failed")
        let python = repoRoot.appendingPathComponent(".build/tools-venv/bin/python")
        let check = try runProcess(python, ["-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            lines = open(sys.argv[2]).read().splitlines()
            for line in lines:
                jsonschema.validate(json.loads(line), schema)
            print(len(lines))
            """, repoRoot.appendingPathComponent("Schemas/report.schema.json").path, out.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "3")
    }

    func testTimestampsMatchFramesCommand() throws {
        for sampling in [["--sample", "keyframes"], ["--sample", "interval:0.7"], ["--sample", "scenes"]] {
            for name in ["gop.mp4", "scenes.mp4", "vfr.mp4"] {
                let frames = try vidlabel(["frames", fixture(name)] + sampling).jsonLines()
                let (_, report) = try scan([fixture(name)] + sampling)
                let reported = report["frames"] as? [[String: Any]] ?? []
                XCTAssertEqual(reported.map { $0["pts"] as? Int }, frames.map { $0["pts"] as? Int }, "\(name) \(sampling)")
                for (a, b) in zip(reported, frames) {
                    XCTAssertEqual(a["time_s"] as! Double, b["time_s"] as! Double, accuracy: 1e-4)
                }
                XCTAssertEqual((report["sampling"] as? [String: Any])?["frames_sampled"] as? Int, frames.count)
            }
        }
    }

    func testRealPhotosGetTheirTopic() throws {
        XCTAssertEqual(topTopics(try scan([fixture("chelsea.mp4"), "--no-frames"]).1).first, "animals")
        XCTAssertEqual(topTopics(try scan([fixture("coffee.mp4"), "--no-frames"]).1).first, "food & drink")
        XCTAssertEqual(topTopics(try scan([fixture("coffee.mp4"), "--topic-model", "mobilenet-v2", "--no-frames"]).1).first, "food & drink")
        let bikes = repoRoot.appendingPathComponent("Models/samples/bikes.mp4").path
        XCTAssertTrue(topTopics(try scan([bikes, "--no-frames"]).1).prefix(2).contains("vehicles & transport"))
    }

    func testSexualUnflaggedOnSafeFixtures() throws {
        let files = ["gop.mp4", "rotated.mp4", "vfr.mp4", "hevc10.mp4", "vp9.webm", "av1.mkv", "mjpeg.avi", "scenes.mp4",
                     "oneframe.mp4", "chelsea.mp4", "coffee.mp4"].map(fixture)
            + ["bikes.mp4", "bigbuckbunny.mp4"].map { repoRoot.appendingPathComponent("Models/samples/\($0)").path }
        let r = try vidlabel(["scan", "--no-frames"] + files)
        XCTAssertEqual(r.status, 0, r.stderr)
        let reports = r.jsonLines()
        XCTAssertEqual(reports.count, files.count)
        for (path, report) in zip(files, reports) {
            XCTAssertEqual((report["file"] as? [String: Any])?["path"] as? String, path, "argument order")
            let moderation = (report["summary"] as? [String: Any])?["moderation"] as? [[String: Any]] ?? []
            let sexual = moderation.first { $0["label"] as? String == "sexual" }
            XCTAssertEqual(sexual?["flagged"] as? Bool, false, path)
        }
    }

    func testTwoRunsAreByteIdentical() throws {
        let args = ["scan", fixture("scenes.mp4"), fixture("vfr.mp4"), "--sample", "interval:0.5"]
        let a = try vidlabel(args), b = try vidlabel(args + ["--threads", "1", "--batch-size", "3"])
        XCTAssertEqual(a.status, 0)
        XCTAssertFalse(a.stdout.isEmpty)
        XCTAssertEqual(a.stdout, b.stdout)
    }

    func testBrokenFileAmongGoodOnesYieldsErrorObject() throws {
        let r = try vidlabel(["scan", "--no-frames", fixture("gop.mp4"), fixture("truncated_moov.mp4"), fixture("empty.mp4"), fixture("coffee.mp4")])
        XCTAssertEqual(r.status, 1)
        let lines = r.jsonLines()
        XCTAssertEqual(lines.count, 4)
        XCTAssertNotNil(lines[0]["summary"])
        XCTAssertEqual((lines[1]["error"] as? [String: Any])?["category"] as? String, "truncated")
        XCTAssertEqual((lines[2]["error"] as? [String: Any])?["category"] as? String, "not_media")
        XCTAssertNotNil(lines[3]["summary"])
    }

    func testThresholdAndMinDurationControlFlags() throws {
        let coffee = fixture("coffee.mp4")
        func flagged(_ extra: [String]) throws -> Bool {
            let (_, report) = try scan([coffee, "--no-frames", "--threshold", "sexual=0"] + extra)
            let moderation = (report["summary"] as? [String: Any])?["moderation"] as? [[String: Any]] ?? []
            return moderation.first { $0["label"] as? String == "sexual" }?["flagged"] as? Bool ?? false
        }
        XCTAssertTrue(try flagged([]))
        XCTAssertTrue(try flagged(["--min-duration", "1.5"]))
        XCTAssertFalse(try flagged(["--min-duration", "5"]), "a 2 s clip cannot hold 5 s over the threshold")
    }

    func testMissingModelsSayHowToGetThem() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-nomodels-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try vidlabel(["scan", fixture("gop.mp4")], cwd: empty)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("open-nsfw.onnx") && r.stderr.contains("make models"), r.stderr)
    }

    /// Models load in the background while the first file decodes; a broken one
    /// must still be one clear error that stops the run, with no output file.
    func testBrokenModelFileStopsTheScan() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-badmodel-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let models = repoRoot.appendingPathComponent("Models")
        for name in ["efficientnet-lite0.onnx", "imagenet-classes.txt"] {
            try FileManager.default.copyItem(at: models.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let head = try Data(contentsOf: models.appendingPathComponent("open-nsfw.onnx")).prefix(1000)
        try head.write(to: dir.appendingPathComponent("open-nsfw.onnx"))
        let out = dir.appendingPathComponent("out.json")
        let r = try vidlabel(["scan", fixture("gop.mp4"), fixture("chelsea.mp4"), "--models-dir", dir.path, "-o", out.path])
        XCTAssertEqual(r.status, 1)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("open-nsfw.onnx") && r.stderr.contains("not an ONNX model"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no half-written report")
        let batch = try vidlabel(["batch", fixture("gop.mp4"), "--models-dir", dir.path, "-o", dir.appendingPathComponent("b.jsonl").path])
        XCTAssertEqual(batch.status, 1)
        XCTAssertTrue(batch.stderr.contains("not an ONNX model"), batch.stderr)
    }
}
