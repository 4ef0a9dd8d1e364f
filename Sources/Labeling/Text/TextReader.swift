import Foundation
import Inference
import VideoIO

/// One line of text read in a picture.
public struct TextLine: Sendable, Equatable {
    public var text: String
    /// The recogniser's confidence: the mean probability of its characters.
    public var score: Double
    /// Axis-aligned bounds of the line's (possibly rotated) box, as fractions of the
    /// picture's width and height.
    public var x0: Double, y0: Double, x1: Double, y1: Double
}

/// PP-OCR's pipeline (PaddleOCR's, as rapidocr runs it), with our own pre- and
/// post-processing: PP-OCRv6 detection on the whole picture (DB boxes, see
/// `TextBoxFinder`), the line orientation classifier on each box (upside-down
/// lines turned when it is over 0.9 sure), and PP-OCRv6 recognition of each line
/// with CTC greedy decoding over the recogniser's own character list (its
/// metadata's `character`: 18708 characters, Latin to CJK).
///
/// Cost bounds: recognition runs only where detection found text, on at most
/// `maxLines` lines a picture (the most confident boxes); a line's picture is 48
/// px high and at most `maxLineWidth` wide (longer lines are squeezed).
final class TextReader: @unchecked Sendable {
    /// The three nets' file names (models folder).
    static let modelFiles = ["ppocr-det.onnx", "ppocr-cls.onnx", "ppocr-rec.onnx"]
    static let maxLines = 32
    static let lineHeight = 48
    static let maxLineWidth = 1920
    /// Recognised lines less confident than this are dropped. rapidocr keeps 0.5 and
    /// up; lines it half-reads score 0.5-0.7 and come out different on every frame
    /// ("un i uuere", "un i ere"), which fills the summary and every diff with noise.
    static let minScore = 0.75

    let detector: Model, classifier: Model, recognizer: Model
    /// Index i of the recogniser's output: 0 the CTC blank, then the characters, then a space.
    let characters: [String]
    let boxFinder = TextBoxFinder()

    /// - Throws: when the recogniser has no character list, or its output size does not match it.
    init(detector: Model, classifier: Model, recognizer: Model) throws {
        (self.detector, self.classifier, self.recognizer) = (detector, classifier, recognizer)
        guard let list = recognizer.metadata["character"], !list.isEmpty else {
            throw InferenceError("the text recogniser has no 'character' list in its metadata")
        }
        characters = [""] + list.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) + [" "]
        let out = try recognizer.outputShape(recognizer.outputNames[0], inputShape: [1, 3, Self.lineHeight, 320])
        guard out.count == 3, out[2] == characters.count else {
            throw InferenceError("the text recogniser gives \(out.last ?? 0) classes for \(characters.count - 2) characters")
        }
    }

    /// The text lines of `image` (any size; detection wants sides that are multiples
    /// of 32, which `TextAnalyzer`'s picture has), in reading order.
    func read(_ image: RGBImage, threads: Int) throws -> [TextLine] {
        let det = try detector.run([detector.inputs[0].name: Self.tensor(image, width: image.width)], threads: threads)
        let prob = det[detector.outputNames[0]]!
        guard prob.shape == [1, 1, image.height, image.width] else {
            throw InferenceError("the text detector gave \(prob.shape) for a \(image.width)x\(image.height) picture")
        }
        var boxes = prob.data.withUnsafeBufferPointer { boxFinder.boxes($0, width: image.width, height: image.height) }
        if boxes.count > Self.maxLines {
            let kept = Set(boxes.indices.sorted { (boxes[$0].score, -$0) > (boxes[$1].score, -$1) }.prefix(Self.maxLines))
            boxes = boxes.indices.filter(kept.contains).map { boxes[$0] }
        }
        guard !boxes.isEmpty else { return [] }
        // Orientation: all lines of the picture in one batch of 48x192 crops.
        let crops = boxes.map { LineCrop(quad: $0.quad) }
        let clsInput = Self.batch(crops.map { $0.sample(image, height: Self.lineHeight, maxWidth: 192, paddedWidth: 192, turned: false) },
                                  width: 192)
        let cls = try classifier.run([classifier.inputs[0].name: clsInput], threads: threads)[classifier.outputNames[0]]!
        var lines: [TextLine] = []
        for (i, crop) in crops.enumerated() {
            let turned = cls.data[i * 2 + 1] > 0.9
            // Width: the line's aspect at 48 px high, at least 320 (the recogniser's own
            // minimum), rounded up to 64 so a video meets a few plans, not one per line.
            let natural = Int((Double(Self.lineHeight) * crop.aspect).rounded(.up))
            let padded = min(Self.maxLineWidth, max(320, (natural + 63) / 64 * 64))
            let input = Self.batch([crop.sample(image, height: Self.lineHeight, maxWidth: padded, paddedWidth: padded, turned: turned)], width: padded)
            let rec = try recognizer.run([recognizer.inputs[0].name: input], threads: threads)[recognizer.outputNames[0]]!
            guard let (text, score) = CTCGreedy.decode(rec, characters: characters), score >= Self.minScore else { continue }
            let b = crop.quad.bounds
            let (w, h) = (Double(image.width), Double(image.height))
            lines.append(TextLine(text: text, score: score, x0: b.x0 / w, y0: b.y0 / h, x1: min(1, (b.x1 + 1) / w), y1: min(1, (b.y1 + 1) / h)))
        }
        return lines
    }

    /// [1, 3, H, W] in PaddleOCR's input order (BGR, as OpenCV loads images),
    /// (x / 255 - 0.5) / 0.5.
    static func tensor(_ image: RGBImage, width: Int) -> Tensor {
        let plane = image.width * image.height
        var data = [Float](repeating: 0, count: 3 * plane)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<plane {
                data[i] = Float(px[i * 3 + 2]) / 127.5 - 1
                data[plane + i] = Float(px[i * 3 + 1]) / 127.5 - 1
                data[2 * plane + i] = Float(px[i * 3]) / 127.5 - 1
            }
        }
        return Tensor(shape: [1, 3, image.height, image.width], data: data)
    }

    /// Line pictures [3][48][width] each (already normalised) as one batch.
    static func batch(_ lines: [[Float]], width: Int) -> Tensor {
        Tensor(shape: [lines.count, 3, lineHeight, width], data: lines.flatMap { $0 })
    }
}

/// A text box cut out of the picture as an upright line: its top edge runs along
/// the quad's first side (top-left to top-right).
struct LineCrop {
    let quad: Quad

    /// Width over height of the line (a tall box is a vertical line, turned a
    /// quarter: its height becomes the line's length, as PaddleOCR does for boxes
    /// 1.5 times taller than wide).
    var aspect: Double {
        let (w, h) = sides
        return vertical ? h / max(w, 1) : w / max(h, 1)
    }

    private var sides: (Double, Double) {
        let p = quad.points
        let w = max(hypot(p[0].x - p[1].x, p[0].y - p[1].y), hypot(p[2].x - p[3].x, p[2].y - p[3].y))
        let h = max(hypot(p[0].x - p[3].x, p[0].y - p[3].y), hypot(p[1].x - p[2].x, p[1].y - p[2].y))
        return (w, h)
    }

    private var vertical: Bool { sides.1 >= 1.5 * sides.0 }

    /// The line sampled (bilinear, edges repeated) into `height` rows of
    /// min(its width at that height, maxWidth) pixels, padded with 0 to `paddedWidth`,
    /// BGR normalised as `TextReader.tensor`: [3][height][paddedWidth]. `turned`:
    /// upside down (half a turn).
    func sample(_ image: RGBImage, height: Int, maxWidth: Int, paddedWidth: Int, turned: Bool) -> [Float] {
        var p = quad.points
        // Origin, and the steps along the line and across it.
        if vertical { p = [p[3], p[0], p[1], p[2]] }  // a quarter turn: the left side becomes the top
        if turned { p = [p[2], p[3], p[0], p[1]] }
        let width = max(1, min(maxWidth, Int((Double(height) * aspect).rounded(.up))))
        let origin = p[0]
        let along = ((p[1].x - p[0].x) / Double(width), (p[1].y - p[0].y) / Double(width))
        let across = ((p[3].x - p[0].x) / Double(height), (p[3].y - p[0].y) / Double(height))
        var out = [Float](repeating: 0, count: 3 * height * paddedWidth)
        let plane = height * paddedWidth
        image.pixels.withUnsafeBufferPointer { px in
            func at(_ x: Int, _ y: Int, _ c: Int) -> Double {
                Double(px[(min(max(y, 0), image.height - 1) * image.width + min(max(x, 0), image.width - 1)) * 3 + c])
            }
            for v in 0..<height {
                for u in 0..<width {
                    let sx = origin.x + (Double(u) + 0.5) * along.0 + (Double(v) + 0.5) * across.0 - 0.5
                    let sy = origin.y + (Double(u) + 0.5) * along.1 + (Double(v) + 0.5) * across.1 - 0.5
                    let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                    let fx = sx - Double(x0), fy = sy - Double(y0)
                    for c in 0..<3 {
                        let top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx
                        let bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx
                        let value = top * (1 - fy) + bottom * fy
                        // BGR: RGB channel c goes to plane 2 - c.
                        out[(2 - c) * plane + v * paddedWidth + u] = Float(value / 127.5 - 1)
                    }
                }
            }
        }
        return out
    }
}

/// CTC greedy decoding: the most likely class per time step, repeats merged,
/// blanks (class 0) dropped.
enum CTCGreedy {
    /// probs [1, T, classes]. nil when nothing but blanks was read. The score is the
    /// mean probability of the characters kept.
    static func decode(_ probs: Tensor, characters: [String]) -> (String, Double)? {
        let t = probs.shape[1], n = probs.shape[2]
        var text = "", sum = 0.0, count = 0, previous = 0
        probs.data.withUnsafeBufferPointer { p in
            for step in 0..<t {
                var best = 0
                var bestP = p[step * n]
                for k in 1..<n where p[step * n + k] > bestP { best = k; bestP = p[step * n + k] }
                if best != 0 && best != previous && best < characters.count {
                    text += characters[best]
                    sum += Double(bestP)
                    count += 1
                }
                previous = best
            }
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return count == 0 || trimmed.isEmpty ? nil : (trimmed, sum / Double(count))
    }
}
