import Foundation
import Inference
import VideoIO

/// A body part NudeNet found: its class (lower case), score, and box [x0, y0,
/// x1, y1] as fractions of the upright frame.
public struct Detection: Sendable, Equatable {
    public var label: String
    public var score: Double
    public var x0: Double, y0: Double, x1: Double, y1: Double
}

/// NudeNet 320n (a YOLOv8n detector of 18 body-part classes) as its own
/// `NudeDetector.detect` runs it: the frame fitted into 320x320 at the top left
/// (padding right and below), RGB / 255; an anchor counts when its best class
/// scores at least 0.25; class-agnostic NMS at IoU 0.45. Boxes come back in the
/// frame's coordinates.
final class NudityDetector: @unchecked Sendable {
    static let modelFile = "optional/nudenet-320n.onnx"
    static let size = 320
    static let minScore: Float = 0.25
    static let overlap: Float = 0.45

    let model: Model

    /// - Throws: when the model is not NudeNet 320n (its metadata's class names differ).
    init(model: Model) throws {
        self.model = model
        let names = Self.classNames(model.metadata["names"] ?? "")
        guard names == NudityTaxonomy.classes else {
            throw InferenceError("not NudeNet 320n: its metadata names \(names.count) classes, not NudeNet's 18")
        }
        let out = try model.outputShape(model.outputNames[0], inputShape: [1, 3, Self.size, Self.size])
        guard out.count == 3, out[1] == 4 + names.count else { throw InferenceError("not NudeNet 320n: output \(out)") }
    }

    /// Class names from Ultralytics' metadata, a Python dict: "{0: 'A', 1: 'B'}".
    static func classNames(_ dict: String) -> [String] {
        dict.split(separator: ",").compactMap { item -> String? in
            let parts = item.split(separator: "'")
            return parts.count >= 2 ? String(parts[1]) : nil
        }
    }

    /// image: the frame as `imageRequest` asks; frameWidth/Height: the upright frame's size.
    func detect(_ image: RGBImage, frameWidth: Int, frameHeight: Int, threads: Int) throws -> [Detection] {
        let n = Self.size
        // Layout: [1][3][n][n], RGB planes / 255.
        let data = PlanarImage(image).planes.map { $0 / 255 }
        let out = try model.run([model.inputs[0].name: Tensor(shape: [1, 3, n, n], data: data)], threads: threads)[model.outputNames[0]]!
        let anchors = out.shape[2], classes = out.shape[1] - 4
        // The 320 px square covers the frame's longer side.
        let scale = Float(max(frameWidth, frameHeight)) / Float(n)
        var boxes: [ScoredBox] = []
        for a in 0..<anchors {
            var best = 0, bestScore = out.data[4 * anchors + a]
            for c in 1..<classes where out.data[(4 + c) * anchors + a] > bestScore { best = c; bestScore = out.data[(4 + c) * anchors + a] }
            guard bestScore >= Self.minScore else { continue }
            let cx = out.data[a], cy = out.data[anchors + a], w = out.data[2 * anchors + a], h = out.data[3 * anchors + a]
            boxes.append(ScoredBox(x1: (cx - w / 2) * scale, y1: (cy - h / 2) * scale, x2: (cx + w / 2) * scale, y2: (cy + h / 2) * scale,
                                   score: bestScore, extra: [Float(best)]))
        }
        let (fw, fh) = (Double(frameWidth), Double(frameHeight))
        return NonMaxSuppression.keep(boxes, threshold: Self.overlap).map { b in
            Detection(label: NudityTaxonomy.detectionLabel(NudityTaxonomy.classes[Int(b.extra[0])]), score: Double(b.score),
                      x0: min(max(Double(b.x1) / fw, 0), 1), y0: min(max(Double(b.y1) / fh, 0), 1),
                      x1: min(max(Double(b.x2) / fw, 0), 1), y1: min(max(Double(b.y2) / fh, 0), 1))
        }
    }
}
