import XCTest
import VideoIO

final class SamplingTests: XCTestCase {
    func testKeyframesOfGOPFixtureAreExact() throws {
        let (frames, _) = try sample("gop.mp4")
        XCTAssertEqual(frames.map(\.timeS), [0, 1, 2, 3, 4])
        XCTAssertEqual(frames.map(\.pts), [0, 15360, 30720, 46080, 61440])
        XCTAssertEqual(frames.first?.timeBase, Rational(num: 1, den: 15360))
        XCTAssertTrue(frames.allSatisfy { $0.keyFrame && $0.pictType == "I" })
        XCTAssertEqual(frames.map(\.index), [0, 1, 2, 3, 4])
    }

    func testMinIntervalSpacesKeyframes() throws {
        let (gop, _) = try sample("gop.mp4") { $0.minInterval = 1.5 }
        XCTAssertEqual(gop.map(\.timeS), [0, 2, 4])
    }

    func testMinIntervalHoldsOnMJPEG() throws {
        let (defaults, _) = try sample("mjpeg.avi")
        XCTAssertEqual(defaults.map(\.timeS), [0, 1, 2])
        let (half, _) = try sample("mjpeg.avi") { $0.minInterval = 0.5 }
        XCTAssertEqual(half.map(\.timeS), [0, 0.5, 1, 1.5, 2, 2.5])
        let (all, _) = try sample("mjpeg.avi") { $0.minInterval = 0 }
        XCTAssertEqual(all.count, 90)
    }

    /// The default coverage (a frame at least every 2 s) costs nothing on short GOPs:
    /// the index says the next key frame is near, so only key frames are decoded.
    /// A one-GOP file is decoded whole and sampled every 2 s.
    func testDefaultMaxGapDecodesOnlyWhatItNeeds() throws {
        let (gop, gopSampler) = try sample("gop.mp4")
        XCTAssertEqual(gop.map(\.timeS), [0, 1, 2, 3, 4])
        XCTAssertEqual(gopSampler.framesDecoded, 5, "1 s GOPs: key frames only")
        let (scenes, scenesSampler) = try sample("scenes.mp4")
        XCTAssertEqual(scenes.map(\.timeS), [0, 2, 4])
        XCTAssertEqual(scenesSampler.framesDecoded, 125, "one 5 s GOP: all of it")
        XCTAssertTrue(scenesSampler.warnings.isEmpty, "\(scenesSampler.warnings)")
        let (ranged, _) = try sample("scenes.mp4") { $0.start = 1.3 }
        XCTAssertEqual(ranged.first?.timeS ?? -1, 1.32, accuracy: 1e-9, "first frame at --start inside a long GOP")
        let (keysOnly, keysSampler) = try sample("scenes.mp4") { $0.maxGap = nil }
        XCTAssertEqual(keysOnly.count, 1)
        XCTAssertEqual(keysSampler.framesDecoded, 1)
    }

    func testMaxGapFillsBetweenKeyframes() throws {
        let (frames, _) = try sample("gop.mp4") { $0.maxGap = 0.5 }
        let times = frames.map(\.timeS)
        for k in 0..<5 { XCTAssertTrue(times.contains(Double(k)), "key frame \(k) s kept: \(times)") }
        XCTAssertEqual(frames.filter { !$0.keyFrame }.count, 5)
        for (a, b) in zip(times, times.dropFirst()) { XCTAssertLessThanOrEqual(b - a, 0.5 + 1e-9) }
    }

    func testIntervalSamplingIsFirstFrameAtOrAfterEachTarget() throws {
        let (frames, _) = try sample("gop.mp4") { $0.mode = .interval(seconds: 0.7) }
        let targets = stride(from: 0.0, through: 4.97, by: 0.7).map { $0 }
        XCTAssertEqual(frames.count, targets.count)
        for (f, t) in zip(frames, targets) {
            XCTAssertGreaterThanOrEqual(f.timeS, t - 1e-9)
            XCTAssertLessThan(f.timeS - t, 1.0 / 30 + 1e-9, "target \(t) got \(f.timeS)")
        }
    }

    func testStartEndAndMaxFrames() throws {
        let (ranged, _) = try sample("gop.mp4") { $0.start = 1.5; $0.end = 3.5 }
        XCTAssertEqual(ranged.map(\.timeS), [2, 3])
        let (capped, _) = try sample("gop.mp4") { $0.maxFrames = 2 }
        XCTAssertEqual(capped.map(\.timeS), [0, 1])
        let (interval, _) = try sample("gop.mp4") { $0.mode = .interval(seconds: 1); $0.start = 2.5; $0.end = 4.6 }
        XCTAssertEqual(interval.map(\.timeS), [2.5, 3.5, 4.5])
    }

    func testSceneCutsFoundWithinOneFrame() throws {
        let (frames, _) = try sample("scenes.mp4") { $0.mode = .scenes(threshold: SamplingMode.defaultSceneThreshold) }
        let times = frames.map(\.timeS)
        XCTAssertEqual(times.count, 3, "\(times)")
        for (got, want) in zip(times, [0, 2.0, 3.6]) { XCTAssertEqual(got, want, accuracy: 0.04 + 1e-9) }
        // One GOP: the cuts are not key frames, so key-frame sampling alone would miss them.
        XCTAssertEqual(frames.filter(\.keyFrame).count, 1)
    }

    func testVFRTimestampsEqualFFprobe() throws {
        let probe = try runTool("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts,pts_time",
                                        "-of", "csv=p=0", fixture("vfr.mp4")])
        var expected: [Int64: Double] = [:]
        for line in probe.split(separator: "\n") {
            let parts = line.split(separator: ",")
            if parts.count == 2, let pts = Int64(parts[0]), let t = Double(parts[1]) { expected[pts] = t }
        }
        XCTAssertEqual(expected.count, 80)
        let (frames, _) = try sample("vfr.mp4") { $0.mode = .interval(seconds: 0.05) }
        XCTAssertGreaterThanOrEqual(frames.count, 55)
        for f in frames {
            guard let t = expected[f.pts] else { XCTFail("pts \(f.pts) not a frame ffprobe lists"); continue }
            XCTAssertEqual(f.timeS, t, accuracy: 1e-6)
        }
        // The 10 fps half really is 10 fps.
        let late = frames.filter { $0.timeS > 2.05 }.map(\.timeS)
        for (a, b) in zip(late, late.dropFirst()) { XCTAssertEqual(b - a, 0.1, accuracy: 1e-6) }
    }

    func testOneFrameVideo() throws {
        let (frames, _) = try sample("oneframe.mp4")
        XCTAssertEqual(frames.map(\.timeS), [0])
    }
}
