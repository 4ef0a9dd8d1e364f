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
    /// Thumbnails of frames over the `sexual` (or `nudity.explicit`) threshold are
    /// blurred unless this is set.
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


/// Scans videos: decodes sampled frames on one thread while the analyzers look at
/// the previous ones on this one, then each analyzer writes its part of the
/// `Report`. Models are loaded once and reused for every file.
public final class VideoScanner {
    public let options: ScanOptions
    /// In the order they look at a frame: topics first, since moderation reads its
    /// ImageNet probabilities and faces raise its `people` score.
    let analysisOrder: [any FrameAnalyzer]
    /// In the order the report lists their models, summaries and segments.
    let reportOrder: [any FrameAnalyzer]
    let classNames: [String]

    /// Finds the model files (a missing one throws here) and starts loading them
    /// in the background, side by side; `waitForModels` or the first scan waits.
    public init(options: ScanOptions, locator: ModelLocator) throws {
        self.options = options
        let moderation = try ModerationAnalyzer(locator: locator, threads: options.threads)
        let topics = try TopicsAnalyzer(options.topicModel, topK: options.topK, locator: locator, threads: options.threads)
        let faces = try options.analyzers.contains(.faces) ? FacesAnalyzer(locator: locator, imageWidth: options.faceImageWidth) : nil
        let cues = options.analyzers.contains(.cues) ? CuesAnalyzer() : nil
        let text = try options.analyzers.contains(.text) ? TextAnalyzer(locator: locator) : nil
        let nudity = try options.analyzers.contains(.nudity) ? NudityAnalyzer(locator: locator) : nil
        let namesURL = try locator.find("imagenet-classes.txt")
        guard let names = FileManager.default.contents(atPath: namesURL.path), names.count < 1 << 20 else {
            throw InferenceError("\(namesURL.path): cannot read the class names")
        }
        classNames = String(decoding: names, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .prefix(1000).map(String.init)
        guard classNames.count == 1000 else { throw InferenceError("\(namesURL.path): expected 1000 class names") }
        let custom = try options.custom.map { try CustomAnalyzer($0, topK: options.topK, threads: options.threads) }
        let optional: [(any FrameAnalyzer)?] = [custom, faces, text, nudity, cues]
        analysisOrder = [topics, moderation] + optional.compactMap { $0 }
        reportOrder = [moderation, topics] + optional.compactMap { $0 }
    }

    /// Waits until every model is loaded. - Throws: `ModelLoadError`.
    public func waitForModels() throws {
        for a in reportOrder { try a.waitUntilLoaded() }
    }

    /// sha256 of every model file in use, in report order.
    public var modelHashes: [String] { modelInfos.map(\.sha256) }

    /// The tool as a report names it.
    public var tool: Report.Tool { .init(name: "vidlabel", version: vidlabelVersion) }

    /// The models as a report lists them (name, task, sha256), in report order.
    public var modelInfos: [Report.ModelInfo] { reportOrder.flatMap(\.models) }

    /// The custom model's class names, when there is one.
    var customNames: [String]? { options.custom?.labels }

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
        // Every analyzer's pictures come from one decode of each frame: `slots[i]`
        // are analysisOrder[i]'s, in the sampler's list of pictures.
        var requests: [ImageRequest] = []
        var slots: [Range<Int>] = []
        for a in analysisOrder {
            let wanted = a.imageRequests(for: file.info)
            slots.append(requests.count..<(requests.count + wanted.count))
            requests += wanted
        }
        let thumbnailSlot = options.thumbnailWidth.map { w -> Int in
            requests.append(ImageRequest.thumbnail(width: w, of: file.info))
            return requests.count - 1
        }
        var thumbnails: [Thumbnail] = []
        let sexual = Taxonomy.moderation.firstIndex { $0.name == "sexual" }!
        let sexualThreshold = options.thresholds["sexual"] ?? Taxonomy.moderation[sexual].defaultThreshold
        // With the nudity analyzer, explicit nudity blurs a thumbnail too.
        let explicit = NudityTaxonomy.labels[0]
        let explicitThreshold = options.thresholds[explicit.name] ?? explicit.defaultThreshold
        var sampling = options.sampling
        for a in analysisOrder { a.configure(&sampling) }
        let sampler = try FrameSampler(file: file, options: sampling, outputs: requests)
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
            do { batchScores = try analyze(batch, slots: slots, frameSize: (file.info.displayWidth, file.info.displayHeight)) } catch {
                // Our own input tensors: a failure is the model's, and stops every file.
                inferenceError = error is ModelLoadError ? error : ModelLoadError(underlying: error)
                queue.cancel()
                break
            }
            scores += batchScores
            if let slot = thumbnailSlot {
                for (frame, score) in zip(batch, batchScores) {
                    let blur = !options.unblurThumbnails
                        && (score.moderation[sexual] >= sexualThreshold || (score.nudity?.first ?? 0) >= explicitThreshold)
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

        let context = SummaryContext(duration: file.info.durationS,
                                     ends: coverageEnds(times: scores.map(\.timeS), duration: file.info.durationS),
                                     aggregator: Aggregator(thresholds: options.thresholds, minDuration: options.minDuration,
                                                            mergeGap: options.mergeGap),
                                     topK: options.topK, blackFrames: sampler.blackFrames)
        var summary = Report.Summary(moderation: [], topics: [], custom: nil)
        var segments: [Report.Segment] = []
        for a in reportOrder { a.summarize(scores, context, &summary, &segments) }
        var report = makeReport(file: file, sampler: sampler, scores: scores, summary: summary, segments: segments)
        if sampling.listShots || sampling.mode.name == "scenes" {
            report.shots = sampler.shots.map { Report.Shot(startS: round4($0.startS), endS: round4($0.endS)) }
        }
        return Review(report: report, thumbnails: thumbnails)
    }

    /// Runs every analyzer on a batch of frames, always one frame per model run (batch 1):
    /// a frame's scores must not depend on which frames shared its batch (that
    /// depends on decode timing; a batch-1 fully connected layer sums in another
    /// order than a batch-8 one, and 0.0601 became 0.0602). With several threads
    /// and frames, each thread takes every n-th frame through all the analyzers on
    /// its own; one frame alone gets the threads inside each op.
    func analyze(_ frames: [SampledFrame], slots: [Range<Int>], frameSize: (width: Int, height: Int)) throws -> [FrameScores] {
        let parts = min(options.threads, frames.count)
        if parts <= 1 { return try frames.map { try analyze($0, slots: slots, frameSize: frameSize, threads: options.threads) } }
        let results = UnsafeMutablePointer<Result<FrameScores, Error>>.allocate(capacity: frames.count)
        defer { results.deinitialize(count: frames.count); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for i in stride(from: part, to: frames.count, by: parts) {
                (results + i).initialize(to: Result { try analyze(frames[i], slots: slots, frameSize: frameSize, threads: 1) })
            }
        }
        return try (0..<frames.count).map { try results[$0].get() }
    }

    /// One frame through every analyzer in `analysisOrder`, each model using `threads` threads.
    func analyze(_ f: SampledFrame, slots: [Range<Int>], frameSize: (width: Int, height: Int), threads: Int) throws -> FrameScores {
        var frame = AnalyzedFrame(scores: FrameScores(timeS: f.timeS, pts: f.pts, keyFrame: f.keyFrame),
                                  frameWidth: frameSize.width, frameHeight: frameSize.height)
        for (a, slot) in zip(analysisOrder, slots) { try a.analyze(f.images[slot], &frame, threads: threads) }
        return frame.scores
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
            let customNames = self.customNames ?? []
            return Report.Frame(timeS: round4(f.timeS), pts: f.pts, keyFrame: f.keyFrame, moderation: moderation, topics: topics,
                                classes: f.classes.map { Report.ClassScore(id: $0.0, name: classNames[$0.0], score: round4($0.1)) },
                                custom: f.custom?.map { Report.ClassScore(id: $0.0, name: $0.0 < customNames.count ? customNames[$0.0] : "class \($0.0)",
                                                                          score: round4($0.1)) },
                                faces: f.faces?.map(Report.FaceBox.init), text: f.text?.map(Report.TextBox.init),
                                detections: f.detections?.map(Report.DetectionBox.init))
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
