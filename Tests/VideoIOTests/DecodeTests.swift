import Foundation
import XCTest
import VideoIO

final class DecodeTests: XCTestCase {
    private func meanAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Double {
        XCTAssertEqual(a.pixels.count, b.pixels.count)
        var s = 0
        for i in 0..<min(a.pixels.count, b.pixels.count) { s += abs(Int(a.pixels[i]) - Int(b.pixels[i])) }
        return Double(s) / Double(max(1, a.pixels.count))
    }

    /// Every codec fixture shows the same testsrc2 picture at t=0: decoding
    /// correctly (10-bit included) means the pictures agree with H.264's.
    func testCodecsDecodeToTheSamePicture() throws {
        let request = ImageRequest(width: 64, height: 48, mode: .stretch)
        let reference = try sample("gop.mp4", { $0.maxFrames = 1 }, outputs: [request]).frames[0].images[0]
        for name in ["hevc10.mp4", "vp9.webm", "av1.mkv", "mjpeg.avi"] {
            let (frames, _) = try sample(name, outputs: [request])
            XCTAssertGreaterThanOrEqual(frames.count, 2, name)
            XCTAssertEqual(frames[0].timeS, 0, name)
            XCTAssertLessThan(meanAbsDiff(frames[0].images[0], reference), 12, "\(name) frame 0 differs from H.264's")
        }
        let info = try VideoFile.probe(fixture("hevc10.mp4"))
        XCTAssertEqual(info.bitDepth, 10)
        XCTAssertEqual(info.pixelFormat, "yuv420p10le")
    }

    func testRotatedVideoComesOutUpright() throws {
        let info = try VideoFile.probe(fixture("rotated.mp4"))
        XCTAssertEqual(info.codedWidth, 320)
        XCTAssertEqual(info.codedHeight, 240)
        XCTAssertEqual(info.displayWidth, 240)
        XCTAssertEqual(info.displayHeight, 320)
        XCTAssertEqual(info.rotation, 270)
        let (frames, _) = try sample("rotated.mp4", outputs: [ImageRequest(width: 24, height: 32, mode: .stretch)])
        let img = frames[0].images[0]
        XCTAssertEqual(img.width, 24)
        XCTAssertEqual(img.height, 32)
        let top = img.pixel(12, 4), bottom = img.pixel(12, 28)
        XCTAssertGreaterThan(top.r, 200); XCTAssertLessThan(top.b, 60)
        XCTAssertGreaterThan(bottom.b, 200); XCTAssertLessThan(bottom.r, 60)
    }

    func testResizeModesOnUprightPicture() throws {
        // Letterbox: the 3:4 upright picture fits 48x64 inside 64x64, black bars left and right.
        let box = try sample("rotated.mp4", { $0.maxFrames = 1 },
                             outputs: [ImageRequest(width: 64, height: 64, mode: .letterbox)]).frames[0].images[0]
        XCTAssertEqual(box.pixel(2, 32).r, 0); XCTAssertEqual(box.pixel(2, 32).b, 0)
        XCTAssertGreaterThan(box.pixel(32, 10).r, 200)
        XCTAssertGreaterThan(box.pixel(32, 54).b, 200)
        // Centre crop of the shorter side: a square from the middle, half red half blue.
        let crop = try sample("rotated.mp4", { $0.maxFrames = 1 },
                              outputs: [ImageRequest(width: 32, height: 32, mode: .centerCrop(fraction: 1))]).frames[0].images[0]
        XCTAssertGreaterThan(crop.pixel(16, 3).r, 200)
        XCTAssertGreaterThan(crop.pixel(16, 28).b, 200)
    }

    func testPNGEncodingIsReadableByFFmpeg() throws {
        let img = try sample("gop.mp4", { $0.maxFrames = 1 }, outputs: [ImageRequest(width: 40, height: 30)]).frames[0].images[0]
        let path = NSTemporaryDirectory() + "vidlabel-png-\(getpid()).png"
        try Data(try img.pngData()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = try runTool("ffprobe", ["-v", "error", "-show_entries", "stream=width,height,codec_name", "-of", "csv=p=0", path])
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "png,40,30")
    }
}
