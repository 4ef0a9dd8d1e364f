import XCTest
import VideoIO

final class BrokenInputTests: XCTestCase {
    private func category(of name: String, _ configure: (inout SamplingOptions) -> Void = { _ in }) -> VideoError.Category? {
        do {
            var options = SamplingOptions()
            configure(&options)
            let sampler = try FrameSampler(path: fixture(name), options: options, outputs: [])
            while try sampler.next() != nil {}
            return nil
        } catch let e as VideoError {
            XCTAssertEqual(e.file, fixture(name))
            XCTAssertFalse(e.reason.isEmpty)
            XCTAssertFalse(e.description.contains("\n"), "one line")
            return e.category
        } catch {
            XCTFail("\(name): unexpected error \(error)")
            return nil
        }
    }

    func testEachBrokenFixtureHasItsCategory() {
        XCTAssertEqual(category(of: "does-not-exist.mp4"), .notFound)
        XCTAssertEqual(category(of: "empty.mp4"), .notMedia)
        XCTAssertEqual(category(of: "garbage.mp4"), .notMedia)
        XCTAssertEqual(category(of: "audio_only.mp4"), .noVideoStream)
        XCTAssertEqual(category(of: "truncated_moov.mp4"), .truncated)
        XCTAssertEqual(category(of: "zero_frames.avi"), .noFrames)
        XCTAssertEqual(category(of: "gop.mp4") { $0.start = 10 }, .noFrames)
    }

    func testTruncatedInTheMiddleKeepsWhatIsThereAndWarns() throws {
        let (frames, sampler) = try sample("truncated_mid.mp4")
        XCTAssertFalse(frames.isEmpty)
        XCTAssertLessThan(frames.count, 5)
        XCTAssertTrue(sampler.warnings.contains { $0.category == "truncated" }, "\(sampler.warnings)")
    }

    func testCorruptPacketsAreCountedNotFatal() throws {
        for mode in [SamplingMode.keyframes, .interval(seconds: 0.2)] {
            let (frames, sampler) = try sample("corrupt.mp4") { $0.mode = mode }
            XCTAssertGreaterThanOrEqual(frames.count, 4, "\(mode)")
            XCTAssertGreaterThan(sampler.warningCount, 0, "\(mode)")
            XCTAssertTrue(sampler.warnings.allSatisfy { $0.category == "decode_failed" })
        }
    }

    func testParsingSamplerArguments() {
        XCTAssertEqual(SamplingMode(argument: "keyframes"), .keyframes)
        XCTAssertEqual(SamplingMode(argument: "interval:2.5"), .interval(seconds: 2.5))
        XCTAssertEqual(SamplingMode(argument: "scenes"), .scenes(threshold: 27))
        XCTAssertEqual(SamplingMode(argument: "scenes:40"), .scenes(threshold: 40))
        for bad in ["", "interval", "interval:0", "interval:-1", "interval:x", "scenes:0", "keyframes:1", "all"] {
            XCTAssertNil(SamplingMode(argument: bad), bad)
        }
        XCTAssertEqual(ResizeMode(argument: "crop:0.875"), .centerCrop(fraction: 0.875))
        XCTAssertNil(ResizeMode(argument: "crop:2"))
    }
}
