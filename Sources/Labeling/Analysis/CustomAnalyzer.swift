import Foundation
import Inference
import VideoIO

/// A user's own ONNX image classifier (`--model`): each frame's top classes, and
/// the classes with the highest mean probability in the summary.
final class CustomAnalyzer: FrameAnalyzer, @unchecked Sendable {
    let classifier: LoadedModel
    let spec: CustomModelSpec
    let topK: Int

    /// Loads the model now, to read its input layout and check it.
    init(_ spec: CustomModelSpec, topK: Int, threads: Int) throws {
        let probe = try Model(contentsOf: spec.url, threads: threads)
        guard let shape = probe.inputs.first?.shape, shape.count == 4 else {
            throw InferenceError("\(spec.url.path): custom model input must be 4-D image tensor")
        }
        let layout: ModelBundle.Layout = shape[1] == 3 ? .nchw : .nhwc
        let bundle = ModelBundle(name: spec.url.deletingPathExtension().lastPathComponent, task: .custom,
                                 fileName: spec.url.lastPathComponent, preprocessing: spec.preprocessing, layout: layout,
                                 inputSize: spec.inputSize,
                                 resize: spec.preprocessing == .caffeBGR ? .centralRegion(fraction: 0.875) : .centerCrop(fraction: 0.875))
        try bundle.check(probe, file: spec.url)
        classifier = LoadedModel(bundle: bundle, loaded: probe, sha256: try SHA256.fileHex(spec.url))
        self.spec = spec
        self.topK = topK
    }

    var models: [Report.ModelInfo] { [classifier.info] }
    func imageRequests(for video: VideoInfo) -> [ImageRequest] { [classifier.bundle.imageRequest] }

    func analyze(_ images: ArraySlice<RGBImage>, _ frame: inout AnalyzedFrame, threads: Int) throws {
        // Output [1, classes]: probabilities or logits.
        let out = try classifier.run(images[images.startIndex], threads: threads)
        let all = probabilities(Array(out.data[0..<out.count]))
        frame.scores.customAll = all
        frame.scores.custom = Labeling.topK(all[...], topK)
    }

    /// Softmax when the model outputs logits (values outside [0,1] or rows not summing to 1).
    func probabilities(_ row: [Float]) -> [Float] {
        let sum = row.reduce(0, +)
        if row.allSatisfy({ $0 >= 0 && $0 <= 1 }) && abs(sum - 1) < 1e-3 { return row }
        let mx = row.max() ?? 0
        let e = row.map { Foundation.exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        summary.custom = context.aggregator.custom(frames, names: spec.labels, topK: topK)
    }
}
