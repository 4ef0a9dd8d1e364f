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

/// Finds model files: `--models-dir`, then `$VIDLABEL_MODELS`, then the
/// installed share folder (`<prefix>/share/vidlabel/models` next to the binary's
/// `bin/`), then `./Models`.
public struct ModelLocator: Sendable {
    public let searchPath: [String]

    public init(modelsDir: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                executable: String = CommandLine.arguments.first ?? "") {
        var path: [String] = []
        if let d = modelsDir { path.append(d) }
        if let e = environment["VIDLABEL_MODELS"], !e.isEmpty { path.append(e) }
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        path.append(exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/vidlabel/models").path)
        path.append(FileManager.default.currentDirectoryPath + "/Models")
        searchPath = path
    }

    /// The first existing `name` along the search path.
    public func find(_ name: String) throws -> URL {
        for dir in searchPath {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw InferenceError("model file \(name) not found (looked in: \(searchPath.joined(separator: ", "))); run `make models` in the vidlabel source tree, or pass --models-dir")
    }
}
