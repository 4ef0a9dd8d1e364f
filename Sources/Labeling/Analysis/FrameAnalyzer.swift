import Foundation
import Inference
import VideoIO

/// One thing `scan` looks for, after PySceneDetect's detector protocol. An analyzer
/// declares the pictures it needs from each sampled frame (size, fit,
/// interpolation; its models' colour order and normalisation are its own), owns
/// its models' preprocessing and output decoding, fills in its part of each
/// frame's result, and writes its own part of the summary and its segments.
///
/// The scanner decodes each frame once: every analyzer gets its pictures from
/// that one decode, and none reads another's model outputs by position.
protocol FrameAnalyzer: AnyObject, Sendable {
    /// The models it runs, as the report lists them.
    var models: [Report.ModelInfo] { get }
    /// Asks the sampler for what it needs from every decoded frame, not only the
    /// sampled ones (black frames). Default: nothing.
    func configure(_ sampling: inout SamplingOptions)
    /// The pictures it needs from each sampled frame of `video`; `analyze` gets them in this order.
    func imageRequests(for video: VideoInfo) -> [ImageRequest]
    /// Waits until its models are loaded. - Throws: `ModelLoadError`.
    func waitUntilLoaded() throws
    /// One sampled frame: its pictures as `imageRequests` asked, and the frame's
    /// results so far (the scanner's `analysisOrder` puts topics before the
    /// analyzers that read its results). `threads`: threads inside each model's ops.
    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws
    /// Its part of the summary, and its segments appended to `segments`.
    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment])
}

extension FrameAnalyzer {
    var models: [Report.ModelInfo] { [] }
    func configure(_ sampling: inout SamplingOptions) {}
    func imageRequests(for video: VideoInfo) -> [ImageRequest] { [] }
    func waitUntilLoaded() throws {}
    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {}
}

/// A sampled frame on its way through the analyzers.
struct AnalyzedFrame {
    /// What the report keeps of the frame.
    var scores: FrameScores
    /// The upright frame's display size (for boxes in frame coordinates).
    var frameWidth: Int
    var frameHeight: Int
    /// The topic classifier's 1000 ImageNet probabilities, for the moderation labels
    /// made of ImageNet classes. Dropped once the frame is done: 4 KB a frame.
    var imagenet: [Float]? = nil
}

/// What a summary needs besides the frames' results.
struct SummaryContext {
    let duration: Double?
    /// When each sampled frame's coverage ends (`coverageEnds`).
    let ends: [Double]
    let aggregator: Aggregator
    /// Classes listed per frame and in the custom summary.
    let topK: Int
    /// What the sampler found in every decoded frame.
    let blackFrames: [BlackSpan]
}

/// A model for scanning: its bundle (preprocessing), the model loading in the
/// background, and its file's hash.
struct LoadedModel {
    let bundle: ModelBundle
    let model: PendingModel
    let sha256: String

    /// Finds the file (a missing one throws here) and starts loading it.
    init(_ bundle: ModelBundle, locator: ModelLocator, threads: Int) throws {
        let file = try locator.find(bundle.fileName)
        self.bundle = bundle
        model = PendingModel {
            let m = try Model(contentsOf: file, threads: threads)
            try bundle.check(m, file: file)
            return m
        }
        sha256 = try SHA256.fileHex(file)
    }

    init(bundle: ModelBundle, loaded: Model, sha256: String) {
        self.bundle = bundle
        model = PendingModel(loaded: loaded)
        self.sha256 = sha256
    }

    var info: Report.ModelInfo { .init(name: bundle.name, task: bundle.task.rawValue, sha256: sha256) }

    /// The model's first output for one picture (batch 1: see `VideoScanner.classify`).
    func run(_ image: RGBImage, threads: Int) throws -> Tensor {
        let model = try model.get()
        let out = try model.run([model.inputs[0].name: bundle.tensor(from: [image])], threads: threads)
        return out[model.outputNames[0]]!
    }
}

/// Top `k` (index, probability) pairs, best first; ties go to the lower index.
func topK(_ probs: ArraySlice<Float>, _ k: Int) -> [(Int, Double)] {
    let base = probs.startIndex
    return probs.indices.sorted { (probs[$0], -$0) > (probs[$1], -$1) }.prefix(k).map { ($0 - base, Double(probs[$0])) }
}
