import Foundation
import Inference
import VideoIO

/// How a model wants its pixels: channel order, scaling, layout.
public enum Preprocessing: String, Sendable, CaseIterable {
    /// RGB, x/255, minus ImageNet mean (0.485, 0.456, 0.406), over std (0.229, 0.224, 0.225). NCHW.
    case imagenet
    /// BGR, minus the Caffe ImageNet mean (104, 117, 123), no scaling. NCHW.
    case caffeBGR = "caffe-bgr"
    /// RGB, x/127.5 - 1 (range [-1, 1]). NCHW.
    case inception
    /// RGB, (x - 127) / 128: TensorFlow's EfficientNet-Lite. NCHW.
    case lite

    /// Per-channel (R, G, B order of the source image) offset and scale: v = (x - offset) * scale.
    var offsetScale: (offset: SIMD3<Float>, scale: SIMD3<Float>) {
        switch self {
        case .imagenet:
            return (SIMD3(0.485, 0.456, 0.406) * 255, 1 / (SIMD3(0.229, 0.224, 0.225) * 255))
        case .caffeBGR:
            return (SIMD3(123, 117, 104), SIMD3(repeating: 1))
        case .inception:
            return (SIMD3(repeating: 127.5), SIMD3(repeating: 1 / 127.5))
        case .lite:
            return (SIMD3(repeating: 127), SIMD3(repeating: 1 / 128))
        }
    }

    var bgr: Bool { self == .caffeBGR }
}

/// A model together with what it needs around it: where its file is, how to
/// prepare its input, what its outputs mean.
public struct ModelBundle: Sendable {
    public enum Task: String, Sendable { case moderation, topics, custom }
    public enum Layout: String, Sendable { case nchw, nhwc }

    public let name: String
    public let task: Task
    public let fileName: String
    public let preprocessing: Preprocessing
    public let layout: Layout
    public let inputSize: Int
    /// How the frame is cut and scaled before normalisation.
    public let resize: ResizeMode
    public let interpolation: Interpolation

    public init(name: String, task: Task, fileName: String, preprocessing: Preprocessing, layout: Layout = .nchw,
                inputSize: Int = 224, resize: ResizeMode = .centerCrop(fraction: 0.875), interpolation: Interpolation = .bicubic) {
        self.name = name
        self.task = task
        self.fileName = fileName
        self.preprocessing = preprocessing
        self.layout = layout
        self.inputSize = inputSize
        self.resize = resize
        self.interpolation = interpolation
    }

    /// The picture this model wants from each sampled frame.
    public var imageRequest: ImageRequest {
        ImageRequest(width: inputSize, height: inputSize, mode: resize, interpolation: interpolation)
    }

    /// Yahoo open_nsfw: Caffe recipe (stretch to 256x256, centre 224x224, BGR minus mean), NHWC input.
    public static let openNSFW = ModelBundle(name: "open-nsfw", task: .moderation, fileName: "open-nsfw.onnx",
                                             preprocessing: .caffeBGR, layout: .nhwc, resize: .centralRegion(fraction: 0.875),
                                             interpolation: .bilinear)
    /// EfficientNet-Lite0, ImageNet-1k: centre crop of 224/256 of the shorter side, bicubic, (x-127)/128.
    public static let efficientNetLite0 = ModelBundle(name: "efficientnet-lite0", task: .topics, fileName: "efficientnet-lite0.onnx",
                                                      preprocessing: .lite)
    /// MobileNetV2 (torchvision), ImageNet-1k: resize 256 / crop 224, ImageNet mean/std.
    public static let mobileNetV2 = ModelBundle(name: "mobilenet-v2", task: .topics, fileName: "mobilenet-v2.onnx",
                                                preprocessing: .imagenet)

    public static let builtIn = [openNSFW, efficientNetLite0, mobileNetV2]

    /// Classes the model scores per image, when fixed (open_nsfw: 2, ImageNet: 1000).
    public var classCount: Int? {
        switch task {
        case .moderation: return 2
        case .topics: return 1000
        case .custom: return nil
        }
    }

    /// Checks that `model` (from `file`) takes the picture this bundle feeds and
    /// gives the scores it reads, so a wrong model file is one error at load rather
    /// than a failure per video.
    /// - Throws: `InferenceError` naming the file and what it expects.
    public func check(_ model: Model, file: URL) throws {
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw InferenceError("\(file.path): has \(model.inputs.count) inputs; an image classifier takes one")
        }
        let s = inputSize
        let fed: [Int] = layout == .nchw ? [1, 3, s, s] : [1, s, s, 3]
        guard input.shape.count == 4, zip(input.shape, fed).allSatisfy({ $0 == nil || $0 == $1 }) else {
            let want = input.shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ")
            throw InferenceError("\(file.path): expects input [\(want)], but gets \(layout.rawValue.uppercased()) pictures [N, \(fed[1...].map(String.init).joined(separator: ", "))]\(task == .custom ? " (set --input-size to the model's picture size)" : "")")
        }
        guard let output = model.outputNames.first else { throw InferenceError("\(file.path): has no outputs") }
        let shape = try model.outputShape(output)
        let perImage = shape.dropFirst().reduce(1, *)
        guard shape.first == 1, perImage >= 1 else { throw InferenceError("\(file.path): output '\(output)' has shape \(shape); one row of scores per image was expected") }
        if let n = classCount, perImage != n {
            throw InferenceError("\(file.path): output '\(output)' gives \(perImage) scores per image, \(name) has \(n)")
        }
    }

    /// Converts RGB pictures (all `inputSize` square) into one input tensor [N, 3, S, S] or [N, S, S, 3].
    public func tensor(from images: [RGBImage]) -> Tensor {
        let s = inputSize, plane = s * s
        var data = [Float](repeating: 0, count: images.count * 3 * plane)
        let (offset, scale) = preprocessing.offsetScale
        let order = preprocessing.bgr ? [2, 1, 0] : [0, 1, 2]
        data.withUnsafeMutableBufferPointer { out in
            for (n, img) in images.enumerated() {
                precondition(img.width == s && img.height == s, "image \(img.width)x\(img.height) != \(s)x\(s)")
                img.pixels.withUnsafeBufferPointer { px in
                    let base = n * 3 * plane
                    for c in 0..<3 {
                        let src = order[c]
                        let o = offset[src], k = scale[src]
                        for i in 0..<plane {
                            let v = (Float(px[i * 3 + src]) - o) * k
                            // NCHW: [n][c][i]; NHWC: [n][i][c].
                            if layout == .nchw { out[base + c * plane + i] = v } else { out[base + i * 3 + c] = v }
                        }
                    }
                }
            }
        }
        let shape = layout == .nchw ? [images.count, 3, s, s] : [images.count, s, s, 3]
        return Tensor(shape: shape, data: data)
    }
}

/// Finds model files. An explicit folder (`--models-dir`, else `$VIDLABEL_MODELS`)
/// is the only place searched, and must exist: a typo must not quietly fall back
/// to other models. Without one: the installed share folder
/// (`<prefix>/share/vidlabel/models`, found from the executable's real path), then
/// `./Models`.
public struct ModelLocator: Sendable {
    public let searchPath: [String]
    /// Where the search path came from, for the not-found message.
    let explicit: String?

    /// - Throws: `ModelLocatorError` when the explicit folder is missing or not a folder.
    public init(modelsDir: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                executable: String? = ModelLocator.executablePath()) throws {
        func folder(_ path: String, _ origin: String) throws -> String {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw ModelLocatorError(message: "\(origin): no such folder")
            }
            guard isDir.boolValue else { throw ModelLocatorError(message: "\(origin): not a folder") }
            return path
        }
        if let d = modelsDir {
            searchPath = [try folder(d, "--models-dir \(d)")]
            explicit = "--models-dir"
        } else if let e = environment["VIDLABEL_MODELS"], !e.isEmpty {
            searchPath = [try folder(e, "VIDLABEL_MODELS=\(e)")]
            explicit = "VIDLABEL_MODELS"
        } else {
            var path: [String] = []
            if let exe = executable {
                let prefix = URL(fileURLWithPath: exe).deletingLastPathComponent().deletingLastPathComponent()
                path.append(prefix.appendingPathComponent("share/vidlabel/models").path)
            }
            path.append(FileManager.default.currentDirectoryPath + "/Models")
            searchPath = path
            explicit = nil
        }
    }

    /// The running executable's real path (symlinks resolved), from `/proc/self/exe`:
    /// argv[0] is a bare name when the binary is run from PATH, and relative to a
    /// working directory the user may have left.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        buffer[n] = 0
        return String(cString: buffer)
    }

    /// The first `name` along the search path; it must be a regular file (a FIFO or
    /// device would block or never end).
    public func find(_ name: String) throws -> URL {
        for dir in searchPath {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
            var st = stat()
            guard stat(url.path, &st) == 0 else { continue }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw InferenceError("\(url.path): not a regular file") }
            return url
        }
        let hint = explicit.map { "; it is the only folder searched when \($0) is set" }
            ?? "; run `make models` in the vidlabel source tree, or pass --models-dir"
        throw InferenceError("model file \(name) not found (looked in: \(searchPath.joined(separator: ", ")))\(hint)")
    }
}

/// A models folder named on the command line or in the environment that does not exist.
public struct ModelLocatorError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
