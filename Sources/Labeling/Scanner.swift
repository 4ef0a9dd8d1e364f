import Foundation
import Inference
import VideoIO

/// A user's own ONNX classifier added to scans (`--model`).
public struct CustomModelSpec: Sendable {
    public var url: URL
    public var labels: [String]
    public var preprocessing: Preprocessing
    public var inputSize: Int

    public init(url: URL, labels: [String], preprocessing: Preprocessing, inputSize: Int) {
        self.url = url
        self.labels = labels
        self.preprocessing = preprocessing
        self.inputSize = inputSize
    }
}

/// Everything `scan` can be told.
public struct ScanOptions: Sendable {
    public var sampling = SamplingOptions()
    public var topicModel = ModelBundle.efficientNetLite0
    public var thresholds: [String: Double] = [:]
    public var minDuration = 0.0
    public var mergeGap = 1.0
    public var topK = 5
    public var includeFrames = true
    /// Threads inside each model's kernels.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Frames classified together.
    public var batchSize = 8
    public var custom: CustomModelSpec? = nil
    /// Keep a JPEG thumbnail of every sampled frame, this many pixels wide (nil: none),
    /// made from the same decode as the analysis.
    public var thumbnailWidth: Int? = nil
    /// Thumbnails of frames over the `sexual` threshold are blurred unless this is set.
    public var unblurThumbnails = false
    /// What to look for; moderation and topics always run.
    public var analyzers = Analyzer.defaults
    /// The faces analyzer's picture: the whole frame scaled to this width (the
    /// aspect kept), never wider than the video. MTCNN's smallest face (20 px)
    /// is then 20/640 of the frame's width.
    public var faceImageWidth = 640
    public init() {}
}

/// A model file that could not be loaded. Unlike a video's errors this concerns
/// every file: callers stop rather than record it per video.
public struct ModelLoadError: Error, CustomStringConvertible {
    public let underlying: Error
    public var description: String { "\(underlying)" }
}

/// A model that may still be loading on a background thread: `scan` starts
/// decoding the first frames while the weights are parsed and packed.
final class Pending<Value>: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result: Result<Value, Error>? = nil

    init(_ load: @escaping @Sendable () throws -> Value) {
        group.enter()
        DispatchQueue.global().async {
            self.result = Result(catching: load)
            self.group.leave()
        }
    }

    init(loaded: Value) { result = .success(loaded) }

    /// Waits for the load. - Throws: `ModelLoadError`.
    func get() throws -> Value {
        group.wait()
        do { return try result!.get() } catch { throw ModelLoadError(underlying: error) }
    }
}

typealias PendingModel = Pending<Model>

/// A model for scanning, with its bundle and fingerprint.
struct LoadedModel {
    let bundle: ModelBundle
    let model: PendingModel
    let sha256: String
}

/// Scans videos: decodes sampled frames on one thread while the models classify
/// the previous ones on this one, then aggregates the scores into a `Report`.
/// Models are loaded once and reused for every file.
public final class VideoScanner {
    public let options: ScanOptions
    let nsfw: LoadedModel
    let topics: LoadedModel
    let custom: (LoadedModel, CustomModelSpec)?
    /// MTCNN's three nets, loading, with their file hashes (nil: faces not asked for).
    let faces: (detector: Pending<FaceDetector>, models: [Report.ModelInfo])?
    let classNames: [String]

    /// Finds the model files (a missing one throws here) and starts loading them
    /// in the background, side by side; `waitForModels` or the first scan waits.
    public init(options: ScanOptions, locator: ModelLocator) throws {
        self.options = options
        let threads = options.threads
        func load(_ bundle: ModelBundle) throws -> LoadedModel {
            let file = try locator.find(bundle.fileName)
            return LoadedModel(bundle: bundle, model: PendingModel {
                let m = try Model(contentsOf: file, threads: threads)
                try bundle.check(m, file: file)
                return m
            }, sha256: try SHA256.fileHex(file))
        }
        nsfw = try load(.openNSFW)
        topics = try load(options.topicModel)
        if options.analyzers.contains(.faces) {
            let files = try FaceDetector.modelFiles.map { try locator.find($0) }
            let infos = try files.map { Report.ModelInfo(name: $0.deletingPathExtension().lastPathComponent, task: "faces", sha256: try SHA256.fileHex($0)) }
            faces = (Pending {
                let nets = try files.map { try Model(contentsOf: $0, threads: 1) }
                return try FaceDetector(pnet: nets[0], rnet: nets[1], onet: nets[2])
            }, infos)
        } else {
            faces = nil
        }
        let namesURL = try locator.find("imagenet-classes.txt")
        guard let names = FileManager.default.contents(atPath: namesURL.path), names.count < 1 << 20 else {
            throw InferenceError("\(namesURL.path): cannot read the class names")
        }
        classNames = String(decoding: names, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .prefix(1000).map(String.init)
        guard classNames.count == 1000 else { throw InferenceError("\(namesURL.path): expected 1000 class names") }
        if let spec = options.custom {
            let probe = try Model(contentsOf: spec.url, threads: options.threads)
            guard let shape = probe.inputs.first?.shape, shape.count == 4 else {
                throw InferenceError("\(spec.url.path): custom model input must be 4-D image tensor")
            }
            let layout: ModelBundle.Layout = shape[1] == 3 ? .nchw : .nhwc
            let bundle = ModelBundle(name: spec.url.deletingPathExtension().lastPathComponent, task: .custom,
                                     fileName: spec.url.lastPathComponent, preprocessing: spec.preprocessing, layout: layout,
                                     inputSize: spec.inputSize,
                                     resize: spec.preprocessing == .caffeBGR ? .centralRegion(fraction: 0.875) : .centerCrop(fraction: 0.875))
            try bundle.check(probe, file: spec.url)
            custom = (LoadedModel(bundle: bundle, model: PendingModel(loaded: probe), sha256: try SHA256.fileHex(spec.url)), spec)
        } else {
            custom = nil
        }
    }

    /// Waits until every model is loaded. - Throws: `ModelLoadError`.
    public func waitForModels() throws {
        for m in loaded { _ = try m.model.get() }
        _ = try faces?.detector.get()
    }

    /// sha256 of every model file in use, in report order.
    public var modelHashes: [String] { modelInfos.map(\.sha256) }

    /// The tool as a report names it.
    public var tool: Report.Tool { .init(name: "vidlabel", version: vidlabelVersion) }

    /// The models as a report lists them (name, task, sha256), in report order.
    public var modelInfos: [Report.ModelInfo] {
        loaded.map { .init(name: $0.bundle.name, task: $0.bundle.task.rawValue, sha256: $0.sha256) } + (faces?.models ?? [])
    }

    /// Models in report order: moderation, topics, custom.
    var loaded: [LoadedModel] { [nsfw, topics] + (custom.map { [$0.0] } ?? []) }

    /// Scans one file.
    /// - Throws: `VideoError` for unreadable video, `InferenceError` for model failures.
    /// - Parameters:
    ///   - shouldStop: polled between batches; when it returns true the scan stops with `ScanCancelled`.
    ///   - progress: called after each batch with the time reached, the video's duration and the frames done.
    public func scan(path: String, shouldStop: (() -> Bool)? = nil,
                     progress: ((_ position: Double, _ duration: Double?, _ frames: Int) -> Void)? = nil) throws -> Report {
        try review(path: path, shouldStop: shouldStop, progress: progress).report
    }

    /// A report and, with `options.thumbnailWidth`, one JPEG thumbnail per sampled
    /// frame (in report order), from the same decode: the picture is scaled once
    /// more per frame, never decoded twice.
    public func review(path: String, shouldStop: (() -> Bool)? = nil,
                       progress: ((_ position: Double, _ duration: Double?, _ frames: Int) -> Void)? = nil) throws -> Review {
        let file = try VideoFile(path: path)
        var requests = loaded.map(\.bundle.imageRequest)
        let thumbnailSlot = options.thumbnailWidth.map { w -> Int in
            requests.append(ImageRequest.thumbnail(width: w, of: file.info))
            return requests.count - 1
        }
        let faceSlot = faces.map { _ -> Int in
            var request = ImageRequest.thumbnail(width: min(options.faceImageWidth, max(file.info.displayWidth, 16)), of: file.info)
            request.interpolation = .bilinear
            requests.append(request)
            return requests.count - 1
        }
        var thumbnails: [Thumbnail] = []
        let sexual = Taxonomy.moderation.firstIndex { $0.name == "sexual" }!
        let sexualThreshold = options.thresholds["sexual"] ?? Taxonomy.moderation[sexual].defaultThreshold
        let sampler = try FrameSampler(file: file, options: options.sampling, outputs: requests)
        let queue = BoundedQueue<SampledFrame>(capacity: options.batchSize * 2)

        // Decode ahead on a separate thread; the queue bounds memory.
        let decodeError = ErrorBox()
        let decoder = Thread {
            do {
                while let frame = try sampler.next() {
                    if !queue.put(frame) { break }
                }
            } catch { decodeError.set(error) }
            queue.close()
        }
        decoder.stackSize = 8 << 20
        decoder.start()

        var scores: [FrameScores] = []
        var inferenceError: Error? = nil
        while true {
            if shouldStop?() == true {
                inferenceError = ScanCancelled()
                queue.cancel()
                break
            }
            let batch = queue.take(upTo: options.batchSize)
            if batch.isEmpty { break }
            let batchScores: [FrameScores]
            do { batchScores = try classify(batch, faceSlot: faceSlot) } catch {
                // Our own input tensors: a failure is the model's, and stops every file.
                inferenceError = error is ModelLoadError ? error : ModelLoadError(underlying: error)
                queue.cancel()
                break
            }
            scores += batchScores
            if let slot = thumbnailSlot {
                for (frame, score) in zip(batch, batchScores) {
                    let blur = !options.unblurThumbnails && score.moderation[sexual] >= sexualThreshold
                    let picture = blur ? frame.images[slot].blurred() : frame.images[slot]
                    let jpeg = (try? ImageEncoder.jpeg(picture, quality: 6)) ?? []
                    thumbnails.append(Thumbnail(jpeg: jpeg, width: picture.width, height: picture.height, blurred: blur))
                }
            }
            progress?(batch.last!.timeS, file.info.durationS, scores.count)
        }
        queue.waitUntilClosed()
        if let e = inferenceError { throw e }
        if let e = decodeError.value { throw e }

        let aggregator = Aggregator(thresholds: options.thresholds, minDuration: options.minDuration, mergeGap: options.mergeGap)
        var (summary, segments) = aggregator.aggregate(scores, duration: file.info.durationS,
                                                       customNames: custom?.1.labels, topK: options.topK)
        if faces != nil { summary.people = Report.PeopleSummary(scores) }
        return Review(report: makeReport(file: file, sampler: sampler, scores: scores, summary: summary, segments: segments),
                      thumbnails: thumbnails)
    }

    /// Runs every model on a batch of frames, always one frame per model run (batch 1):
    /// a frame's scores must not depend on which frames shared its batch (that
    /// depends on decode timing; a batch-1 fully connected layer sums in another
    /// order than a batch-8 one, and 0.0601 became 0.0602). With several threads
    /// and frames, each thread takes every n-th frame through all the models on its
    /// own; one frame alone gets the threads inside each op.
    func classify(_ frames: [SampledFrame], faceSlot: Int? = nil) throws -> [FrameScores] {
        let parts = min(options.threads, frames.count)
        if parts <= 1 { return try frames.flatMap { try classify([$0], threads: options.threads, faceSlot: faceSlot) } }
        let results = UnsafeMutablePointer<Result<[FrameScores], Error>>.allocate(capacity: frames.count)
        defer { results.deinitialize(count: frames.count); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for i in stride(from: part, to: frames.count, by: parts) {
                (results + i).initialize(to: Result { try classify([frames[i]], threads: 1, faceSlot: faceSlot) })
            }
        }
        return try (0..<frames.count).flatMap { try results[$0].get() }
    }

    /// Runs every model on `frames`, each model using `threads` threads, and MTCNN
    /// on the picture at `faceSlot` when faces were asked for.
    func classify(_ frames: [SampledFrame], threads: Int, faceSlot: Int? = nil) throws -> [FrameScores] {
        func run(_ m: LoadedModel, image: Int) throws -> Tensor {
            let input = m.bundle.tensor(from: frames.map { $0.images[image] })
            let model = try m.model.get()
            let out = try model.run([model.inputs[0].name: input], threads: threads)
            return out[model.outputNames[0]]!
        }
        let nsfwOut = try run(nsfw, image: 0)
        let topicOut = try run(topics, image: 1)
        let customOut = try custom.map { try run($0.0, image: 2) }
        let detector = try faces?.detector.get()
        let faceLists = try faceSlot.flatMap { slot in try detector.map { d in try frames.map { try d.detect($0.images[slot]) } } }
        return frames.enumerated().map { i, f in
            let probs = topicOut.data[(i * 1000)..<((i + 1) * 1000)]
            let nsfwScore = Double(nsfwOut.data[i * 2 + 1])
            let moderation = Taxonomy.moderation.map { label -> Double in
                switch label.source {
                case .nsfw: return nsfwScore
                case .imagenetClasses(let ids): return min(1, ids.reduce(0) { $0 + Double(probs[probs.startIndex + $1]) })
                }
            }
            var customAll: [Float]? = nil
            if let c = customOut {
                let width = c.count / frames.count
                customAll = probabilities(Array(c.data[(i * width)..<((i + 1) * width)]))
            }
            var topics = Taxonomy.topicScores(probs)
            let frameFaces = faceLists?[i]
            // A face is people on screen: the topic takes the best face's score when
            // that is higher than what the ImageNet classes say (they have no person class).
            if let best = frameFaces?.first?.score { topics[Taxonomy.peopleTopic] = max(topics[Taxonomy.peopleTopic], best) }
            return FrameScores(timeS: f.timeS, pts: f.pts, keyFrame: f.keyFrame, moderation: moderation,
                               topics: topics, classes: topK(probs, options.topK),
                               custom: customAll.map { topK($0[...], options.topK) }, customAll: customAll, faces: frameFaces)
        }
    }

    /// Softmax when a custom model outputs logits (values outside [0,1] or rows not summing to 1).
    func probabilities(_ row: [Float]) -> [Float] {
        let sum = row.reduce(0, +)
        if row.allSatisfy({ $0 >= 0 && $0 <= 1 }) && abs(sum - 1) < 1e-3 { return row }
        let mx = row.max() ?? 0
        let e = row.map { Foundation.exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func topK(_ probs: ArraySlice<Float>, _ k: Int) -> [(Int, Double)] {
        let base = probs.startIndex
        return probs.indices.sorted { (probs[$0], -$0) > (probs[$1], -$1) }.prefix(k).map { ($0 - base, Double(probs[$0])) }
    }

    func makeReport(file: VideoFile, sampler: FrameSampler, scores: [FrameScores], summary: Report.Summary,
                    segments: [Report.Segment]) -> Report {
        let info = file.info
        let o = options.sampling
        var params = Report.Sampling.Params()
        switch o.mode {
        case .keyframes:
            params.minInterval = o.minInterval
            params.maxGap = o.maxGap
        case .interval(let s): params.intervalS = s
        case .scenes(let t): params.sceneThreshold = t
        }
        params.maxFrames = o.maxFrames
        params.start = o.start
        params.end = o.end
        let topicTop = 3
        let frames: [Report.Frame]? = options.includeFrames ? scores.map { f in
            let topics = f.topics.indices.sorted { (f.topics[$0], -$0) > (f.topics[$1], -$1) }.prefix(topicTop)
                .map { Report.LabelScore(label: Taxonomy.topics[$0], score: round4(f.topics[$0])) }
            let moderation = Dictionary(uniqueKeysWithValues: zip(Taxonomy.moderation.map(\.name), f.moderation.map(round4)))
            let customNames = custom?.1.labels ?? []
            return Report.Frame(timeS: round4(f.timeS), pts: f.pts, keyFrame: f.keyFrame, moderation: moderation, topics: topics,
                                classes: f.classes.map { Report.ClassScore(id: $0.0, name: classNames[$0.0], score: round4($0.1)) },
                                custom: f.custom?.map { Report.ClassScore(id: $0.0, name: $0.0 < customNames.count ? customNames[$0.0] : "class \($0.0)",
                                                                          score: round4($0.1)) },
                                faces: f.faces?.map(Report.FaceBox.init))
        } : nil
        var errors = sampler.warnings.map { Report.DecodeError(category: $0.category, message: $0.message, timeS: $0.timeS.map(round4)) }
        if sampler.warningCount > sampler.warnings.count {
            errors.append(Report.DecodeError(category: "decode_failed",
                                             message: "\(sampler.warningCount - sampler.warnings.count) more warnings not listed", timeS: nil))
        }
        return Report(
            tool: tool,
            file: .init(path: info.path, sizeBytes: info.sizeBytes, mtime: nil),
            video: .init(durationS: info.durationS.map(round4), width: info.displayWidth, height: info.displayHeight,
                         rotation: info.rotation, codec: info.codec, avgFps: info.avgFps.map(round4)),
            sampling: .init(mode: o.mode.name, params: params, framesSampled: scores.count),
            models: modelInfos,
            summary: summary, segments: segments, frames: frames, errors: errors, fingerprint: nil)
    }
}

/// A scanned video with the thumbnails of its sampled frames (empty when none were asked for).
public struct Review: Sendable {
    public var report: Report
    /// One per sampled frame, in `report.frames` order.
    public var thumbnails: [Thumbnail]
}

/// A sampled frame's thumbnail, JPEG-encoded; blurred when the frame was over the
/// `sexual` threshold (unless unblurring was asked for).
public struct Thumbnail: Sendable {
    public var jpeg: [UInt8]
    public var width: Int
    public var height: Int
    public var blurred: Bool
}

/// The first error of a producer thread, read by the consumer after the thread closed its queue.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error? = nil
    func set(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
    var value: Error? { lock.lock(); defer { lock.unlock() }; return error }
}

/// Thrown by `VideoScanner.scan` when its `shouldStop` asked it to stop.
public struct ScanCancelled: Error, CustomStringConvertible {
    public var description: String { "interrupted" }
}

/// The tool version reports carry.
public let vidlabelVersion = "0.1.0"

/// A bounded producer/consumer queue: `put` blocks while full, so a fast
/// decoder never holds more than `capacity` frames.
final class BoundedQueue<T>: @unchecked Sendable {
    private var items: [T] = []
    private let capacity: Int
    private var closed = false
    private var cancelled = false
    private let cond = NSCondition()

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// False when the consumer cancelled: the producer should stop.
    func put(_ item: T) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while items.count >= capacity && !cancelled { cond.wait() }
        if cancelled { return false }
        items.append(item)
        cond.broadcast()
        return true
    }

    /// Up to `n` items; waits for at least one; empty when closed and drained.
    func take(upTo n: Int) -> [T] {
        cond.lock(); defer { cond.unlock() }
        while items.isEmpty && !closed { cond.wait() }
        let k = min(n, items.count)
        let out = Array(items.prefix(k))
        items.removeFirst(k)
        cond.broadcast()
        return out
    }

    func close() { cond.lock(); closed = true; cond.broadcast(); cond.unlock() }
    func cancel() { cond.lock(); cancelled = true; items.removeAll(); cond.broadcast(); cond.unlock() }
    func waitUntilClosed() { cond.lock(); while !closed { cond.wait() }; cond.unlock() }
}
