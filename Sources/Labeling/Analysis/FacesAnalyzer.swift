import Foundation
import Inference
import VideoIO

/// Faces (MTCNN, `FaceDetector`) on the whole frame scaled to `imageWidth`: boxes
/// per frame, `summary.people`, and the `people` topic raised to the best face's
/// score (ImageNet has no person class), so it runs after `TopicsAnalyzer`.
final class FacesAnalyzer: FrameAnalyzer, @unchecked Sendable {
    let detector: Pending<FaceDetector>
    let models: [Report.ModelInfo]
    let imageWidth: Int

    /// Finds the three nets (a missing one throws here) and starts loading them.
    init(locator: ModelLocator, imageWidth: Int) throws {
        let files = try FaceDetector.modelFiles.map { try locator.find($0) }
        models = try files.map { Report.ModelInfo(name: $0.deletingPathExtension().lastPathComponent, task: "faces", sha256: try SHA256.fileHex($0)) }
        detector = Pending {
            let nets = try files.map { try Model(contentsOf: $0, threads: 1) }
            return try FaceDetector(pnet: nets[0], rnet: nets[1], onet: nets[2])
        }
        self.imageWidth = imageWidth
    }

    /// MTCNN's smallest face (20 px) is then 20/`imageWidth` of the frame's width.
    func imageRequests(for video: VideoInfo) -> [ImageRequest] {
        var request = ImageRequest.thumbnail(width: min(imageWidth, max(video.displayWidth, 16)), of: video)
        request.interpolation = .bilinear
        return [request]
    }

    func waitUntilLoaded() throws { _ = try detector.get() }

    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {
        let faces = try detector.get().detect(images[images.startIndex])
        frame.scores.faces = faces
        // A face is people on screen: the topic takes the best face's score when
        // that is higher than what the ImageNet classes say.
        if let best = faces.first?.score, !frame.scores.topics.isEmpty {
            frame.scores.topics[Taxonomy.peopleTopic] = max(frame.scores.topics[Taxonomy.peopleTopic], best)
        }
    }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        summary.people = Report.PeopleSummary(frames)
    }
}
