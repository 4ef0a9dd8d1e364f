import Foundation
import XCTest
import Inference

/// The OCR graphs (PP-OCRv6 detection and recognition, the line orientation
/// classifier) and NudeNet 320n against onnxruntime on real photos, each at two or
/// more input sizes (Tools/golden_detectors.py), on every kernel set this machine
/// runs. Probabilities within 1e-4 absolute; NudeNet's box coordinates (pixels)
/// within 1e-4 relative.
final class DetectorModelTests: XCTestCase {
    static let files = ["ppocr-det": "Models/ppocr-det.onnx", "ppocr-rec": "Models/ppocr-rec.onnx",
                        "ppocr-cls": "Models/ppocr-cls.onnx", "nudenet-320n": "Models/optional/nudenet-320n.onnx"]

    func check(_ prefix: String, expectedCases: Int, compare: (GoldenCase, String, Tensor, Tensor) -> Void) throws {
        let cases = try GoldenCase.load(prefix: prefix)
        XCTAssertEqual(cases.count, expectedCases, "golden \(prefix) cases: run `make models`")
        for set in kernelSets {
            let model = try Model(contentsOf: repoRoot.appendingPathComponent(Self.files[cases[0].model]!), kernels: set)
            for c in cases {
                let got = try model.run([model.inputs[0].name: c.input])
                XCTAssertEqual(model.outputNames, c.outputs.map(\.name))
                for (name, expected) in c.outputs {
                    let y = try XCTUnwrap(got[name], "\(c.model) output \(name)")
                    XCTAssertEqual(y.shape, expected.shape, "\(c.model) \(c.name)")
                    guard y.shape == expected.shape else { continue }
                    compare(c, "\(c.model) \(c.name), \(set.rawValue) kernels", y, expected)
                }
            }
        }
    }

    func testOCRDetectionMatchesOnnxruntime() throws {
        try check("ppocr-det-", expectedCases: 2) { _, what, y, expected in
            XCTAssertLessThanOrEqual(maxAbsDiff(y, expected), 1e-4, what)
        }
    }

    func testOCRRecognitionMatchesOnnxruntime() throws {
        try check("ppocr-rec-", expectedCases: 2) { _, what, y, expected in
            XCTAssertLessThanOrEqual(maxAbsDiff(y, expected), 1e-4, what)
        }
    }

    func testOrientationClassifierMatchesOnnxruntime() throws {
        try check("ppocr-cls-", expectedCases: 1) { _, what, y, expected in
            XCTAssertLessThanOrEqual(maxAbsDiff(y, expected), 1e-4, what)
        }
    }

    /// Output [N, 22, A]: rows 0-3 the boxes (centre x, y, width, height in input
    /// pixels), rows 4-21 the 18 classes' probabilities.
    func testNudeNetMatchesOnnxruntime() throws {
        try check("nudenet-320n-", expectedCases: 2) { _, what, y, expected in
            let anchors = y.shape[2]
            var box: Float = 0, prob: Float = 0
            for i in 0..<y.count {
                let d = abs(y.data[i] - expected.data[i])
                if (i / anchors) % 22 < 4 { box = max(box, d / max(1, abs(expected.data[i]))) } else { prob = max(prob, d) }
            }
            XCTAssertLessThanOrEqual(box, 1e-4, "\(what): boxes, relative")
            XCTAssertLessThanOrEqual(prob, 1e-4, "\(what): probabilities")
        }
    }
}
