import Foundation
import Inference
import VideoIO

/// A face in a picture: its box as fractions of the picture's width and height
/// (0-1, top left x0 y0 to bottom right x1 y1, clamped to the picture) and
/// MTCNN's final (O-Net) face probability.
public struct Face: Sendable, Equatable {
    public var x0: Double, y0: Double, x1: Double, y1: Double
    public var score: Double
}

/// MTCNN (Zhang et al. 2016) as facenet-pytorch 2.6.0 runs it (`detect_face`), with
/// its defaults: an image pyramid from the smallest face (20 px) down by 0.709 per
/// level; P-Net on every level (face probability >= 0.6, NMS 0.5 per level, then
/// 0.7 over all levels); R-Net on 24x24 crops of the squared, regressed boxes
/// (> 0.7, NMS 0.7); O-Net on 48x48 crops (> 0.7), its regression, and NMS 0.7
/// over the smaller box ("Min"). Tools/mtcnn_reference.py is the same algorithm in
/// numpy over onnxruntime, which the tests compare with.
public final class FaceDetector: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        /// Smallest face searched for, in pixels of the picture given.
        public var minFace: Double = 20
        public var thresholds: (pnet: Float, rnet: Float, onet: Float) = (0.6, 0.7, 0.7)
        /// Pyramid step.
        public var factor: Double = 0.709
        /// Candidates R-Net and O-Net look at, at most (best first): keeps a crowd's
        /// cost bounded.
        public var maxCandidates = 512
        public init() {}
        public static func == (a: Settings, b: Settings) -> Bool {
            a.minFace == b.minFace && a.factor == b.factor && a.maxCandidates == b.maxCandidates
                && a.thresholds == b.thresholds
        }
    }

    let pnet: Model, rnet: Model, onet: Model
    public let settings: Settings

    /// The three nets' files as `make models` names them, in `init`'s order.
    public static let modelFiles = ["mtcnn-pnet.onnx", "mtcnn-rnet.onnx", "mtcnn-onet.onnx"]

    /// The three nets (`mtcnn-pnet.onnx`, `-rnet`, `-onet`), checked for the inputs and outputs the cascade reads.
    public init(pnet: Model, rnet: Model, onet: Model, settings: Settings = Settings()) throws {
        for (model, name, size, outputs) in [(pnet, "P-Net", nil, ["offsets", "probs"]), (rnet, "R-Net", 24, ["offsets", "probs"]),
                                             (onet, "O-Net", 48, ["offsets", "landmarks", "probs"])] as [(Model, String, Int?, [String])] {
            guard model.inputs.count == 1, model.inputs[0].shape.count == 4, model.inputs[0].shape[1] == 3,
                  size.map({ model.inputs[0].shape[2] == $0 && model.inputs[0].shape[3] == $0 }) ?? true,
                  Set(outputs).isSubset(of: model.outputNames) else {
                throw InferenceError("\(model.source ?? name): not MTCNN's \(name) (input [N, 3, \(size.map(String.init) ?? "H"), \(size.map(String.init) ?? "W")], outputs \(outputs.joined(separator: ", ")))")
            }
        }
        (self.pnet, self.rnet, self.onet, self.settings) = (pnet, rnet, onet, settings)
    }

    /// The faces in `image`, best first. Each net runs on one thread.
    public func detect(_ image: RGBImage) throws -> [Face] {
        let picture = PlanarImage(image)
        let (w, h) = (image.width, image.height)
        var boxes = try proposals(picture)
        boxes = NonMaxSuppression.keep(boxes, threshold: 0.7)
        boxes = boxes.map { b in
            // P-Net's offsets are fractions of the box size (here without MTCNN's +1).
            let (bw, bh) = (b.x2 - b.x1, b.y2 - b.y1)
            return ScoredBox(x1: b.x1 + b.extra[0] * bw, y1: b.y1 + b.extra[1] * bh,
                             x2: b.x2 + b.extra[2] * bw, y2: b.y2 + b.extra[3] * bh, score: b.score)
        }.map(Self.square)
        boxes = Array(boxes.prefix(settings.maxCandidates))

        boxes = try refine(boxes, picture, net: rnet, size: 24, chunk: 16, threshold: settings.thresholds.rnet)
        boxes = NonMaxSuppression.keep(boxes, threshold: 0.7).map(Self.regress).map(Self.square)

        boxes = try refine(boxes, picture, net: onet, size: 48, chunk: 8, threshold: settings.thresholds.onet)
        boxes = NonMaxSuppression.keep(boxes.map(Self.regress), threshold: 0.7, overlap: .minimum)
        return boxes.map { b in
            Face(x0: Double(max(0, min(b.x1, Float(w)))) / Double(w), y0: Double(max(0, min(b.y1, Float(h)))) / Double(h),
                 x1: Double(max(0, min(b.x2, Float(w)))) / Double(w), y1: Double(max(0, min(b.y2, Float(h)))) / Double(h),
                 score: Double(b.score))
        }
    }

    /// P-Net over the pyramid: every 12x12 cell (stride 2) whose face probability
    /// reaches the threshold, mapped back to the picture, NMS 0.5 per level.
    func proposals(_ picture: PlanarImage) throws -> [ScoredBox] {
        let (w, h) = (picture.width, picture.height)
        let m = 12 / settings.minFace
        var scales: [Double] = []
        var scale = m, side = Double(min(w, h)) * m
        while side >= 12 { scales.append(scale); scale *= settings.factor; side *= settings.factor }
        var all: [ScoredBox] = []
        for s in scales {
            let hs = Int(Double(h) * s + 1), ws = Int(Double(w) * s + 1)
            var input: [Float] = []  // Layout: [1][3][hs][ws]
            picture.area(x0: 0, y0: 0, x1: w, y1: h, outW: ws, outH: hs, into: &input)
            let out = try pnet.run(["input": Tensor(shape: [1, 3, hs, ws], data: input)])
            guard let probs = out["probs"], let offsets = out["offsets"], probs.rank == 4 else { continue }
            let (oh, ow) = (probs.shape[2], probs.shape[3]), plane = oh * ow
            var level: [ScoredBox] = []
            let scale = Float(s)
            for y in 0..<oh {
                for x in 0..<ow where probs.data[plane + y * ow + x] >= settings.thresholds.pnet {
                    let i = y * ow + x
                    level.append(ScoredBox(x1: ((2 * Float(x) + 1) / scale).rounded(.down), y1: ((2 * Float(y) + 1) / scale).rounded(.down),
                                           x2: ((2 * Float(x) + 12) / scale).rounded(.down), y2: ((2 * Float(y) + 12) / scale).rounded(.down),
                                           score: probs.data[plane + i], extra: (0..<4).map { offsets.data[$0 * plane + i] }))
                }
            }
            all += NonMaxSuppression.keep(level, threshold: 0.5)
        }
        return all
    }

    /// Crops each box (clamped to the picture as MTCNN's `pad`), runs `net` on the
    /// size x size crops, and keeps those whose face probability passes, with the
    /// new score and the net's offsets. The crops go in batches of exactly `chunk`
    /// (the last padded with zeros): one plan per net, where a batch per candidate
    /// count would build and keep a plan for every count a video ever produces.
    func refine(_ boxes: [ScoredBox], _ picture: PlanarImage, net: Model, size: Int, chunk: Int, threshold: Float) throws -> [ScoredBox] {
        var input: [Float] = []  // Layout: [crops][3][size][size]
        var cropped: [ScoredBox] = []
        for b in boxes {
            // MTCNN's pad(): truncate, then 1-based x, y at least 1 and ex, ey at most the size.
            let x = max(Int(b.x1.rounded(.towardZero)), 1), y = max(Int(b.y1.rounded(.towardZero)), 1)
            let ex = min(Int(b.x2.rounded(.towardZero)), picture.width), ey = min(Int(b.y2.rounded(.towardZero)), picture.height)
            guard ex > x - 1, ey > y - 1 else { continue }
            picture.area(x0: x - 1, y0: y - 1, x1: ex, y1: ey, outW: size, outH: size, into: &input)
            cropped.append(b)
        }
        if cropped.isEmpty { return [] }
        let perCrop = 3 * size * size
        input += [Float](repeating: 0, count: (chunk - cropped.count % chunk) % chunk * perCrop)
        // Layout: [crops (padded)][2] face probabilities and [crops][4] offsets.
        var probs: [Float] = [], offsets: [Float] = []
        for start in stride(from: 0, to: input.count, by: chunk * perCrop) {
            let out = try net.run(["input": Tensor(shape: [chunk, 3, size, size], data: Array(input[start..<(start + chunk * perCrop)]))])
            guard let p = out["probs"], let o = out["offsets"], p.count == chunk * 2, o.count == chunk * 4 else { return [] }
            probs += p.data
            offsets += o.data
        }
        return cropped.indices.compactMap { i in
            let score = probs[i * 2 + 1]
            guard score > threshold else { return nil }
            var b = cropped[i]
            b.score = score
            b.extra = Array(offsets[(i * 4)..<(i * 4 + 4)])
            return b
        }
    }

    /// MTCNN's bbreg: offsets as fractions of the box size, +1 pixel inclusive.
    static func regress(_ b: ScoredBox) -> ScoredBox {
        let (w, h) = (b.x2 - b.x1 + 1, b.y2 - b.y1 + 1)
        return ScoredBox(x1: b.x1 + b.extra[0] * w, y1: b.y1 + b.extra[1] * h, x2: b.x2 + b.extra[2] * w, y2: b.y2 + b.extra[3] * h,
                         score: b.score)
    }

    /// MTCNN's rerec: the square of the longer side, centred on the box.
    static func square(_ b: ScoredBox) -> ScoredBox {
        let (w, h) = (b.x2 - b.x1, b.y2 - b.y1)
        let l = max(w, h)
        let x1 = b.x1 + w * 0.5 - l * 0.5, y1 = b.y1 + h * 0.5 - l * 0.5
        return ScoredBox(x1: x1, y1: y1, x2: x1 + l, y2: y1 + l, score: b.score, extra: b.extra)
    }
}
