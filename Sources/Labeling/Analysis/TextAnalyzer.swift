import Foundation
import Inference
import VideoIO

/// On-screen text (PP-OCR, `TextReader`) on the whole frame scaled so its longer
/// side is `TextAnalyzer.longSide` pixels (up to 3 times up), both sides rounded
/// to multiples of 32 as the detector wants: lines per frame, and the distinct
/// lines with their first and last sighting in `summary.text`.
final class TextAnalyzer: FrameAnalyzer, @unchecked Sendable {
    /// The detection picture's longer side: 960. 1080p video is read at 960x544, so
    /// text about 24 px high there (12 px here) is the smallest read well. Small
    /// video is scaled up (rapidocr does too): at its own 384x192, a scanned page's
    /// lines merged into boxes of two and read as noise.
    static let longSide = 960
    static let maxUpscale = 3.0

    let reader: Pending<TextReader>
    let models: [Report.ModelInfo]

    /// Finds the three nets (a missing one throws here) and starts loading them.
    init(locator: ModelLocator) throws {
        let files = try TextReader.modelFiles.map { try locator.find($0) }
        models = try files.map { Report.ModelInfo(name: $0.deletingPathExtension().lastPathComponent, task: "text", sha256: try SHA256.fileHex($0)) }
        reader = Pending {
            let nets = try files.map { try Model(contentsOf: $0, threads: 1) }
            return try TextReader(detector: nets[0], classifier: nets[1], recognizer: nets[2])
        }
    }

    /// The detection picture for a video of this display size.
    static func pictureSize(width: Int, height: Int) -> (Int, Int) {
        let scale = min(maxUpscale, Double(longSide) / Double(max(width, height, 1)))
        func side(_ n: Int) -> Int { max(32, Int((Double(n) * scale / 32).rounded()) * 32) }
        return (side(width), side(height))
    }

    func imageRequests(for video: VideoInfo) -> [ImageRequest] {
        let (w, h) = Self.pictureSize(width: video.displayWidth, height: video.displayHeight)
        return [ImageRequest(width: w, height: h, mode: .stretch, interpolation: .bilinear)]
    }

    func waitUntilLoaded() throws { _ = try reader.get() }

    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {
        frame.scores.text = try reader.get().read(images[images.startIndex], threads: threads)
    }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        summary.text = Report.TextSummary.lines(frames)
    }
}
