import ArgumentParser
import Foundation
import Inference
import Labeling
import VideoIO

/// Model and labelling options shared by `scan`, `batch` and `check`.
struct LabelingArguments: ParsableArguments {
    @Option(help: "Topic model: efficientnet-lite0 (more accurate) or mobilenet-v2 (faster).")
    var topicModel: TopicModelChoice = .efficientnetLite0

    @Option(help: "Folder holding the model files (default: $VIDLABEL_MODELS, else the installed share folder, else ./Models).")
    var modelsDir: String?

    @Option(help: "Override a moderation (or, with the nudity analyzer, a nudity) threshold, e.g. --threshold sexual=0.6 (repeatable).")
    var threshold: [String] = []

    @Option(parsing: .unconditional, help: "Flag a label only when frames over its threshold span at least this many seconds.")
    var minDuration: Double = 0

    @Option(parsing: .unconditional, help: "Merge segments separated by less than this many seconds.")
    var mergeGap: Double = 1.0

    @Option(parsing: .unconditional, help: "Classes listed per frame.")
    var topK: Int = 5

    @Flag(help: "Leave per-frame results out of the report.")
    var noFrames = false

    @Option(parsing: .unconditional, help: "Engine threads (default: the number of cores).")
    var threads: Int?

    @Option(parsing: .unconditional, help: "Frames handed to the models together (scheduling only: each frame is scored on its own, so reports never depend on it).")
    var batchSize: Int = 8

    @Option(help: "A custom ONNX image classifier to run too.")
    var model: String?

    @Option(help: "Class names for --model, one per line.")
    var labels: String?

    @Option(help: "Preprocessing for --model.")
    var preprocess: PreprocessChoice = .imagenet

    @Option(parsing: .unconditional, help: "Input size for --model (square).")
    var inputSize: Int = 224

    @Option(help: "What to look for, comma-separated: moderation,topics (always), faces (MTCNN: frames[].faces, summary.people), text (PP-OCR: frames[].text, summary.text), nudity (NudeNet, optional AGPL-3.0 model: frames[].detections, summary.nudity) and cues (black frames as segments of kind cue; decodes every frame).")
    var analyzers: String = "moderation,topics"

    @Flag(help: "Put the shot list (`shots`) in the report whatever the sampling (--sample scenes always does); decodes every frame.")
    var shots = false

    func validate() throws {
        _ = try parsedThresholds()
        try check(topK, "--top-k", in: 1...1000)
        if let threads { try check(threads, "--threads", in: Bounds.threads) }
        try check(batchSize, "--batch-size", in: Bounds.batchSize)
        try check(minDuration, "--min-duration", in: Bounds.seconds)
        try check(mergeGap, "--merge-gap", in: Bounds.seconds)
        if model != nil && labels == nil { throw ValidationError("--model needs --labels FILE") }
        if model == nil && labels != nil { throw ValidationError("--labels is only used with --model") }
        try check(inputSize, "--input-size", in: 16...2048)
        do { _ = try Analyzer.parse(analyzers) } catch let e as AnalyzerListError { throw ValidationError("--analyzers: \(e.message)") }
        do { _ = try locator() } catch let e as ModelLocatorError { throw ValidationError(e.message) }
    }

    /// Engine threads: `--threads`, or one per core.
    var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func locator() throws -> ModelLocator { try ModelLocator(modelsDir: modelsDir) }

    func parsedThresholds() throws -> [String: Double] {
        var out: [String: Double] = [:]
        let nudity = NudityTaxonomy.labels.map(\.name)
        let names = Taxonomy.moderation.map(\.name) + nudity
        for item in threshold {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, names.contains(parts[0]), let v = Double(parts[1]), v >= 0, v <= 1 else {
                throw ValidationError("--threshold must be LABEL=VALUE with LABEL one of \(names.joined(separator: ", ")) and 0 <= VALUE <= 1, got '\(item)'")
            }
            // A threshold nothing will apply is a mistake, not a no-op.
            if nudity.contains(parts[0]), (try? Analyzer.parse(analyzers))?.contains(.nudity) != true {
                throw ValidationError("--threshold \(parts[0]): the nudity analyzer is not on (add nudity to --analyzers)")
            }
            out[parts[0]] = v
        }
        return out
    }

    /// Says on stderr, once, that the nudity analyzer's weights are AGPL-3.0 (they are
    /// optional for that reason; a user running them should know).
    func noteLicenses(_ options: ScanOptions) {
        guard options.analyzers.contains(.nudity) else { return }
        printError("note: the nudity analyzer runs NudeNet 320n, whose weights are AGPL-3.0 (see optional/nudenet-320n.LICENSE.txt beside the models)")
    }

    func scanOptions(sampling: SamplingOptions) throws -> ScanOptions {
        var o = ScanOptions()
        o.sampling = sampling
        o.topicModel = topicModel.bundle
        o.thresholds = try parsedThresholds()
        o.minDuration = minDuration
        o.mergeGap = mergeGap
        o.topK = topK
        o.includeFrames = !noFrames
        o.threads = threadCount
        o.batchSize = batchSize
        o.analyzers = try Analyzer.parse(analyzers)
        o.sampling.listShots = shots
        if let model, let labels {
            guard let data = FileManager.default.contents(atPath: labels) else { throw CLIError.usage("--labels \(labels): cannot read the file") }
            let names = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            o.custom = CustomModelSpec(url: URL(fileURLWithPath: model), labels: names,
                                       preprocessing: preprocess.value, inputSize: inputSize)
        }
        return o
    }
}

/// `--topic-model` values.
enum TopicModelChoice: String, ExpressibleByArgument, CaseIterable {
    case efficientnetLite0 = "efficientnet-lite0", mobilenetV2 = "mobilenet-v2"

    var bundle: ModelBundle { self == .mobilenetV2 ? .mobileNetV2 : .efficientNetLite0 }
}

/// `--preprocess` values for a custom model.
enum PreprocessChoice: String, ExpressibleByArgument, CaseIterable {
    case imagenet, caffeBGR = "caffe-bgr", inception

    var value: Preprocessing { Preprocessing(rawValue: rawValue)! }
}
