import Foundation
import XCTest

/// `scan --analyzers moderation,topics,faces` on clips of real photos: the astronaut's
/// face where it is in the picture, none in the cat, the coffee cup or a landscape; the report
/// validates against the schema, and a misspelt analyzer fails closed.
final class FacesCLITests: XCTestCase {
    let analyzers = ["--analyzers", "moderation,topics,faces"]

    func testAstronautFaceIsFoundWhereItIs() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-faces-\(getpid()).jsonl")
        defer { try? FileManager.default.removeItem(at: out) }
        // The landscape: Debian's mate-backgrounds Storm.jpg (Tools/make-photo-clips.sh).
        let r = try vidlabel(["scan", fixture("astronaut.mp4"), fixture("chelsea.mp4"), fixture("coffee.mp4"), fixture("landscape.mp4"),
                              "-o", out.path] + analyzers)
        XCTAssertEqual(r.status, 0, r.stderr)
        let reports = try readJSONLines(out)
        XCTAssertEqual(reports.count, 4)
        func frames(_ report: [String: Any]) -> [[String: Any]] { report["frames"] as? [[String: Any]] ?? [] }
        func people(_ report: [String: Any]) -> [String: Any] { (report["summary"] as? [String: Any])?["people"] as? [String: Any] ?? [:] }

        // scikit-image's astronaut (512x512): her face spans about x 181-268, y 62-172 px
        // (Tools/mtcnn_reference.py on the photo itself; the clip is the same picture).
        let astronaut = reports[0]
        XCTAssertFalse(frames(astronaut).isEmpty)
        for f in frames(astronaut) {
            let faces = f["faces"] as? [[String: Any]] ?? []
            XCTAssertEqual(faces.count, 1, "one face per frame: \(faces)")
            let box = faces.first?["box"] as? [Double] ?? []
            XCTAssertEqual(box.count, 4)
            for (got, want) in zip(box, [181.0, 62, 268, 172].map { $0 / 512 }) { XCTAssertEqual(got, want, accuracy: 0.03, "\(box)") }
            XCTAssertGreaterThan(faces.first?["score"] as? Double ?? 0, 0.95)
            // The people topic takes the face into account.
            XCTAssertEqual((f["topics"] as? [[String: Any]])?.first?["label"] as? String, "people")
        }
        XCTAssertEqual(people(astronaut)["max_faces"] as? Int, 1)
        XCTAssertEqual(people(astronaut)["face_frame_fraction"] as? Double, 1)
        let models = (astronaut["models"] as? [[String: Any]] ?? []).filter { $0["task"] as? String == "faces" }.compactMap { $0["name"] as? String }
        XCTAssertEqual(models, ["mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"])

        for report in reports[1...] {
            XCTAssertTrue(frames(report).allSatisfy { ($0["faces"] as? [Any])?.isEmpty == true }, "no face in \(report["file"]!)")
            XCTAssertEqual(people(report)["max_faces"] as? Int, 0)
        }

        let python = repoRoot.appendingPathComponent(".build/tools-venv/bin/python")
        let check = try runProcess(python, ["-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            for line in open(sys.argv[2]).read().splitlines():
                jsonschema.validate(json.loads(line), schema)
            """, repoRoot.appendingPathComponent("Schemas/report.schema.json").path, out.path])
        XCTAssertEqual(check.status, 0, check.stderr)
    }

    func testTextFormatSaysWhereFacesWere() throws {
        let r = try vidlabel(["scan", fixture("astronaut.mp4"), fixture("coffee.mp4"), "--format", "text"] + analyzers)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("  faces: in 2 of 2 frames (100%), at most 1 at once"), r.stdout)
        XCTAssertTrue(r.stdout.contains("  faces: none"), r.stdout)
    }

    func testWithoutFacesTheReportHasNoFaceKeys() throws {
        let r = try vidlabel(["scan", fixture("astronaut.mp4")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("\"faces\""))
        XCTAssertFalse(r.stdout.contains("\"people\":{"))
    }

    /// diff: a face that disappears, a report made without the faces analyzer, and the
    /// same report again.
    func testDiffSeesFacesComeAndGo() throws {
        let dir = try scratchFolder("facediff")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("base.json"), plain = dir.appendingPathComponent("plain.json")
        XCTAssertEqual(try vidlabel(["scan", fixture("astronaut.mp4"), "-o", base.path] + analyzers).status, 0)
        XCTAssertEqual(try vidlabel(["scan", fixture("astronaut.mp4"), "-o", plain.path]).status, 0)
        XCTAssertEqual(try vidlabel(["diff", base.path, base.path]).status, 0)
        let gone = dir.appendingPathComponent("gone.json")
        try writeReport(base, to: gone) { $0["people"] = ["max_faces": 0, "frames_with_faces": 0, "face_frame_fraction": 0.0] }
        let r = try vidlabel(["diff", base.path, gone.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("faces disappeared (were in 2 frames, at most 1 at once)"), r.stdout)
        let dropped = try vidlabel(["diff", base.path, plain.path])
        XCTAssertEqual(dropped.status, 1)
        XCTAssertTrue(dropped.stdout.contains("faces are no longer looked for"), dropped.stdout)
    }

    /// `vidlabel models` lists what each analyzer needs; the faces nets are optional:
    /// missing, they are listed as not installed and the command still succeeds.
    func testModelsListsEachAnalyzersNeeds() throws {
        let all = try vidlabel(["models"])
        XCTAssertEqual(all.status, 0, all.stderr)
        let entries = all.jsonLines()
        XCTAssertEqual(entries.filter { $0["analyzer"] as? String == "faces" }.compactMap { $0["name"] as? String },
                       ["mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"])
        XCTAssertTrue(entries.allSatisfy { $0["installed"] as? Bool == true })
        let pnet = entries.first { $0["name"] as? String == "mtcnn-pnet" }
        XCTAssertEqual(pnet?["input_shape"] as? [Int], [1, 3, 360, 640])

        let dir = try scratchFolder("nofaces")
        defer { try? FileManager.default.removeItem(at: dir) }
        try linkBaseModels(into: dir)
        let partial = try vidlabel(["models", "--models-dir", dir.path])
        XCTAssertEqual(partial.status, 0, partial.stderr)
        // faces' three nets, text's three, NudeNet.
        XCTAssertEqual(partial.jsonLines().filter { $0["installed"] as? Bool == false }.count, 7)
        // Asking for faces without the nets is that file's clear error, before any work.
        let scan = try vidlabel(["scan", fixture("astronaut.mp4"), "--models-dir", dir.path] + analyzers)
        XCTAssertNotEqual(scan.status, 0)
        XCTAssertTrue(scan.stderr.contains("mtcnn-pnet.onnx"), scan.stderr)
    }

    func testMisspeltAnalyzerFailsClosed() throws {
        for (list, expected) in [("moderation,topics,fases", "unknown analyzer 'fases'"), ("moderation,topics,nudty", "unknown analyzer 'nudty'"),
                                 ("faces", "moderation and topics always run")] {
            let r = try vidlabel(["scan", fixture("astronaut.mp4"), "--analyzers", list])
            XCTAssertEqual(r.status, 2, list)
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").first.map { $0.hasPrefix("vidlabel: --analyzers") }, true, r.stderr)
            XCTAssertTrue(r.stdout.isEmpty)
        }
    }
}
