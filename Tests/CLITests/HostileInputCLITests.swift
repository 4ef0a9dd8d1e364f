import Foundation
import XCTest

/// Inputs nobody trusts: file names that look like URLs, playlists, FIFOs, absurd
/// option values, symlink cycles, full disks, two writers, control characters.
/// Each was a finding of the fuzzing campaign (crash, hang, wrong file read,
/// network access, lost record) and is kept here as a regression input.
final class HostileInputCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-hostile-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ text: String, _ name: String) throws -> String {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        return path(name)
    }

    /// Every run here gets 60 s: the bugs these inputs found were hangs among them.
    func vidlabel(_ args: [String], cwd: URL = repoRoot, env: [String: String] = [:], stdin: Data? = nil,
                  file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        try CLITests.vidlabel(args, cwd: cwd, env: env, stdin: stdin, timeout: 60, file: file, line: line)
    }

    func category(_ r: RunResult) -> String? {
        (r.jsonLines().first?["error"] as? [String: Any])?["category"] as? String
    }

    /// A name is a local file, never a URL: `file:x` is not x, `http:`/`tcp:` open no
    /// connection, `pipe:0` does not read stdin.
    func testNamesAreLocalFilesNotURLs() throws {
        let listener = try Listener()
        defer { listener.close() }
        try FileManager.default.copyItem(atPath: fixture("gop.mp4"), toPath: path("decoy.mp4"))
        _ = try write(String(repeating: "not a video ", count: 200), "file:decoy.mp4")
        let fileScheme = try vidlabel(["probe", "file:decoy.mp4"], cwd: dir)
        XCTAssertEqual(fileScheme.status, 1, "the literal file, not decoy.mp4: \(fileScheme.stdout)")
        XCTAssertEqual(category(fileScheme), "not_media")

        // Files named like URLs: they are read as the local files they are.
        for name in ["http:127.0.0.1:\(listener.port)", "tcp:127.0.0.1:\(listener.port)"] {
            try FileManager.default.copyItem(atPath: fixture("gop.mp4"), toPath: path(name))
            let r = try vidlabel(["probe", name], cwd: dir)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertEqual(r.json()["codec"] as? String, "h264")
        }
        // And when no such file exists, nothing is opened either.
        for name in ["http:127.0.0.1:\(listener.port)/x.mp4", "tcp:127.0.0.1:\(listener.port)?x", "pipe:0"] {
            let start = Date()
            let r = try vidlabel(["probe", name], cwd: dir, stdin: Data())
            XCTAssertEqual(r.status, 1, name)
            XCTAssertEqual(category(r), "not_found", "\(name): \(r.stdout)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 20, "\(name) must not wait on a network or a pipe")
        }
        XCTAssertEqual(listener.connections, 0, "no connection may reach the network")
    }

    /// Playlists, concat lists, images, text and FIFOs are not videos: refused at once.
    func testOnlyVideoContainersAreOpened() throws {
        let playlist = try write("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nloop.m3u8\n#EXTINF:1,\nloop.m3u8\n", "loop.m3u8")
        let concat = try write("ffconcat version 1.0\nfile '\(fixture("gop.mp4"))'\nfile '\(fixture("gop.mp4"))'\n", "list.ffconcat")
        let text = try write(String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 40), "notes.txt")
        let image = repoRoot.appendingPathComponent("Models/samples/chelsea.png").path
        let fifo = path("live.mp4")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        for file in [playlist, concat, text, image, fifo] {
            let start = Date()
            let r = try vidlabel(["scan", file, "--no-frames"])
            XCTAssertEqual(r.status, 1, file)
            XCTAssertEqual(category(r), "not_media", "\(file): \(r.stdout) \(r.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 20, file)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        let b = try vidlabel(["batch", playlist, text, fixture("gop.mp4"), "--no-frames"])
        XCTAssertEqual(b.status, 0, "not videos are skipped by batch: \(b.stderr)")
        XCTAssertEqual(b.jsonLines().count, 1)
    }

    /// A FIFO where a model should be must not block the run.
    func testModelFileThatIsAFIFOIsRefused() throws {
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(models.appendingPathComponent("open-nsfw.onnx").path, 0o644), 0)
        let start = Date()
        let r = try vidlabel(["scan", fixture("gop.mp4"), "--models-dir", models.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("not a regular file"), r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
        let fifo = path("model.onnx")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let bench = try vidlabel(["bench-model", fifo])
        XCTAssertEqual(bench.status, 1)
        XCTAssertTrue(bench.stderr.contains("not a regular file"), bench.stderr)
    }

    /// Numbers a user (or a script's bug) may pass: each is a usage error naming the option.
    func testOptionValuesAreBounded() throws {
        let gop = fixture("gop.mp4")
        let cases: [[String]] = [
            ["scan", gop, "--start", "1e19"], ["scan", gop, "--start", "inf"], ["scan", gop, "--start", "nan"],
            ["scan", gop, "--end", "nan"], ["scan", gop, "--min-interval", "nan"], ["scan", gop, "--max-gap", "nan"],
            ["scan", gop, "--merge-gap", "nan"], ["scan", gop, "--min-duration", "nan"], ["scan", gop, "--merge-gap", "-1"],
            ["frames", gop, "--resize", "region:nan"], ["frames", gop, "--resize", "crop:2"], ["frames", gop, "--size", "12xq"],
            ["scan", gop, "--decode-threads", "9223372036854775807"], ["scan", gop, "--decode-threads", "100000"],
            ["scan", gop, "--batch-size", "9223372036854775807"], ["scan", gop, "--threads", "0"],
            ["bench-model", repoRoot.appendingPathComponent("Models/mobilenet-v2.onnx").path, "--batch", "100000"],
            ["frames", gop, "--sample", "interval:1e-300"], ["frames", gop, "--sample", "interval:nan"],
            ["frames", gop, "--sample", "scenes:nan"], ["batch", gop, "--jobs", "-1"], ["batch", gop, "--shard", "3/2"],
            ["scan", gop, "--top-k", "100000"], ["diff", gop, gop, "--score-tolerance", "nan"],
        ]
        for args in cases {
            let start = Date()
            let r = try vidlabel(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("vidlabel: "), "\(args): \(r.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 20, "\(args)")
        }
    }

    /// A symlink cycle is walked once; the same file named twice is one record.
    func testBatchWalksEachDirectoryAndFileOnce() throws {
        let tree = dir.appendingPathComponent("tree/sub")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("gop.mp4"), toPath: tree.appendingPathComponent("a.mp4").path)
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("loop").path, withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("again.mp4").path, withDestinationPath: "a.mp4")
        let start = Date()
        let r = try vidlabel(["batch", dir.appendingPathComponent("tree").path, "--recursive", "--max-frames", "1", "--no-frames"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.jsonLines().count, 1, "one file, one record: \(r.stdout)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        // Relative and absolute names of one file.
        let twice = try vidlabel(["batch", "sub/a.mp4", tree.appendingPathComponent("a.mp4").path, "--max-frames", "1", "--no-frames"],
                                 cwd: dir.appendingPathComponent("tree"), env: ["VIDLABEL_MODELS": repoRoot.appendingPathComponent("Models").path])
        XCTAssertEqual(twice.jsonLines().count, 1, twice.stdout)
    }

    /// Two batches on one output: the second refuses (nothing interleaved, nothing lost).
    func testSecondBatchOnTheSameOutputRefuses() throws {
        for i in 0..<3 { try FileManager.default.copyItem(atPath: fixture("vfr.mp4"), toPath: path("v\(i).mp4")) }
        let out = path("results.jsonl")
        let first = Process()
        first.executableURL = binary
        first.arguments = ["batch", path("v0.mp4"), path("v1.mp4"), path("v2.mp4"), "--sample", "interval:0.1", "--threads", "1", "-o", out]
        first.standardError = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !FileManager.default.fileExists(atPath: out) { usleep(10_000) }
        usleep(100_000)
        let second = try vidlabel(["batch", fixture("gop.mp4"), "-o", out])
        first.waitUntilExit()
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssertTrue(second.stderr.contains("another vidlabel batch is writing"), second.stderr)
        XCTAssertEqual(first.terminationStatus, 0)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "the first run's records, all of them")
    }

    /// A resumed batch's exit status reflects the error records its output holds.
    func testResumedBatchStillFailsForKeptErrors() throws {
        let out = path("r.jsonl")
        let args = ["batch", fixture("gop.mp4"), fixture("truncated_moov.mp4"), "--max-frames", "1", "--no-frames", "-o", out]
        XCTAssertEqual(try vidlabel(args).status, 1)
        let resumed = try vidlabel(args + ["--resume"])
        XCTAssertTrue(resumed.stderr.contains("0 ok, 0 failed"), resumed.stderr)
        XCTAssertEqual(resumed.status, 1, "the output still holds an error record")
    }

    /// A write error on stdout is one line and exit 1, not a crash.
    func testStandardOutputOnAFullDevice() throws {
        let r = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "'\(binary.path)' probe '\(fixture("gop.mp4"))' > /dev/full"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "vidlabel: standard output: No space left on device\n")
    }

    /// `batch -o` on a full disk: one error line, exit 1, only whole records in the
    /// file, and `--resume` continues once there is room. Needs a small tmpfs (root).
    func testFullDiskLeavesWholeRecords() throws {
        let mnt = dir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mnt, withIntermediateDirectories: true)
        let mount = try runProcess(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=8k", "tmpfs", mnt.path])
        try XCTSkipIf(mount.status != 0, "cannot mount a tmpfs here (not root?): \(mount.stderr)")
        defer { _ = try? runProcess(URL(fileURLWithPath: "/bin/umount"), [mnt.path]) }
        var files: [String] = []
        for i in 0..<8 {
            try FileManager.default.copyItem(atPath: fixture("gop.mp4"), toPath: path("g\(i).mp4"))
            files.append(path("g\(i).mp4"))
        }
        let out = mnt.appendingPathComponent("out.jsonl").path
        let r = try vidlabel(["batch"] + files + ["--max-frames", "1", "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "no half line")
        for line in text.split(separator: "\n") { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8))) }
        XCTAssertLessThan(text.split(separator: "\n").count, 8)
    }

    /// Control characters in a name never split the one-line error or reach the terminal raw.
    func testControlCharactersInNamesAreEscaped() throws {
        let name = "bad\nname\u{1B}[31m.mp4"
        _ = try write("garbage", name)
        let r = try vidlabel(["scan", path(name)])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("bad\\nname\\x1b[31m.mp4"), r.stderr)
        XCTAssertFalse(r.stderr.contains("\u{1B}"))
    }

    /// A small file listing very many tiny frames (the scenes sampler decodes them all):
    /// `--timeout` bounds the work with an error record of category timeout.
    func testTimeoutBoundsTheWorkOnAFile() throws {
        let many = path("many.mp4")
        let make = try runProcess(URL(fileURLWithPath: "/usr/bin/ffmpeg"),
                                  ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=black:size=64x64:rate=1000", "-t", "30",
                                   "-c:v", "libx264", "-preset", "ultrafast", "-g", "100000", many])
        XCTAssertEqual(make.status, 0, make.stderr)
        let start = Date()
        let r = try vidlabel(["scan", many, "--sample", "scenes", "--timeout", "1"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 15)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(category(r), "timeout", r.stdout)
        XCTAssertTrue(r.stderr.contains("stopped after 1 s (--timeout)"), r.stderr)
    }

    /// A name that is not UTF-8 is an error record, not silently dropped.
    func testNonUTF8NamesAreReported() throws {
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        let raw = Array(videos.path.utf8) + Array("/clip".utf8) + [0xFF, 0]  // ".../clip\xff", NUL-terminated
        let fd = raw.withUnsafeBufferPointer { p in p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { open($0, O_CREAT | O_WRONLY, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        try FileManager.default.copyItem(atPath: fixture("gop.mp4"), toPath: videos.appendingPathComponent("ok.mp4").path)
        let r = try vidlabel(["batch", videos.path, "--max-frames", "1", "--no-frames"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let paths = r.jsonLines().compactMap { ($0["file"] as? [String: Any])?["path"] as? String }
        XCTAssertEqual(paths.count, 2, r.stdout)
        XCTAssertTrue(paths.contains(videos.path + "/clip\\xff"), "\(paths)")
    }

    /// The same input gives the same bytes whatever the timing, threads and batch size.
    func testScanIsByteIdenticalWhateverTheTiming() throws {
        let bikes = repoRoot.appendingPathComponent("Models/samples/bikes.mp4").path
        var outputs = Set<String>()
        for extra in [["--threads", "1"], ["--threads", "1"], ["--threads", "1", "--batch-size", "1"], ["--threads", "1", "--batch-size", "3"],
                      ["--threads", "2"], ["--threads", "2", "--batch-size", "5"]] {
            let r = try vidlabel(["scan", bikes, "--sample", "interval:0.5"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            outputs.insert(r.stdout)
        }
        XCTAssertEqual(outputs.count, 1, "reports differ across runs, threads or batch sizes")
    }

    /// A model that cannot serve its role is one error for the run, before any video.
    func testBrokenModelIsOneErrorNotOnePerVideo() throws {
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for f in ["efficientnet-lite0.onnx", "imagenet-classes.txt"] {
            try FileManager.default.createSymbolicLink(atPath: models.appendingPathComponent(f).path,
                                                       withDestinationPath: repoRoot.appendingPathComponent("Models/\(f)").path)
        }
        // The topic model where the moderation model should be: 1000 scores, not 2.
        try FileManager.default.createSymbolicLink(atPath: models.appendingPathComponent("open-nsfw.onnx").path,
                                                   withDestinationPath: repoRoot.appendingPathComponent("Models/mobilenet-v2.onnx").path)
        let out = path("o.jsonl")
        let r = try vidlabel(["batch", fixture("gop.mp4"), fixture("vfr.mp4"), "--models-dir", models.path, "-o", out])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("open-nsfw.onnx: expects input [N, 3, 224, 224]"), r.stderr)
        let written = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertEqual(written, "", "no per-video failure records")
    }
}

/// A TCP listener on 127.0.0.1 that counts connections (a test fails if any arrive).
final class Listener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    private let lock = NSLock()
    private var count = 0
    private var open = true

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        guard bound == 0, listen(s, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = UInt16(bigEndian: addr.sin_port)
        Thread.detachNewThread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                lock.lock()
                let stillOpen = open
                if c >= 0 && stillOpen { count += 1 }
                lock.unlock()
                if c >= 0 {
                    // The request line (what was asked for), read with a short timeout.
                    var tv = timeval(tv_sec: 1, tv_usec: 0)
                    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    var buffer = [UInt8](repeating: 0, count: 512)
                    let n = read(c, &buffer, buffer.count)
                    let line = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? "" : ""
                    lock.lock(); received.append(line); lock.unlock()
                    Glibc.close(c)
                }
                if c < 0 || !stillOpen { return }
            }
        }
    }

    var connections: Int { lock.lock(); defer { lock.unlock() }; return count }
    /// The first line of each connection's request (`GET http://host/path HTTP/1.1`, `CONNECT host:443 HTTP/1.1`).
    private var received: [String] = []
    var requests: [String] { lock.lock(); defer { lock.unlock() }; return received }

    func close() {
        lock.lock(); open = false; lock.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
