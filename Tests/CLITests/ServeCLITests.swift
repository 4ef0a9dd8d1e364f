import Foundation
import XCTest

/// `vidlabel serve --stdio`, the worker the Beam and Spark integrations drive.
final class ServeCLITests: XCTestCase {
    /// One record per request, in order, as `batch` writes them; missing inputs are
    /// transient, broken ones final; blank lines ignored; JSON requests accepted.
    func testOneRecordPerRequestInOrder() throws {
        let good = fixture("gop.mp4"), broken = fixture("garbage.mp4"), missing = "/nonexistent/later.mp4"
        let requests = [good, "", broken, "{\"path\": \"\(fixture("vfr.mp4"))\"}", missing, "{\"nopath\": 1}"].joined(separator: "\n") + "\n"
        let r = try vidlabel(["serve", "--stdio", "--no-frames"], stdin: Data(requests.utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        let records = r.jsonLines()
        XCTAssertEqual(r.lines.count, 5, "one line per non-blank request: \(r.stdout)")
        XCTAssertEqual(records.compactMap { ($0["file"] as? [String: Any])?["path"] as? String },
                       [good, broken, fixture("vfr.mp4"), missing, "{\"nopath\": 1}"])
        func error(_ i: Int) -> [String: Any]? { records[i]["error"] as? [String: Any] }
        XCTAssertNil(error(0))
        XCTAssertEqual(error(1)?["category"] as? String, "not_media")
        XCTAssertNil(error(1)?["transient"], "a broken file is final")
        // Error records say which build and models gave the verdict, as reports do.
        XCTAssertEqual((records[1]["tool"] as? [String: Any])?["name"] as? String, "vidlabel")
        XCTAssertEqual((records[1]["models"] as? [[String: Any]])?.map { $0["sha256"] as? String },
                       (records[0]["models"] as? [[String: Any]])?.map { $0["sha256"] as? String })
        XCTAssertEqual(error(3)?["category"] as? String, "not_found")
        XCTAssertEqual(error(3)?["transient"] as? Bool, true, "a missing input may be staged later")
        XCTAssertEqual(error(4)?["category"] as? String, "failed")

        // The same bytes as batch for the same file and options.
        let batch = try vidlabel(["batch", good, fixture("vfr.mp4"), "--no-frames", "--quiet"])
        XCTAssertEqual(Set(batch.lines), Set([r.lines[0], r.lines[2]]))
    }

    /// Missing models: exit 75 (retry elsewhere), before reading any request.
    func testMissingModelsAreTransient() throws {
        let r = try vidlabel(["serve", "--stdio"], env: ["VIDLABEL_MODELS": FileManager.default.temporaryDirectory.path],
                             stdin: Data("\(fixture("gop.mp4"))\n".utf8))
        XCTAssertEqual(r.status, 75, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("not found"), r.stderr)
        XCTAssertEqual(try vidlabel(["serve"]).status, 2, "--stdio is required")
    }
}
