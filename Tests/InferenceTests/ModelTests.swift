import Foundation
import XCTest
import Inference

/// Whole models against onnxruntime's outputs on real photos (Tools/golden.py,
/// written by `make models`), and the importer's errors on bad files.
final class ModelTests: XCTestCase {
    struct Golden {
        let input: Tensor
        let inputName: String
        let output: Tensor
        let outputName: String
        let photos: [String]
    }

    func golden(_ model: String) throws -> Golden {
        let path = repoRoot.appendingPathComponent("Fixtures/gen/golden/\(model).bin")
        guard let data = FileManager.default.contents(atPath: path.path) else {
            XCTFail("missing \(path.path): run `make models`")
            throw XCTSkip("missing golden file")
        }
        let newline = data.firstIndex(of: 0x0A)!
        let header = try JSONSerialization.jsonObject(with: data[..<newline]) as! [String: Any]
        let inShape = header["input_shape"] as! [Int], outShape = header["output_shape"] as! [Int]
        let floats: [Float] = data[(newline + 1)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let n = inShape.reduce(1, *)
        return Golden(input: Tensor(shape: inShape, data: Array(floats[..<n])), inputName: header["input"] as! String,
                      output: Tensor(shape: outShape, data: Array(floats[n...])), outputName: header["output"] as! String,
                      photos: header["photos"] as! [String])
    }

    func modelURL(_ name: String) throws -> URL {
        let url = repoRoot.appendingPathComponent("Models/\(name).onnx")
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("missing \(url.path): run `make models`")
            throw XCTSkip("missing model")
        }
        return url
    }

    func top(_ row: ArraySlice<Float>, _ k: Int) -> [Int] {
        Array(row.indices.sorted { row[$0] > row[$1] }.prefix(k)).map { $0 - row.startIndex }
    }

    /// The model's outputs on the golden photos with every kernel set this machine runs,
    /// each within 1e-4 of onnxruntime; returns the first set's.
    func checkAgainstOnnxruntime(_ name: String, threads: Int) throws -> Tensor {
        var first: Tensor? = nil
        for set in kernelSets {
            let got = try checkAgainstOnnxruntime(name, threads: threads, kernels: set)
            first = first ?? got
        }
        return first!
    }

    func checkAgainstOnnxruntime(_ name: String, threads: Int, kernels: KernelSet) throws -> Tensor {
        let g = try golden(name)
        let model = try Model(contentsOf: try modelURL(name), threads: threads, kernels: kernels)
        let got = try model.run([g.inputName: g.input])[g.outputName]!
        XCTAssertEqual(got.shape, g.output.shape)
        let diff = maxAbsDiff(got, g.output)
        XCTAssertLessThanOrEqual(diff, 1e-4, "\(name), \(kernels.rawValue) kernels: max abs difference to onnxruntime")
        let classes = g.output.shape[1]
        for (i, photo) in g.photos.enumerated() {
            let mine = got.data[(i * classes)..<((i + 1) * classes)], theirs = g.output.data[(i * classes)..<((i + 1) * classes)]
            XCTAssertEqual(top(mine, min(5, classes)), top(theirs, min(5, classes)), "\(name) \(photo): top-5 order")
        }
        // Batch 1 equals the same row of the batch.
        let one = Tensor(shape: [1] + Array(g.input.shape.dropFirst()), data: Array(g.input.data[..<(g.input.count / g.input.shape[0])]))
        let single = try model.run([g.inputName: one])[g.outputName]!
        XCTAssertLessThanOrEqual(zip(single.data, got.data[..<classes]).map { abs($0 - $1) }.max()!, 1e-5)
        return got
    }

    func testOpenNSFWMatchesOnnxruntime() throws {
        let out = try checkAgainstOnnxruntime("open-nsfw", threads: 1)
        // All five photos are safe.
        for i in 0..<5 { XCTAssertLessThan(out.data[i * 2 + 1], 0.2) }
    }

    func testEfficientNetLite0MatchesOnnxruntime() throws {
        let out = try checkAgainstOnnxruntime("efficientnet-lite0", threads: 2)
        let names = try String(contentsOf: repoRoot.appendingPathComponent("Models/imagenet-classes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let chelsea = top(out.data[0..<1000], 1)[0], coffee = top(out.data[1000..<2000], 1)[0]
        XCTAssertTrue((281...285).contains(chelsea), "chelsea top-1 \(names[chelsea]) is a domestic cat class")
        XCTAssertEqual(names[coffee], "espresso")
    }

    func testMobileNetV2MatchesOnnxruntime() throws {
        _ = try checkAgainstOnnxruntime("mobilenet-v2", threads: 1)
    }

    /// Every batch size from 1 to the golden batch gives each image onnxruntime's
    /// outputs: each size is its own plan and arena layout, and a fused inverted
    /// residual block whose output was placed over its still-read input gave wrong
    /// scores at some sizes only.
    func testEveryBatchSizeMatchesOnnxruntime() throws {
        for name in ["mobilenet-v2", "efficientnet-lite0"] {
            let g = try golden(name)
            let model = try Model(contentsOf: try modelURL(name), threads: 1)
            let n = g.input.shape[0], perImage = g.input.count / n, classes = g.output.count / n
            for batch in 1...n {
                let input = Tensor(shape: [batch] + Array(g.input.shape.dropFirst()), data: Array(g.input.data[..<(batch * perImage)]))
                let got = try model.run([g.inputName: input])[g.outputName]!
                let diff = zip(got.data, g.output.data[..<(batch * classes)]).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(diff, 1e-4, "\(name) at batch \(batch)")
            }
        }
    }

    func testBadModelFilesGiveClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-badmodels-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = try Data(contentsOf: try modelURL("mobilenet-v2"))

        func message(_ data: Data, _ name: String) -> String {
            let url = dir.appendingPathComponent(name)
            try! data.write(to: url)
            do { _ = try Model(contentsOf: url); XCTFail("\(name) loaded"); return "" } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains(url.path), "names the file: \(text)")
                return text
            }
        }
        XCTAssertTrue(message(real.prefix(real.count / 3), "truncated.onnx").contains("not an ONNX model"))
        XCTAssertTrue(message(Data("hello, I am not a model\n".utf8), "text.onnx").contains("not an ONNX model"))
        XCTAssertTrue(message(Data(), "empty.onnx").contains("empty"))
        do {
            _ = try Model(contentsOf: dir.appendingPathComponent("missing.onnx"))
            XCTFail("missing file loaded")
        } catch { XCTAssertTrue("\(error)".contains("missing.onnx")) }
    }

    func testUnsupportedOpNamesOpNodeAndOpset() throws {
        let graph = Graph(nodes: [Node(opType: "LSTM", name: "rnn1", inputs: ["x"], outputs: ["y"])], constants: [:],
                          inputs: [ValueInfo(name: "x", shape: [1, 4])], outputs: ["y"], opset: 13)
        XCTAssertThrowsError(try Model(graph: graph).run(["x": Tensor(zeros: [1, 4])])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("LSTM") && text.contains("rnn1") && text.contains("13"), text)
        }
        // Through the ONNX importer, from a real file whose first op type is renamed.
        var data = try Data(contentsOf: try modelURL("mobilenet-v2"))
        let conv = Data("Conv".utf8), fake = Data("Cosh".utf8)
        let at = data.range(of: conv)!
        data.replaceSubrange(at, with: fake)
        XCTAssertThrowsError(try Model(graph: try ONNXImporter.load(data: data))) { error in
            XCTAssertTrue("\(error)".contains("unsupported op Cosh"), "\(error)")
        }
    }

    /// The packed panels are a model's only copy of its conv and dense weights: the
    /// graph keeps their shapes, not their data.
    func testWeightsAreHeldOnce() throws {
        for name in ["open-nsfw", "mobilenet-v2"] {
            let model = try Model(contentsOf: try modelURL(name))
            let kept = model.graph.constants.values.reduce(0) { $0 + $1.count }
            XCTAssertFalse(model.graph.packedShapes.isEmpty, name)
            XCTAssertLessThan(kept * 100, model.parameterCount, "\(name): \(kept) of \(model.parameterCount) weights still in the graph")
        }
    }

    /// Weights read straight from the file (the raw_data split) equal those protobuf
    /// parses itself: the same model with a protobuf group appended, which the split
    /// declines, goes the whole-message way.
    func testRawDataSplitEqualsWholeParse() throws {
        let data = try Data(contentsOf: try modelURL("mobilenet-v2"))
        let split = try ONNXImporter.load(data: data)
        // Field 100 as an empty group: start (wire type 3) and end (4) tags. Protobuf skips it as unknown.
        let whole = try ONNXImporter.load(data: data + Data([0xA3, 0x06, 0xA4, 0x06]))
        XCTAssertEqual(split.constants.count, whole.constants.count)
        XCTAssertGreaterThan(split.constants.count, 100)
        for (name, t) in whole.constants { XCTAssertEqual(split.constants[name], t, name) }
    }

    /// Runs write into the previous run's output array once the caller has let go
    /// of it (no fresh pages per run); an output the caller still holds keeps its
    /// values, and a run at another input shape gets its own element count.
    func testHeldOutputsKeepTheirValues() throws {
        let g = try golden("mobilenet-v2")
        let model = try Model(contentsOf: try modelURL("mobilenet-v2"), threads: 1)
        let perImage = g.input.count / g.input.shape[0]
        func image(_ i: Int) -> Tensor {
            Tensor(shape: [1] + Array(g.input.shape.dropFirst()), data: Array(g.input.data[(i * perImage)..<((i + 1) * perImage)]))
        }
        func run(_ t: Tensor) throws -> Tensor { try model.run([g.inputName: t])[g.outputName]! }
        // Held: the first output is still referenced here while the second run writes.
        let first = try run(image(0))
        let firstValues = first.data.map { $0 }  // a copy with its own storage
        let second = try run(image(1))
        XCTAssertEqual(first.data, firstValues, "an output its caller holds changed")
        XCTAssertNotEqual(first.data, second.data)
        // Released: the next run writes the same storage, with the right values.
        var address = 0, secondValues: [Float] = []
        do {
            let released = try run(image(1))
            address = released.data.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
            secondValues = released.data.map { $0 }
        }
        let reused = try run(image(0))
        XCTAssertEqual(reused.data.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }, address)
        XCTAssertEqual(reused.data, firstValues)
        XCTAssertEqual(second.data, secondValues)
        // The whole batch (more outputs than the spare holds), then one image again.
        let both = try run(g.input)
        XCTAssertEqual(both.count, g.input.shape[0] * firstValues.count)
        XCTAssertLessThanOrEqual(zip(both.data[..<firstValues.count], firstValues).map { abs($0 - $1) }.max()!, 1e-5)
        let again = try run(image(0))
        XCTAssertEqual(again.data, firstValues)
    }

    func testWrongInputShapeIsAnError() throws {
        let model = try Model(contentsOf: try modelURL("mobilenet-v2"))
        XCTAssertThrowsError(try model.run(["input": Tensor(zeros: [1, 3, 200, 224])])) { error in
            XCTAssertTrue("\(error)".contains("expected [N, 3, 224, 224]"), "\(error)")
        }
        XCTAssertThrowsError(try model.run(["pixels": Tensor(zeros: [1, 3, 224, 224])])) { error in
            XCTAssertTrue("\(error)".contains("missing input 'input'"), "\(error)")
        }
    }
}
