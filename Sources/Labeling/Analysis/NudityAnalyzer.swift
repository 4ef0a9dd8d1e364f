import Foundation
import Inference
import VideoIO

/// Body-part nudity (NudeNet 320n, `NudityDetector`): detections per frame, and
/// the labels of `NudityTaxonomy` as scores, flags and segments like the
/// moderation labels'. Optional: NudeNet's weights are AGPL-3.0, so its model is
/// not installed unless asked for, and the analyzer runs only when named.
final class NudityAnalyzer: FrameAnalyzer, @unchecked Sendable {
    let detector: Pending<NudityDetector>
    let models: [Report.ModelInfo]

    /// Finds the model (a missing one throws here, saying it is optional) and starts loading it.
    init(locator: ModelLocator) throws {
        let file: URL
        do { file = try locator.find(NudityDetector.modelFile) } catch {
            throw InferenceError("\(error); NudeNet is optional (AGPL-3.0 weights): `make models` puts it in Models/optional, `make install-nudenet` installs it")
        }
        models = [Report.ModelInfo(name: "nudenet-320n", task: "nudity", sha256: try SHA256.fileHex(file))]
        detector = Pending { try NudityDetector(model: Model(contentsOf: file, threads: 1)) }
    }

    func imageRequests(for video: VideoInfo) -> [ImageRequest] {
        [ImageRequest(width: NudityDetector.size, height: NudityDetector.size, mode: .letterboxTopLeft, interpolation: .bilinear)]
    }

    func waitUntilLoaded() throws { _ = try detector.get() }

    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {
        let image = images[images.startIndex]
        let found = try detector.get().detect(image, frameWidth: frame.frameWidth, frameHeight: frame.frameHeight, threads: threads)
        frame.scores.detections = found
        let pairs = found.map { (label: $0.label, score: $0.score) }
        frame.scores.nudity = NudityTaxonomy.labels.map { NudityTaxonomy.score($0, in: pairs) }
    }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        let (labels, runs) = context.aggregator.labels(NudityTaxonomy.labels.map(\.name), frames, ends: context.ends) { $0.nudity ?? [] }
        summary.nudity = labels
        segments += runs
    }
}
