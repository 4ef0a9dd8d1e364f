import Foundation
import XCTest

/// What a new user trips on: install, symlinks, typos that must fail closed,
/// destinations checked first, messages that say what to do, coverage, progress.
final class NewUserCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-newuser-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ text: String, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// `make install`'s layout (`<prefix>/bin`, `<prefix>/share/vidlabel/models`), run by
    /// name from PATH in a folder without models: the binary finds its models from
    /// its own real path, also through a symlink (argv[0] is just "vidlabel").
    func testInstalledBinaryRunByNameFindsItsModels() throws {
        let prefix = dir.appendingPathComponent("prefix")
        let bin = prefix.appendingPathComponent("bin"), share = prefix.appendingPathComponent("share/vidlabel")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: binary, to: bin.appendingPathComponent("vidlabel"))
        try FileManager.default.createSymbolicLink(at: share.appendingPathComponent("models"), withDestinationURL: repoRoot.appendingPathComponent("Models"))
        let links = dir.appendingPathComponent("links")
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: links.appendingPathComponent("vidlabel"), withDestinationURL: bin.appendingPathComponent("vidlabel"))
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        for path in [bin.path, links.path] {
            let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["vidlabel", "scan", fixture("gop.mp4"), "--no-frames"], cwd: elsewhere,
                                   env: ["PATH": path + ":/usr/bin:/bin", "VIDLABEL_MODELS": ""])
            XCTAssertEqual(r.status, 0, "PATH=\(path): \(r.stderr)")
            XCTAssertNotNil(r.json()["summary"], r.stdout)
        }
    }

    /// A symlinked video is its target: size, mtime, no false truncation warning; and
    /// `--resume` notices a change of the real file.
    func testSymlinkedVideoIsItsTarget() throws {
        let target = dir.appendingPathComponent("real.mp4"), link = dir.appendingPathComponent("link.mp4")
        try FileManager.default.copyItem(atPath: fixture("gop.mp4"), toPath: target.path)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        let r = try vidlabel(["scan", link.path, "--no-frames"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = r.json()
        let size = try FileManager.default.attributesOfItem(atPath: target.path)[.size] as! NSNumber
        XCTAssertEqual((report["file"] as? [String: Any])?["size_bytes"] as? Int, size.intValue)
        XCTAssertEqual((report["errors"] as? [Any])?.count, 0, "no false truncated warning: \(report["errors"] ?? "")")

        let out = dir.appendingPathComponent("out.jsonl")
        let args = ["batch", link.path, "-o", out.path, "--no-frames", "--max-frames", "1"]
        XCTAssertEqual(try vidlabel(args).status, 0)
        XCTAssertTrue(try vidlabel(args + ["--resume"]).stderr.contains("0 ok"), "unchanged: nothing redone")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: target.path)
        let redo = try vidlabel(args + ["--resume"])
        XCTAssertTrue(redo.stderr.contains("1 ok"), "the real file changed: redone. \(redo.stderr)")
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").count, 1)
    }

    /// A typo in a label, topic or key is a usage error naming what is valid: a
    /// moderation gate must never pass because it checked nothing.
    func testTyposFailClosed() throws {
        let report = dir.appendingPathComponent("report.json").path
        XCTAssertEqual(try vidlabel(["scan", fixture("gop.mp4"), "-o", report]).status, 0)
        let typo = try write(#"{"deny":[{"label":"weapon","score_over":0.5}]}"#, "typo.json")
        let r = try vidlabel(["check", "--report", report, "--policy", typo])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("deny[0]: unknown label or topic \"weapon\" (did you mean \"weapons\"?)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("alcohol") && r.stderr.contains("vehicles & transport"), "names the valid ones: \(r.stderr)")

        let missing = try write(#"{"deny":[{"label":"weapons"}]}"#, "missing.json")
        XCTAssertEqual(try vidlabel(["check", "--report", report, "--policy", missing]).stderr,
                       "vidlabel: \(missing): deny[0]: missing \"score_over\"\n")
        let misspelt = try write(#"{"deny":[{"label":"weapons","scor_over":0.5}]}"#, "misspelt.json")
        let m = try vidlabel(["check", "--report", report, "--policy", misspelt])
        XCTAssertEqual(m.status, 2)
        XCTAssertTrue(m.stderr.contains("deny[0]: unknown key \"scor_over\" (did you mean \"score_over\"?)"), m.stderr)
        for (bad, says) in [(#"{"deny":[{"label":"weapons","score_over":"0.5"}]}"#, "\"score_over\" must be a number, got a string"),
                            (#"{"deny":[{"label":"weapons","score_over":5}]}"#, "\"score_over\" must be from 0.0 to 1.0"),
                            (#"{"require":[{"topic":"music","label":"sexual","min_score":0.1}]}"#, "exactly one of \"topic\" or \"label\""),
                            (#"{"require":[{"topic":"sexual","min_score":0.1}]}"#, "unknown topic \"sexual\""),
                            (#"{"denny":[]}"#, "unknown key \"denny\" (did you mean \"deny\"?)"),
                            (#"{}"#, "no rules"),
                            ("{not json", "not valid JSON")] {
            let p = try write(bad, "bad.json")
            let b = try vidlabel(["check", "--report", report, "--policy", p])
            XCTAssertEqual(b.status, 2, bad)
            XCTAssertTrue(b.stderr.contains(says), "\(bad): \(b.stderr)")
            XCTAssertEqual(b.stderr.split(separator: "\n").count, 1, b.stderr)
        }
        let d = try vidlabel(["diff", report, report, "--labels", "weapon"])
        XCTAssertEqual(d.status, 2)
        XCTAssertTrue(d.stderr.contains("unknown label or topic 'weapon' (did you mean 'weapons'?)"), d.stderr)
        XCTAssertEqual(try vidlabel(["diff", report, report, "--labels", "weapons,music"]).status, 0)
        let t = try vidlabel(["scan", fixture("gop.mp4"), "--threshold", "weapon=0.5"])
        XCTAssertEqual(t.status, 2)
        XCTAssertTrue(t.stderr.contains("sexual, suggestive, weapons, alcohol, drugs"), t.stderr)
    }

    func testModelsFolderMustExist() throws {
        let r = try vidlabel(["scan", fixture("gop.mp4"), "--models-dir", "/no/such/models"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--models-dir /no/such/models: no such folder"), r.stderr)
        let e = try vidlabel(["scan", fixture("gop.mp4")], env: ["VIDLABEL_MODELS": "/no/such/models"])
        XCTAssertEqual(e.status, 2)
        XCTAssertTrue(e.stderr.contains("VIDLABEL_MODELS=/no/such/models: no such folder"), e.stderr)
        XCTAssertEqual(try vidlabel(["models", "--models-dir", "/no/such/models"]).status, 2)
        // An explicit folder is the only one searched: no silent fallback to ./Models.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let f = try vidlabel(["scan", fixture("gop.mp4"), "--models-dir", empty.path])
        XCTAssertEqual(f.status, 1)
        XCTAssertTrue(f.stderr.contains("only folder searched"), f.stderr)
    }

    /// Destinations are checked before any work, each with one line.
    func testOutputDestinationsAreCheckedFirst() throws {
        let cases: [([String], String)] = [
            (["scan", fixture("gop.mp4"), "-o", "/missing/dir/out.json"], "folder /missing/dir does not exist"),
            (["scan", fixture("gop.mp4"), "-o", dir.path], "is a folder"),
            (["batch", fixture("gop.mp4"), "-o", "/missing/dir/out.jsonl"], "folder /missing/dir does not exist"),
            (["frames", fixture("gop.mp4"), "--out", fixture("gop.mp4")], "exists and is not a folder"),
        ]
        for (args, says) in cases {
            let r = try vidlabel(args)
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(says), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 3, "one line plus the usage hint: \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "no work was done")
        }
    }

    func testMessagesSayWhatToDo() throws {
        let folder = try vidlabel(["scan", repoRoot.appendingPathComponent("Fixtures").path])
        XCTAssertEqual(folder.status, 1)
        XCTAssertTrue(folder.stderr.contains("is a folder") && folder.stderr.contains("vidlabel batch"), folder.stderr)
        let late = try vidlabel(["scan", fixture("gop.mp4"), "--start", "10"])
        XCTAssertEqual(late.status, 1)
        XCTAssertTrue(late.stderr.contains("the start time 10 s is past the end of the video (5 s long)"), late.stderr)
        let zero = try vidlabel(["frames", fixture("gop.mp4"), "--sample", "interval:0"])
        XCTAssertEqual(zero.status, 2)
        XCTAssertTrue(zero.stderr.contains("needs SECONDS above 0"), zero.stderr)
        let negative = try vidlabel(["scan", fixture("gop.mp4"), "--threads", "-3"])
        XCTAssertEqual(negative.status, 2)
        XCTAssertTrue(negative.stderr.contains("--threads must be from 1 to 256, got -3"), negative.stderr)
        let typo = try vidlabel(["scna", fixture("gop.mp4")])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("did you mean 'scan'?"), typo.stderr)
    }

    /// By default no stretch of video longer than 2 s goes unsampled, even in a
    /// file with one key frame; 1 s GOPs still decode nothing but key frames.
    func testDefaultSamplingCoversTheVideo() throws {
        for name in ["scenes.mp4", "gop.mp4", "vfr.mp4"] {
            let r = try vidlabel(["scan", fixture(name)])
            XCTAssertEqual(r.status, 0, r.stderr)
            let report = r.json()
            let times = (report["frames"] as? [[String: Any]] ?? []).compactMap { $0["time_s"] as? Double }
            let duration = try XCTUnwrap((report["video"] as? [String: Any])?["duration_s"] as? Double)
            XCTAssertEqual(times.first, 0)
            for (a, b) in zip(times, times.dropFirst() + [duration]) {
                XCTAssertLessThanOrEqual(b - a, 2.0 + 1e-6, "\(name): \(times), duration \(duration)")
            }
            XCTAssertEqual(((report["sampling"] as? [String: Any])?["params"] as? [String: Any])?["max_gap"] as? Double, 2)
        }
        let keysOnly = try vidlabel(["frames", fixture("scenes.mp4"), "--max-gap", "0"]).jsonLines()
        XCTAssertEqual(keysOnly.count, 1, "--max-gap 0: key frames only")
    }

    /// `scan` shows a progress line on a terminal only, and JSON events when asked.
    func testScanProgress() throws {
        let cmd = [binary.path, "scan", fixture("vfr.mp4"), "--sample", "interval:0.25", "-o", "/dev/null"].map { "'\($0)'" }.joined(separator: " ")
        let tty = try runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qfec", cmd, "/dev/null"])
        XCTAssertTrue(tty.stdout.contains("vfr.mp4 00:0") && tty.stdout.contains("/00:03") && tty.stdout.contains("16 frames"),
                      "progress on a terminal: \(tty.stdout)")
        let quiet = try runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qfec", cmd + " --quiet", "/dev/null"])
        XCTAssertFalse(quiet.stdout.contains("frames"), quiet.stdout)
        let piped = try vidlabel(["scan", fixture("vfr.mp4"), "-o", "/dev/null"])
        XCTAssertEqual(piped.stderr, "", "nothing when stderr is not a terminal")
        let json = try vidlabel(["scan", fixture("vfr.mp4"), "--sample", "interval:0.25", "-o", "/dev/null", "--progress", "json"])
        let events = json.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertFalse(events.isEmpty, json.stderr)
        XCTAssertEqual(events.last?["duration_s"] as? Double, 3.934, "vfr.mp4 ends with its last 10 fps frame")
        XCTAssertEqual(events.last?["frames"] as? Int, 16)
    }

    func testSmallerSurprises() throws {
        let help = try vidlabel(["scan", "--help"]).stdout
        let threads = help.split(separator: "\n").first { $0.contains("--threads <threads>") }.map(String.init) ?? ""
        XCTAssertEqual(threads.components(separatedBy: "default").count, 2, "one default in: \(threads)")
        let pretty = try vidlabel(["scan", fixture("gop.mp4"), fixture("vfr.mp4"), "--pretty"])
        XCTAssertEqual(pretty.status, 2)
        XCTAssertTrue(pretty.stderr.contains("--pretty works with one file"), pretty.stderr)
        let version = try vidlabel(["--version"]).stdout
        for part in ["vidlabel 0.1.0 (commit ", "libavformat", "libavcodec", "engine:", "CPU:"] {
            XCTAssertTrue(version.contains(part), version)
        }
        let leading = try vidlabel(["probe", "-leading-dash.mp4"])
        XCTAssertEqual(leading.status, 2, "not help with exit 0: \(leading.stdout)")
        XCTAssertTrue(leading.stderr.contains("goes after '--'"), leading.stderr)
    }

    /// `check` says PASS or FAIL per file; the count is of files, not violations.
    func testCheckPrintsAVerdictPerFile() throws {
        let reports = dir.appendingPathComponent("r.jsonl").path
        XCTAssertEqual(try vidlabel(["scan", fixture("coffee.mp4"), fixture("gop.mp4"), "--sample", "interval:0.5", "-o", reports]).status, 0)
        let policy = try write(#"{"deny":[{"label":"food & drink","score_over":0.5}]}"#, "p.json")
        let r = try vidlabel(["check", "--report", reports, "--policy", policy])
        XCTAssertEqual(r.status, 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "FAIL \(fixture("coffee.mp4"))", r.stdout)
        XCTAssertTrue(lines.contains("PASS \(fixture("gop.mp4"))"), r.stdout)
        XCTAssertTrue(r.stderr.contains("check: 1 of 2 files failed"), r.stderr)
    }

    /// `diff` of reports sampled differently warns, and says which lines are regressions.
    func testDiffWarnsWhenReportsAreNotComparable() throws {
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        XCTAssertEqual(try vidlabel(["scan", fixture("coffee.mp4"), "--sample", "interval:0.5", "-o", a]).status, 0)
        XCTAssertEqual(try vidlabel(["scan", fixture("coffee.mp4"), "--sample", "interval:1", "--threshold", "sexual=0", "-o", b]).status, 0)
        let r = try vidlabel(["diff", a, b])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("warning:") && r.stderr.contains("sampled differently"), r.stderr)
        XCTAssertTrue(r.stdout.contains("\(fixture("coffee.mp4")): ") && r.stdout.contains("regression"), r.stdout)
        XCTAssertTrue(r.stdout.contains("sets exit 1"), r.stdout)
    }
}
