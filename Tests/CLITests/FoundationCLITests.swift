import Foundation
import XCTest

/// `probe` and `frames`, run as a user would.
final class FoundationCLITests: XCTestCase {
    func testProbeReportsDisplayGeometry() throws {
        let r = try vidlabel(["probe", fixture("rotated.mp4")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let j = r.json()
        XCTAssertEqual(j["display_width"] as? Int, 240)
        XCTAssertEqual(j["display_height"] as? Int, 320)
        XCTAssertEqual(j["rotation"] as? Int, 270)
        XCTAssertEqual(j["codec"] as? String, "h264")
    }

    func testProbeSeveralFilesIsJSONLinesWithErrorRecords() throws {
        let r = try vidlabel(["probe", fixture("gop.mp4"), fixture("garbage.mp4"), fixture("hevc10.mp4")])
        XCTAssertEqual(r.status, 1)
        let lines = r.jsonLines()
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual((lines[1]["error"] as? [String: Any])?["category"] as? String, "not_media")
        XCTAssertEqual(lines[2]["bit_depth"] as? Int, 10)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one error line: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("garbage.mp4"))
    }

    func testFramesPrintsTimestampsAndWritesPNGs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-frames-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try vidlabel(["frames", fixture("gop.mp4"), "--size", "64x48", "--out", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let frames = r.jsonLines()
        XCTAssertEqual(frames.map { $0["time_s"] as? Double }, [0, 1, 2, 3, 4])
        XCTAssertEqual(frames.map { $0["pts"] as? Int }, [0, 15360, 30720, 46080, 61440])
        for f in frames {
            let png = try XCTUnwrap(f["png"] as? String)
            let head = try XCTUnwrap(FileManager.default.contents(atPath: png)).prefix(8)
            XCTAssertEqual(Array(head), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        }
    }

    func testBrokenInputsExitNonZeroWithOneLine() throws {
        let cases = ["empty.mp4": "not_media", "garbage.mp4": "not_media", "audio_only.mp4": "no_video_stream",
                     "truncated_moov.mp4": "truncated", "zero_frames.avi": "no_frames", "no-such-file.mp4": "not_found"]
        for (name, category) in cases {
            let r = try vidlabel(["frames", fixture(name)])
            XCTAssertEqual(r.status, 1, name)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(name) && r.stderr.contains("(\(category))"), "\(name): \(r.stderr)")
        }
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try vidlabel(["frames", fixture("gop.mp4"), "--sample", "sometimes"]).status, 2)
        XCTAssertEqual(try vidlabel(["scan", fixture("gop.mp4"), "--threshold", "nudity=2"]).status, 2)
        XCTAssertEqual(try vidlabel(["scan"]).status, 2)
        XCTAssertEqual(try vidlabel(["no-such-command"]).status, 2)
    }
}
