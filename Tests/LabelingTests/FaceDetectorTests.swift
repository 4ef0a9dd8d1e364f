import Foundation
import XCTest
import Inference
import Labeling
import VideoIO

/// The MTCNN cascade against the same algorithm in numpy over onnxruntime
/// (Tools/mtcnn_reference.py, facenet-pytorch's detect_face), on real photos:
/// the astronaut and the cameraman have one face each, at full size and (the
/// astronaut) at 0.6 scale; the cat, the coffee cup and the rocket have none.
final class FaceDetectorTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func detector(_ set: KernelSet) throws -> FaceDetector {
        let nets = try ["pnet", "rnet", "onet"].map { try Model(contentsOf: root.appendingPathComponent("Models/mtcnn-\($0).onnx"), kernels: set) }
        return try FaceDetector(pnet: nets[0], rnet: nets[1], onet: nets[2])
    }

    func testFacesMatchTheReferenceCascade() throws {
        let dir = root.appendingPathComponent("Fixtures/gen/golden")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("faces-") }.sorted()
        XCTAssertEqual(files.count, 6, "golden faces in \(dir.path): run `make test` (Tools/golden.py)")
        for set in KernelSet.supported {
            let faces = try detector(set)
            for file in files {
                let data = try Data(contentsOf: dir.appendingPathComponent(file))
                let newline = data.firstIndex(of: 0x0A)!
                let header = try JSONSerialization.jsonObject(with: data[..<newline]) as! [String: Any]
                let (w, h) = (header["width"] as! Int, header["height"] as! Int)
                let image = RGBImage(width: w, height: h, pixels: [UInt8](data[(newline + 1)...]))
                let expected = header["boxes"] as! [[Double]]
                let got = try faces.detect(image)
                XCTAssertEqual(got.count, expected.count, "\(set.rawValue) \(file): faces \(got)")
                for (f, e) in zip(got, expected) {
                    // The reference's boxes are in pixels and unclamped; ours are fractions, clamped.
                    let want = [max(0, min(e[0], Double(w))) / Double(w), max(0, min(e[1], Double(h))) / Double(h),
                                max(0, min(e[2], Double(w))) / Double(w), max(0, min(e[3], Double(h))) / Double(h)]
                    for (a, b) in zip([f.x0, f.y0, f.x1, f.y1], want) {
                        XCTAssertEqual(a, b, accuracy: 0.5 / Double(max(w, h)), "\(set.rawValue) \(file): box \(f) vs \(e)")
                    }
                    XCTAssertEqual(f.score, e[4], accuracy: 1e-3, "\(set.rawValue) \(file)")
                }
            }
        }
    }

    func testOtherModelsAreNotMTCNN() throws {
        let pnet = try Model(contentsOf: root.appendingPathComponent("Models/mtcnn-pnet.onnx"))
        let mobilenet = try Model(contentsOf: root.appendingPathComponent("Models/mobilenet-v2.onnx"))
        XCTAssertThrowsError(try FaceDetector(pnet: pnet, rnet: mobilenet, onet: mobilenet)) { error in
            XCTAssertTrue("\(error)".contains("mobilenet-v2.onnx: not MTCNN's R-Net"), "\(error)")
        }
    }
}
