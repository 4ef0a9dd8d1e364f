import Foundation
import Inference
import VideoIO

/// The moderation labels (`Taxonomy.moderation`): `sexual` is open_nsfw's nsfw
/// probability; the others sum ImageNet classes, read from the topic classifier's
/// probabilities of the same frame (so it runs after `TopicsAnalyzer`).
final class ModerationAnalyzer: FrameAnalyzer, @unchecked Sendable {
    let nsfw: LoadedModel

    init(locator: ModelLocator, threads: Int) throws {
        nsfw = try LoadedModel(.openNSFW, locator: locator, threads: threads)
    }

    var models: [Report.ModelInfo] { [nsfw.info] }
    func imageRequests(for video: VideoInfo) -> [ImageRequest] { [nsfw.bundle.imageRequest] }
    func waitUntilLoaded() throws { _ = try nsfw.model.get() }

    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {
        // Output [1, 2]: (sfw, nsfw) probabilities.
        let nsfwScore = Double(try nsfw.run(images[images.startIndex], threads: threads).data[1])
        guard let probs = frame.imagenet else { throw InferenceError("moderation: the topic classifier did not run before it") }
        frame.scores.moderation = Taxonomy.moderation.map { label -> Double in
            switch label.source {
            case .nsfw: return nsfwScore
            case .imagenetClasses(let ids): return min(1, ids.reduce(0) { $0 + Double(probs[$1]) })
            }
        }
    }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        let (moderation, runs) = context.aggregator.moderation(frames, ends: context.ends)
        summary.moderation = moderation
        segments += runs
    }
}
