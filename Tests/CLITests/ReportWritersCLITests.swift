import Foundation
import XCTest

/// The reports people read: `--format text`, the HTML page rendered in a real
/// headless Chromium, `batch --html-dir`, contact sheets, and the JSON's key order.
final class ReportWritersCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-writers-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Big Buck Bunny every 0.5 s with low thresholds: sexual and alcohol are flagged.
    let bunny = repoRoot.appendingPathComponent("Models/samples/bigbuckbunny.mp4").path
    let flagging = ["--sample", "interval:0.5", "--threshold", "sexual=0.05", "--threshold", "alcohol=0.0005"]
    let moderationLabels = ["sexual", "suggestive", "weapons", "alcohol", "drugs"]

    static let chromium: URL? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }.map(URL.init(fileURLWithPath:))

    /// Runs headless Chromium on a local page with every request sent to `proxy`
    /// (a listener that counts connections) and Chromium's own background traffic off.
    func chromium(_ args: [String], page: String, proxy: Listener) throws -> RunResult {
        guard let exe = Self.chromium else {
            XCTFail("chromium is not installed (make test-deps installs it)")
            throw XCTSkip("no chromium")
        }
        return try runProcess(exe, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                    "--user-data-dir=\(path("chromium-profile"))",
                                    "--proxy-server=http://127.0.0.1:\(proxy.port)", "--proxy-bypass-list=<-loopback>",
                                    "--disable-background-networking", "--disable-component-update", "--no-first-run",
                                    "--disable-sync", "--disable-default-apps", "--virtual-time-budget=3000"]
                                   + args + [URL(fileURLWithPath: page).absoluteString], timeout: 120)
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// Requests through the proxy that were not Chromium's own (its clock, update and
    /// account checks go to Google hosts whatever the flags say). The page cannot hide a
    /// fetch among them: its CSP allows none and it holds no absolute URL (checked below).
    func pageRequests(_ proxy: Listener) -> [String] {
        let own = ["google.com", "googleapis.com", "gstatic.com", "gvt1.com", "googleusercontent.com"]
        return proxy.requests.filter { line in
            let target = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let host = (URL(string: target)?.host ?? String(target.split(separator: ":").first ?? "")).lowercased()
            return !own.contains { host == $0 || host.hasSuffix("." + $0) }
        }
    }

    /// The page loads with no network, holds one thumbnail per sampled frame and one
    /// timeline per moderation label, blurs the sexual-flagged frames, and paints something.
    func testHTMLReportRendersOfflineInChromium() throws {
        let html = path("bunny.html")
        let scan = try vidlabel(["scan", bunny, "--html", html] + flagging)
        XCTAssertEqual(scan.status, 0, scan.stderr)
        let report = scan.json()
        let frames = report["frames"] as? [[String: Any]] ?? []
        XCTAssertGreaterThan(frames.count, 5)
        let sexualOver = frames.filter { (($0["moderation"] as? [String: Double])?["sexual"] ?? 0) >= 0.05 }.count
        XCTAssertGreaterThan(sexualOver, 0, "the low threshold flags some frames")

        // The detector works: a page that does fetch reaches the listener.
        let proxy = try Listener()
        defer { proxy.close() }
        let control = path("control.html")
        try Data("<img src=\"http://vidlabel-test.invalid/x.png\"><script src=\"http://vidlabel-test.invalid/x.js\"></script>".utf8)
            .write(to: URL(fileURLWithPath: control))
        _ = try chromium(["--dump-dom"], page: control, proxy: proxy)
        XCTAssertTrue(pageRequests(proxy).contains { $0.contains("vidlabel-test.invalid") }, "a fetching page is seen: \(proxy.requests)")

        let quiet = try Listener()
        defer { quiet.close() }
        let dom = try chromium(["--dump-dom"], page: html, proxy: quiet)
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertEqual(pageRequests(quiet), [], "the report must not fetch anything")
        XCTAssertEqual(count("<figure id=\"f", in: dom.stdout), frames.count, "one figure per sampled frame")
        XCTAssertEqual(count("src=\"data:image/jpeg;base64,", in: dom.stdout), frames.count, "one embedded thumbnail per frame")
        XCTAssertEqual(count("class=\"timeline\"", in: dom.stdout), moderationLabels.count, "one timeline per moderation label")
        for label in moderationLabels { XCTAssertTrue(dom.stdout.contains("data-label=\"\(label)\""), label) }
        XCTAssertEqual(count("(blurred)\"", in: dom.stdout), sexualOver, "frames over the sexual threshold are blurred")
        XCTAssertFalse(dom.stdout.contains("http://") || dom.stdout.contains("https://"), "no absolute URL in the page")

        let shot = path("bunny.png")
        let s = try chromium(["--window-size=1200,1600", "--screenshot=\(shot)"], page: html, proxy: quiet)
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertEqual(pageRequests(quiet), [])
        let (distinct, spread) = try pictureStats(shot)
        XCTAssertGreaterThan(distinct, 200, "a screenshot with thumbnails has many grey levels; a blank page has one or two")
        XCTAssertGreaterThan(spread, 10, "the screenshot is not a flat colour")
    }

    /// Decodes an image with ffmpeg to 8-bit grey: the number of grey levels used and their standard deviation.
    func pictureStats(_ image: String) throws -> (Int, Double) {
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/ffmpeg"), ["-v", "error", "-i", image, "-f", "rawvideo", "-pix_fmt", "gray",
                                                                         path("grey.raw")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("grey.raw"))))
        guard !bytes.isEmpty else { return (0, 0) }
        var histogram = [Int](repeating: 0, count: 256)
        for b in bytes { histogram[Int(b)] += 1 }
        let mean = bytes.reduce(0.0) { $0 + Double($1) } / Double(bytes.count)
        let variance = bytes.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(bytes.count)
        return (histogram.filter { $0 > 0 }.count, variance.squareRoot())
    }

    /// `--format text` lists each flag with its segments as HH:MM:SS.mmm–HH:MM:SS.mmm.
    func testTextFormatListsFlagsWithTimes() throws {
        let json = try vidlabel(["scan", bunny] + flagging)
        XCTAssertEqual(json.status, 0, json.stderr)
        let text = try vidlabel(["scan", bunny, "--format", "text"] + flagging)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.hasPrefix(bunny), text.stdout)
        let segments = (json.json()["segments"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "moderation" }
        XCTAssertFalse(segments.isEmpty)
        func tc(_ s: Double) -> String {
            let ms = Int((s * 1000).rounded())
            return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
        }
        let flaggedAt = text.stdout.range(of: "FLAGGED")
        XCTAssertNotNil(flaggedAt, text.stdout)
        for s in segments {
            let line = "\(tc(s["start_s"] as! Double))–\(tc(s["end_s"] as! Double))"
            XCTAssertTrue(text.stdout.contains(line), "\(line) in\n\(text.stdout)")
        }
        XCTAssertTrue(text.stdout.contains("    sexual  max "), text.stdout)
        XCTAssertTrue(text.stdout.contains("animals"), "the top topic is listed")
        XCTAssertFalse(text.stdout.contains("{"), "no JSON in the text format")

        // A failing file is a block too, and the exit status still says so.
        let failed = try vidlabel(["scan", fixture("garbage.mp4"), "--format", "text"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stdout.contains("ERROR not_media"), failed.stdout)
    }

    /// Keys in the schema's order, at the top and inside; two runs give the same bytes.
    func testJSONKeysInSchemaOrderAndByteIdentical() throws {
        let a = try vidlabel(["scan", bunny] + flagging)
        let b = try vidlabel(["scan", bunny] + flagging)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout, "two runs, same bytes")
        let python = repoRoot.appendingPathComponent(".build/tools-venv/bin/python")
        let order = try runProcess(python, ["-c", """
            import json, sys
            r = json.loads(sys.stdin.read(), object_pairs_hook=lambda pairs: pairs)
            d = dict(r)
            print(" ".join(k for k, _ in r))
            print(" ".join(k for k, _ in d["video"]))
            print(" ".join(k for k, _ in d["frames"][0]))
            """], stdin: Data(a.stdout.utf8))
        XCTAssertEqual(order.status, 0, order.stderr)
        let lines = order.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "schema_version tool file video sampling models summary segments frames errors")
        XCTAssertEqual(lines.dropFirst().first, "duration_s width height rotation codec avg_fps")
        XCTAssertEqual(lines.last?.hasPrefix("time_s pts key_frame moderation topics"), true, lines.last ?? "")
    }

    /// One tile per sampled frame: the sheet's size is the tile grid's size.
    func testContactSheetHasOneTilePerFrame() throws {
        let sheet = path("sheet.jpg")
        let r = try vidlabel(["frames", bunny, "--sample", "interval:0.5", "--contact-sheet", sheet, "--columns", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let frames = r.jsonLines().count
        XCTAssertEqual(frames, 11, "0, 0.52, 1.0 ... 5.0 s")
        let probe = try runProcess(URL(fileURLWithPath: "/usr/bin/ffprobe"),
                                   ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", sheet])
        XCTAssertEqual(probe.status, 0, probe.stderr)
        // Tiles 160x90 (1280x720 scaled to 160 wide), an 11-px caption strip, 4-px gaps.
        let (tileW, tileH, caption, gap, columns) = (160, 90, 11, 4, 4)
        let rows = (frames + columns - 1) / columns
        XCTAssertEqual(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                       "mjpeg,\(gap + columns * (tileW + gap)),\(gap + rows * (tileH + caption + gap))")

        let png = path("sheet.png")
        XCTAssertEqual(try vidlabel(["frames", bunny, "--contact-sheet", png, "--columns", "2"]).status, 0)
        let p = try runProcess(URL(fileURLWithPath: "/usr/bin/ffprobe"), ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", png])
        XCTAssertEqual(p.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "png")
        XCTAssertEqual(try vidlabel(["frames", bunny, "--contact-sheet", png, "--columns", "0"]).status, 2)
        XCTAssertEqual(try vidlabel(["frames", bunny, "--contact-sheet", "/missing/dir/s.jpg"]).status, 2)
    }

    /// `batch --html-dir`: a page per video and an index with the flagged files first;
    /// `batch --format text`: a block per file, then the summary.
    func testBatchHTMLDirAndText() throws {
        let out = path("pages")
        let coffee = fixture("coffee.mp4"), bikes = repoRoot.appendingPathComponent("Models/samples/bikes.mp4").path
        let r = try vidlabel(["batch", bunny, coffee, bikes, fixture("corrupt.mp4"), "--html-dir", out, "--format", "text",
                              "--threshold", "sexual=0.05", "--jobs", "2", "--quiet"])
        let pages = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        // corrupt.mp4 decodes with concealed errors: a report (and a page) with its errors listed.
        XCTAssertEqual(pages.filter { $0.hasSuffix(".html") && $0 != "index.html" }.count, 4, "\(pages)")
        XCTAssertTrue(pages.contains("index.html"))
        let index = try String(contentsOfFile: (out as NSString).appendingPathComponent("index.html"), encoding: .utf8)
        let rows = index.components(separatedBy: "<tr").dropFirst(2).map { $0 }
        XCTAssertEqual(rows.count, 4, index)
        XCTAssertTrue(rows.first?.contains("bigbuckbunny.mp4") == true && rows.first?.contains("class=flagged") == true,
                      "the flagged file comes first: \(rows.first ?? "")")
        XCTAssertFalse(index.contains("http://") || index.contains("https://"))
        XCTAssertTrue(r.stdout.contains("FLAGGED\n    sexual"), r.stdout)
        XCTAssertTrue(r.stdout.contains("flagged sexual: \(bunny)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("4 files: 4 labelled, 0 failed"), r.stdout)
        // Where the concealed error lands depends on the encoder's bytes on this machine
        // (libx264 made the fixture): the JSON report says where, the text must say the same.
        let scan = try vidlabel(["scan", fixture("corrupt.mp4"), "--no-frames"]).json()
        let errorTime = ((scan["errors"] as? [[String: Any]])?.first { $0["category"] as? String == "decode_failed" })?["time_s"] as? Double
        let at = try XCTUnwrap(errorTime, "corrupt.mp4 has a decode_failed error with a time")
        let ms = Int((at * 1000).rounded())
        let code = String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
        XCTAssertTrue(r.stdout.contains("decode_failed at \(code)"), "corrupt.mp4's errors at \(code): \(r.stdout)")
        XCTAssertEqual(try vidlabel(["batch", coffee, "--format", "text", "--resume", "-o", path("x.txt")]).status, 2,
                       "--resume reads JSON Lines")
    }
}
