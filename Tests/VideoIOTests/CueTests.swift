import XCTest
import VideoIO

/// Black frames and shots on `cues.mp4` (Tools/make-photo-clips.sh): real clips
/// stitched by ffmpeg at 25 fps, bikes 0-2 s, black 2-3 s, Big Buck Bunny 3-5 s,
/// the coffee photo 5-7 s.
final class CueTests: XCTestCase {
    let frame = 1.0 / 25

    func testBlackFramesAreFoundAtTheirTimesWithinAFrame() throws {
        for mode in [SamplingMode.keyframes, .interval(seconds: 1), .scenes(threshold: SamplingMode.defaultSceneThreshold)] {
            let (_, sampler) = try sample("cues.mp4") { $0.mode = mode; $0.blackFrames = BlackFrameOptions() }
            XCTAssertEqual(sampler.blackFrames.count, 1, "\(mode): \(sampler.blackFrames)")
            let span = try XCTUnwrap(sampler.blackFrames.first)
            XCTAssertEqual(span.startS, 2, accuracy: frame, "\(mode)")
            XCTAssertEqual(span.endS, 3, accuracy: frame, "\(mode)")
            XCTAssertGreaterThanOrEqual(span.darkFraction, 0.99)
            XCTAssertLessThan(span.meanLuma, 0.05)
            XCTAssertEqual(sampler.framesDecoded, 175, "every frame is looked at")
        }
    }

    func testNoBlackFramesInRealClipsAlone() throws {
        for name in ["chelsea.mp4", "coffee.mp4", "scenes.mp4"] {
            let (_, sampler) = try sample(name) { $0.blackFrames = BlackFrameOptions() }
            XCTAssertEqual(sampler.blackFrames, [], name)
        }
    }

    /// The stitched cuts are shot starts within one frame, and no shot starts inside
    /// the black second or the still photo. The bikes clip has a cut of its own (1.2 s).
    func testShotListHasTheStitchedCutsWithinAFrame() throws {
        for mode in [SamplingMode.keyframes, .interval(seconds: 0.5), .scenes(threshold: SamplingMode.defaultSceneThreshold)] {
            let (frames, sampler) = try sample("cues.mp4") { $0.mode = mode; $0.listShots = true }
            let starts = sampler.shots.map(\.startS)
            XCTAssertEqual(starts.first, 0, "\(mode)")
            for cut in [2.0, 3, 5] {
                XCTAssertTrue(starts.contains { abs($0 - cut) <= frame + 1e-9 }, "\(mode): no shot starts at \(cut) s: \(starts)")
            }
            XCTAssertFalse(starts.contains { $0 > 2 + frame && $0 < 3 - frame || $0 > 5 + frame }, "\(mode): \(starts)")
            // Shots tile the video: each ends where the next starts, the last at the video's end.
            for (a, b) in zip(sampler.shots, sampler.shots.dropFirst()) { XCTAssertEqual(a.endS, b.startS) }
            XCTAssertEqual(sampler.shots.last?.endS ?? 0, 7, accuracy: 1e-6)
            if case .scenes = mode { XCTAssertEqual(frames.map(\.timeS), starts, "scenes mode samples each shot's first frame") }
        }
        // Scenes mode lists shots without being asked.
        let (_, scenes) = try sample("cues.mp4") { $0.mode = .scenes(threshold: SamplingMode.defaultSceneThreshold) }
        XCTAssertEqual(scenes.shots.count, 5)
        let (_, keyframes) = try sample("cues.mp4")
        XCTAssertEqual(keyframes.shots, [])
    }

    /// Looking at every frame must not change which frames are sampled: keyframes
    /// mode then decodes every packet but samples as if it had filtered them.
    func testWatchingEveryFrameSamplesTheSameFrames() throws {
        let configs: [(String, (inout SamplingOptions) -> Void)] = [
            ("keyframes", { _ in }),
            ("keyframes from 1.3 s to 4 s", { $0.start = 1.3; $0.end = 4 }),
            ("keyframes, max gap 0.3 s from 0.5 s", { $0.start = 0.5; $0.maxGap = 0.3 }),
            ("keyframes only", { $0.maxGap = nil }),
            ("interval 0.7 s", { $0.mode = .interval(seconds: 0.7) }),
            ("interval 0.5 s from 1.1 s to 3 s", { $0.mode = .interval(seconds: 0.5); $0.start = 1.1; $0.end = 3 }),
        ]
        for name in ["gop.mp4", "vfr.mp4", "cues.mp4", "corrupt.mp4"] {
            for (what, configure) in configs {
                let plain = try sample(name, configure).frames.map(\.pts)
                let watched = try sample(name) { configure(&$0); $0.blackFrames = BlackFrameOptions(); $0.listShots = true }
                XCTAssertEqual(watched.frames.map(\.pts), plain, "\(name), \(what)")
                // With --start/--end the cues cover that range only.
                if let s = watched.sampler.shots.first { XCTAssertGreaterThanOrEqual(s.startS + 0.02, watched.sampler.options.start ?? 0) }
            }
        }
    }

    /// Luma read from the frame in 10-bit, full-range (MJPEG) and RGB video.
    func testBlackFramesInOtherPixelFormats() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-cues-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (file, codec) in [("ten.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv420p10le"]), ("full.avi", ["-c:v", "mjpeg", "-q:v", "5"]),
                              ("rgb.mkv", ["-c:v", "png", "-pix_fmt", "rgb24"])] {
            let out = dir.appendingPathComponent(file).path
            _ = try runTool("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-i", fixture("cues.mp4"), "-t", "4"] + codec + [out])
            let sampler = try FrameSampler(path: out, options: { var o = SamplingOptions(); o.blackFrames = BlackFrameOptions(); return o }(), outputs: [])
            while try sampler.next() != nil {}
            XCTAssertEqual(sampler.blackFrames.count, 1, "\(file): \(sampler.blackFrames)")
            XCTAssertEqual(sampler.blackFrames.first?.startS ?? 0, 2, accuracy: frame, file)
            XCTAssertEqual(sampler.blackFrames.first?.endS ?? 0, 3, accuracy: frame, file)
        }
    }
}
