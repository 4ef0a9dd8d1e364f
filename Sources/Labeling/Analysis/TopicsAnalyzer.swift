import Foundation
import Inference
import VideoIO

/// The topics (`Taxonomy.topics`) and each frame's top ImageNet classes, from the
/// topic classifier (EfficientNet-Lite0 or MobileNetV2). Its probabilities stay
/// with the frame for the moderation labels made of ImageNet classes.
final class TopicsAnalyzer: FrameAnalyzer, @unchecked Sendable {
    let classifier: LoadedModel
    let topK: Int

    init(_ bundle: ModelBundle, topK: Int, locator: ModelLocator, threads: Int) throws {
        classifier = try LoadedModel(bundle, locator: locator, threads: threads)
        self.topK = topK
    }

    var models: [Report.ModelInfo] { [classifier.info] }
    func imageRequests(for video: VideoInfo) -> [ImageRequest] { [classifier.bundle.imageRequest] }
    func waitUntilLoaded() throws { _ = try classifier.model.get() }

    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {
        // Output [1, 1000]: ImageNet probabilities.
        let out = try classifier.run(images[images.startIndex], threads: threads)
        let probs = Array(out.data[0..<1000])
        frame.imagenet = probs
        frame.scores.topics = Taxonomy.topicScores(probs[...])
        frame.scores.classes = Labeling.topK(probs[...], topK)
    }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        let (topics, runs) = context.aggregator.topics(frames, ends: context.ends)
        summary.topics = topics
        segments += runs
    }
}
