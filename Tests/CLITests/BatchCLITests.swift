import Foundation
import XCTest

/// `vidlabel batch` on a directory of good, broken and non-video files.
final class BatchCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-batch-\(getpid())-\(UUID().uuidString.prefix(8))")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for name in ["gop.mp4", "coffee.mp4", "truncated_moov.mp4", "audio_only.mp4", "vp9.webm"] {
            try fm.copyItem(atPath: fixture(name), toPath: dir.appendingPathComponent(name).path)
        }
        try fm.copyItem(atPath: fixture("chelsea.mp4"), toPath: dir.appendingPathComponent("sub/chelsea.mp4").path)
        try fm.copyItem(atPath: fixture("garbage.mp4"), toPath: dir.appendingPathComponent("sub/fake.mp4").path)
        try Data("not a video\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var videos: Set<String> {
        Set(["gop.mp4", "coffee.mp4", "truncated_moov.mp4", "vp9.webm", "sub/chelsea.mp4"].map { dir.appendingPathComponent($0).path })
    }

    func records(_ out: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "whole lines only")
        return try text.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "a partial line: \(line)")
        }
    }

    func path(_ record: [String: Any]) -> String { (record["file"] as? [String: Any])?["path"] as? String ?? "" }

    func testDirectoryGivesOneRecordPerVideoAndListsSkipped() throws {
        let out = dir.appendingPathComponent("results.jsonl")
        let r = try vidlabel(["batch", dir.path, "--recursive", "--jobs", "2", "--no-frames", "-o", out.path])
        XCTAssertEqual(r.status, 1, "one broken video: \(r.stderr)")
        let recs = try records(out)
        XCTAssertEqual(recs.count, 5)
        XCTAssertEqual(Set(recs.map(path)), videos)
        let broken = recs.first { path($0).hasSuffix("truncated_moov.mp4") }
        XCTAssertEqual((broken?["error"] as? [String: Any])?["category"] as? String, "truncated")
        for name in ["audio_only.mp4", "notes.txt", "fake.mp4"] {
            XCTAssertTrue(r.stderr.contains("skipped (not a video)") && r.stderr.contains(name), "\(name): \(r.stderr)")
        }
        XCTAssertTrue(r.stderr.contains("4 ok, 1 failed, 3 skipped"), r.stderr)
        XCTAssertFalse(r.stderr.contains("\r["), "no progress bar when stderr is not a terminal")
    }

    func testKillDashNineThenResumeLeavesExactlyOneRecordPerFile() throws {
        // More files so the batch is still running when it is killed.
        for i in 0..<6 {
            try FileManager.default.copyItem(atPath: fixture("vfr.mp4"), toPath: dir.appendingPathComponent("vfr\(i).mp4").path)
        }
        let all = videos.union((0..<6).map { dir.appendingPathComponent("vfr\($0).mp4").path })
        let out = dir.appendingPathComponent("results.jsonl")
        let args = ["batch", dir.path, "--recursive", "--sample", "interval:0.25", "--threads", "1", "-o", out.path]
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = repoRoot
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOf: out, encoding: .utf8), text.split(separator: "\n").count >= 2 { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = try records(out).count
        XCTAssertLessThan(before, all.count, "killed before the end")
        // A write torn by the kill: resume must drop it.
        let h = try FileHandle(forWritingTo: out)
        h.seekToEndOfFile()
        h.write(Data("{\"file\":{\"path\":\"\(dir.appendingPathComponent("gop.mp4").path)\",\"size".utf8))
        try h.close()

        let r = try vidlabel(args + ["--resume"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let recs = try records(out)
        XCTAssertEqual(recs.count, all.count, "exactly one record per file")
        XCTAssertEqual(Set(recs.map(path)), all)
        XCTAssertTrue(r.stderr.contains("already done"), r.stderr)

        // Nothing left to do; a changed file is redone, not duplicated.
        let again = try vidlabel(args + ["--resume"])
        XCTAssertTrue(again.stderr.contains("0 ok, 0 failed"), again.stderr)
        let gop = dir.appendingPathComponent("gop.mp4")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: gop.path)
        let redo = try vidlabel(args + ["--resume"])
        XCTAssertTrue(redo.stderr.contains("1 ok"), redo.stderr)
        XCTAssertEqual(try records(out).filter { path($0) == gop.path }.count, 1)
        XCTAssertEqual(try records(out).count, all.count)
    }

    func testSIGTERMStopsCleanlyWithExit130() throws {
        for i in 0..<4 {
            try FileManager.default.copyItem(atPath: fixture("vfr.mp4"), toPath: dir.appendingPathComponent("vfr\(i).mp4").path)
        }
        let out = dir.appendingPathComponent("results.jsonl")
        let p = Process()
        p.executableURL = binary
        p.arguments = ["batch", dir.path, "--sample", "interval:0.2", "--threads", "1", "-o", out.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOf: out, encoding: .utf8)) ?? "").isEmpty { usleep(20_000) }
        kill(p.processIdentifier, SIGTERM)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130, message)
        XCTAssertTrue(message.contains("--resume"), message)
        XCTAssertFalse(try records(out).isEmpty)
    }

    func testShardsCoverEverythingOnce() throws {
        var seen: [String] = []
        for i in 0..<3 {
            let r = try vidlabel(["batch", dir.path, "--recursive", "--shard", "\(i)/3", "--max-frames", "1", "--no-frames"])
            seen += r.jsonLines().map(path)
        }
        XCTAssertEqual(seen.count, videos.count, "no overlap: \(seen)")
        XCTAssertEqual(Set(seen), videos)
    }

    func testProgressAppearsOnATerminalOnly() throws {
        let cmd = ([binary.path, "batch", dir.appendingPathComponent("gop.mp4").path, "--no-frames", "-o", "/dev/null"])
            .map { "'\($0)'" }.joined(separator: " ")
        let tty = try runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qfec", cmd, "/dev/null"])
        XCTAssertTrue(tty.stdout.contains("[1/1]"), "progress bar on a terminal: \(tty.stdout)")
        let pipe = try vidlabel(["batch", dir.appendingPathComponent("gop.mp4").path, "--no-frames", "-o", "/dev/null"])
        XCTAssertFalse(pipe.stderr.contains("[1/1]"), pipe.stderr)
        let json = try vidlabel(["batch", dir.appendingPathComponent("gop.mp4").path, "--no-frames", "-o", "/dev/null", "--progress", "json"])
        let events = json.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(events.first?["event"] as? String, "progress")
        XCTAssertEqual(events.first?["done"] as? Int, 1)
    }

    func testFromListAndGlobs() throws {
        let list = dir.appendingPathComponent("list.txt")
        try Data((dir.appendingPathComponent("gop.mp4").path + "\n\n" + dir.appendingPathComponent("vp9.webm").path + "\n").utf8).write(to: list)
        let r = try vidlabel(["batch", "--from-list", list.path, dir.path + "/sub/*.mp4", "--exclude", "fake.mp4", "--max-frames", "1", "--no-frames"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Set(r.jsonLines().map(path)), Set(["gop.mp4", "vp9.webm", "sub/chelsea.mp4"].map { dir.appendingPathComponent($0).path }))
        XCTAssertEqual(try vidlabel(["batch", dir.path + "/nothing-*.mp4"]).status, 2)
    }
}
