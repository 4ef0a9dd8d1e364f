import ArgumentParser
import Foundation
import Inference
import Labeling
import VideoIO

/// Model and labelling options shared by `scan` (and later `batch`).
struct LabelingArguments: ParsableArguments {
    @Option(help: "Topic model: efficientnet-lite0 (default, more accurate) or mobilenet-v2 (faster).")
    var topicModel: String = "efficientnet-lite0"

    @Option(help: "Folder holding the model files (default: $VIDLABEL_MODELS, the installed share folder, ./Models).")
    var modelsDir: String?

    @Option(help: "Override a moderation threshold, e.g. --threshold sexual=0.6 (repeatable).")
    var threshold: [String] = []

    @Option(help: "Flag a label only when frames over its threshold span at least this many seconds.")
    var minDuration: Double = 0

    @Option(help: "Merge segments separated by less than this many seconds.")
    var mergeGap: Double = 1.0

    @Option(help: "Classes listed per frame.")
    var topK: Int = 5

    @Flag(help: "Leave per-frame results out of the report.")
    var noFrames = false

    @Option(help: "Threads per model (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Frames classified together.")
    var batchSize: Int = 8

    @Option(help: "A custom ONNX image classifier to run too.")
    var model: String?

    @Option(help: "Class names for --model, one per line.")
    var labels: String?

    @Option(help: "Preprocessing for --model: imagenet | caffe-bgr | inception.")
    var preprocess: String = "imagenet"

    @Option(help: "Input size for --model (square).")
    var inputSize: Int = 224

    func validate() throws {
        guard ["efficientnet-lite0", "mobilenet-v2"].contains(topicModel) else {
            throw ValidationError("--topic-model must be efficientnet-lite0 or mobilenet-v2")
        }
        _ = try parsedThresholds()
        if topK < 1 || topK > 1000 { throw ValidationError("--top-k must be 1...1000") }
        if threads < 1 || batchSize < 1 { throw ValidationError("--threads and --batch-size must be >= 1") }
        if minDuration < 0 || mergeGap < 0 { throw ValidationError("--min-duration and --merge-gap must be >= 0") }
        if model != nil && labels == nil { throw ValidationError("--model needs --labels FILE") }
        if model == nil && labels != nil { throw ValidationError("--labels is only used with --model") }
        guard ["imagenet", "caffe-bgr", "inception"].contains(preprocess) else {
            throw ValidationError("--preprocess must be imagenet, caffe-bgr or inception")
        }
        if inputSize < 16 || inputSize > 2048 { throw ValidationError("--input-size must be 16...2048") }
    }

    func parsedThresholds() throws -> [String: Double] {
        var out: [String: Double] = [:]
        let names = Taxonomy.moderation.map(\.name)
        for item in threshold {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, names.contains(parts[0]), let v = Double(parts[1]), v >= 0, v <= 1 else {
                throw ValidationError("--threshold must be LABEL=VALUE with LABEL one of \(names.joined(separator: ", ")) and 0 <= VALUE <= 1, got '\(item)'")
            }
            out[parts[0]] = v
        }
        return out
    }

    func scanOptions(sampling: SamplingOptions) throws -> ScanOptions {
        var o = ScanOptions()
        o.sampling = sampling
        o.topicModel = topicModel == "mobilenet-v2" ? .mobileNetV2 : .efficientNetLite0
        o.thresholds = try parsedThresholds()
        o.minDuration = minDuration
        o.mergeGap = mergeGap
        o.topK = topK
        o.includeFrames = !noFrames
        o.threads = threads
        o.batchSize = batchSize
        if let model, let labels {
            let names: [String]
            do { names = try String(contentsOfFile: labels, encoding: .utf8).split(separator: "\n").map(String.init) } catch {
                throw InferenceError("\(labels): cannot read class names: \(error.localizedDescription)")
            }
            o.custom = CustomModelSpec(url: URL(fileURLWithPath: model), labels: names,
                                       preprocessing: Preprocessing(rawValue: preprocess)!, inputSize: inputSize)
        }
        return o
    }
}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label videos: moderation and topic labels per frame, per segment and per video, as JSON.",
        discussion: "One file: one JSON object. Several: JSON Lines, one object per file in argument order; a file that fails gives {\"file\": {\"path\": ...}, \"error\": {\"category\": ..., \"message\": ...}}. Exit 0 all fine, 1 some file failed, 2 usage error.")

    @Argument(help: "Video files.")
    var files: [String]

    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var labeling: LabelingArguments

    @Flag(help: "Indent the JSON (one file only).")
    var pretty = false

    @Option(name: .shortAndLong, help: "Write the output to this file (written whole, then renamed into place).")
    var output: String?

    @Option(help: "After scanning, diff against this baseline (scan JSON or batch JSON Lines); differences go to stderr and exit 1.")
    var baseline: String?

    @Option(help: "With --baseline: score tolerance.") var scoreTolerance: Double = 0.05
    @Option(help: "With --baseline: segment time tolerance (s).") var timeTolerance: Double = 0.5

    func run() throws {
        let scanner: VideoScanner
        do {
            scanner = try VideoScanner(options: try labeling.scanOptions(sampling: sampling.options),
                                  locator: ModelLocator(modelsDir: labeling.modelsDir))
        } catch {
            printError("\(error)")
            throw InputFailure()
        }
        var lines: [String] = []
        var failed = false
        var scanned: [LoadedReport] = []
        for path in files {
            let line: String
            do {
                let report = try scanner.scan(path: path)
                scanned.append(LoadedReport(path: path, report: report, error: nil))
                line = try jsonLine(report, pretty: pretty && files.count == 1)
            } catch let error as ModelLoadError {
                // Models load while the first file starts decoding; a broken one stops the run.
                printError("\(error)")
                throw InputFailure()
            } catch {
                failed = true
                printError(error is VideoError ? "\(error)" : "\(path): \(error)")
                line = try jsonLine(ErrorRecord(path: path, error: error))
                scanned.append(LoadedReport(path: path, report: nil, error: "\((error as? VideoError)?.category.rawValue ?? "failed"): \((error as? VideoError)?.reason ?? "\(error)")"))
            }
            if output == nil { Output.writeLine(line) } else { lines.append(line) }
        }
        if let output {
            try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: output)
        }
        if let baseline {
            let diffs: [FileDiff]
            do {
                diffs = try runDiff(baseline: try loadReports(baseline), current: scanned, scoreTolerance: scoreTolerance,
                                    timeTolerance: timeTolerance, labels: nil)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            let text = try render(diffs, format: "text")
            FileHandle.standardError.write(Data(text.utf8))
            if !text.isEmpty { failed = true }
        }
        if failed { throw InputFailure() }
    }
}
