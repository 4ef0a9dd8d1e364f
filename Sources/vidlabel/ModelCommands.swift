import ArgumentParser
import Foundation
import Inference
import Labeling

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models each analyzer needs and whether they are installed: analyzer, task, file, sha256, input, parameters, GFLOPs per image.")

    @Option(help: "Folder holding the model files.")
    var modelsDir: String?

    struct Entry: Encodable {
        let name: String, analyzer: String, task: String, license: String, installed: Bool
        let file: String?, sha256: String?
        let input_shape: [Int]?, parameters: Int?, gflops_per_image: Double?
    }

    func run() throws {
        let locator: ModelLocator
        do { locator = try ModelLocator(modelsDir: modelsDir) } catch { throw CLIError.usage("\(error)") }
        var failed = false
        // The classifiers always run: missing is a failure; the other analyzers' models are asked for.
        for need in AnalyzerModel.all {
            func entry(_ installed: Bool, _ file: String? = nil, _ sha256: String? = nil, _ shape: [Int]? = nil,
                       _ parameters: Int? = nil, _ gflops: Double? = nil) -> Entry {
                Entry(name: need.name, analyzer: need.analyzer, task: need.task, license: need.license, installed: installed, file: file,
                      sha256: sha256, input_shape: shape, parameters: parameters, gflops_per_image: gflops)
            }
            guard let url = try? locator.find(need.file) else {
                if need.required { failed = true; printError("\(need.name): \(need.file) is not installed (needed by \(need.analyzer))") }
                Output.writeLine(try jsonLine(entry(false)))
                continue
            }
            do {
                let model = try Model(contentsOf: url)
                let shape = need.costShape ?? model.inputs[0].shape.map { $0 ?? 1 }
                Output.writeLine(try jsonLine(entry(true, url.path, try SHA256.fileHex(url), shape, model.parameterCount,
                                                    (try model.gflopsPerImage(inputShape: shape) * 1000).rounded() / 1000)))
            } catch {
                failed = true
                printError("\(need.name): \(error)")
            }
        }
        if failed { throw InputFailure() }
    }
}

struct InspectModel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect-model",
        abstract: "Print an ONNX file's inputs, outputs, op histogram and whether every op is supported.")

    @Argument(help: "An .onnx file.")
    var file: String

    struct Info: Encodable {
        struct IO: Encodable { let name: String; let shape: [String] }
        let file: String, opset: Int, inputs: [IO], outputs: [String]
        let ops: [String: Int], unsupported_ops: [String], supported: Bool, parameters: Int
    }

    func run() throws {
        do {
            let graph = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: file), checkOps: false)
            var histogram: [String: Int] = [:]
            for n in graph.nodes { histogram[n.opType, default: 0] += 1 }
            let unsupported = histogram.keys.filter { op in supportedOps[op].map { graph.opset < $0 } ?? true }.sorted()
            let info = Info(file: file, opset: graph.opset,
                            inputs: graph.inputs.map { .init(name: $0.name, shape: $0.shape.map { $0.map(String.init) ?? "N" }) },
                            outputs: graph.outputs, ops: histogram, unsupported_ops: unsupported, supported: unsupported.isEmpty,
                            parameters: graph.parameterCount)
            Output.writeLine(try jsonLine(info, pretty: true))
            if !unsupported.isEmpty { throw InputFailure() }
        } catch let e as InferenceError {
            printError("\(e)")
            throw InputFailure()
        }
    }
}

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-model",
        abstract: "Time a model on random input: median, min and max latency (ms, after warm-up) and GFLOP/s, as JSON.")

    @Argument(help: "An .onnx file.")
    var file: String
    @Option(parsing: .unconditional, help: "Batch size.") var batch: Int = 1
    @Option(parsing: .unconditional, help: "Threads.") var threads: Int = 1
    @Option(parsing: .unconditional, help: "Timed runs.") var runs: Int = 30
    @Option(parsing: .unconditional, help: "Untimed warm-up runs.") var warmup: Int = 3
    @Option(help: "Input picture size, N or WxH, for a model that takes any size (a detector's); required for one.")
    var size: String?

    func validate() throws {
        if let size { try checkPictureSize(size, "--size") }
        try check(batch, "--batch", in: 1...64)
        try check(threads, "--threads", in: Bounds.threads)
        try check(runs, "--runs", in: 1...100_000)
        try check(warmup, "--warmup", in: 0...10_000)
    }

    struct Result: Encodable {
        let model: String, batch: Int, threads: Int, runs: Int
        /// The kernel set that ran (avx512, avx2, portable).
        let isa: String
        let median_ms: Double, min_ms: Double, max_ms: Double, gflops: Double
    }

    func run() throws {
        do {
            let model = try Model(contentsOf: URL(fileURLWithPath: file), threads: threads)
            let info = model.inputs[0]
            let picture = size.flatMap(pictureSize)
            // [N, C, H, W]: the batch and, for a model of any image size, --size fill the dynamic dimensions.
            let shape = try info.shape.enumerated().map { i, d -> Int in
                if let d { return d }
                if i == 0 { return batch }
                guard info.shape.count == 4, i >= 2, let picture else {
                    throw InferenceError("\(file): input '\(info.name)' takes any image size: give --size WxH")
                }
                return i == 2 ? picture.height : picture.width
            }
            guard shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) <= 1 << 27 else {
                throw InferenceError("\(file): input \(shape) is too large to benchmark")
            }
            let input = Tensor.random(shape, seed: 42)
            let feeds = [info.name: input]
            for _ in 0..<warmup { _ = try model.run(feeds) }
            var times: [Double] = []
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try model.run(feeds)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            times.sort()
            let median = times[times.count / 2]
            var one = shape
            one[0] = 1
            let gflop = try model.gflopsPerImage(inputShape: one) * Double(batch)
            let r = { (x: Double) in (x * 1000).rounded() / 1000 }
            Output.writeLine(try jsonLine(Result(model: file, batch: batch, threads: threads, runs: runs, isa: model.kernelSet.rawValue, median_ms: r(median),
                                                 min_ms: r(times[0]), max_ms: r(times[times.count - 1]), gflops: r(gflop / (median / 1000)))))
        } catch let e as InferenceError {
            printError("\(e)")
            throw InputFailure()
        }
    }
}
