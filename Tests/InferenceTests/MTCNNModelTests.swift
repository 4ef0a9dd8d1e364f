import Foundation
import XCTest
import Inference

/// MTCNN's three nets (converted by `make models` from facenet-pytorch's weights)
/// against onnxruntime on real photos (Tools/golden.py): P-Net at several image
/// sizes, one plan per size; R-Net and O-Net on crops with and without a face.
final class MTCNNModelTests: XCTestCase {
    func cases() throws -> [GoldenCase] {
        let all = try GoldenCase.load(prefix: "mtcnn-")
        XCTAssertEqual(all.count, 5, "golden MTCNN cases: run `make models`")
        return all
    }

    /// Probabilities within 1e-4 absolute; box offsets and landmarks (raw regressions)
    /// within 1e-4 relative to the largest magnitude of that output.
    func testMTCNNMatchesOnnxruntime() throws {
        var models: [String: [KernelSet: Model]] = [:]
        for c in try cases() {
            for set in kernelSets {
                let url = repoRoot.appendingPathComponent("Models/\(c.model).onnx")
                let model = try models[c.model]?[set] ?? Model(contentsOf: url, kernels: set)
                models[c.model, default: [:]][set] = model
                let got = try model.run(["input": c.input])
                XCTAssertEqual(model.outputNames, c.outputs.map(\.name))
                for (name, expected) in c.outputs {
                    let y = try XCTUnwrap(got[name], "\(c.model) output \(name)")
                    let diff = maxAbsDiff(y, expected)
                    let scale = name == "probs" ? 1 : max(1, expected.data.map(abs).max() ?? 1)
                    XCTAssertLessThanOrEqual(diff / scale, 1e-4, "\(c.model) \(c.name) \(name), \(set.rawValue) kernels")
                }
            }
        }
        // The astronaut's face: P-Net sees a face somewhere in the photo, O-Net in the face crop
        // (the first crop) and nowhere else.
        let all = try cases()
        let onet = try XCTUnwrap(all.first { $0.model == "mtcnn-onet" })
        let probs = onet.outputs.first { $0.name == "probs" }!.tensor
        XCTAssertGreaterThan(probs.data[1], 0.99)
        for i in 1..<probs.shape[0] { XCTAssertLessThan(probs.data[i * 2 + 1], 0.1, "crop \(i)") }
    }

    /// P-Net takes any image size: no plan is built at load, each size gets its own
    /// at its first run, and a size too small for the net is that run's error.
    func testPNetTakesAnySizeAndRefusesTooSmall() throws {
        let model = try Model(contentsOf: repoRoot.appendingPathComponent("Models/mtcnn-pnet.onnx"))
        XCTAssertEqual(model.inputs[0].shape, [nil, 3, nil, nil])
        for (h, w) in [(12, 12), (13, 29), (40, 17)] {
            let out = try model.run(["input": Tensor.random([1, 3, h, w], seed: 5)])
            // Three 3x3 convs and a 2x2 ceil-mode pool: ceil((h - 2) / 2) - 4 cells.
            XCTAssertEqual(out["probs"]!.shape, [1, 2, (h - 1) / 2 - 4, (w - 1) / 2 - 4])
        }
        XCTAssertThrowsError(try model.run(["input": Tensor.random([1, 3, 8, 30], seed: 6)])) { error in
            XCTAssertTrue("\(error)".contains("mtcnn-pnet.onnx"), "\(error)")
        }
        XCTAssertThrowsError(try model.gflopsPerImage()) { XCTAssertTrue("\($0)".contains("give an input shape"), "\($0)") }
        XCTAssertGreaterThan(try model.gflopsPerImage(inputShape: [1, 3, 360, 640]), 0.5)
    }
}
