import Foundation
import XCTest
import Inference

/// Builds a one-node model: `dynamic` inputs are fed at run time, `weights` are constants.
func singleNodeModel(_ op: String, dynamic: [(String, [Int])], weights: [String: Tensor] = [:], inputs: [String]? = nil,
                     attributes: [String: Attribute] = [:], opset: Int = 13, threads: Int = 1,
                     kernels: KernelSet? = nil) throws -> Model {
    let node = Node(opType: op, name: "under_test", inputs: inputs ?? dynamic.map(\.0) + weights.keys.sorted(),
                    outputs: ["y"], attributes: attributes)
    let graph = Graph(nodes: [node], constants: weights, inputs: dynamic.map { ValueInfo(name: $0.0, shape: $0.1) },
                      outputs: ["y"], opset: opset)
    return try Model(graph: graph, threads: threads, kernels: kernels)
}

/// Every kernel set this machine can run: each optimised-kernel test runs once per
/// set (qemu covers the sets the machine lacks: see Tools/qemu-check.sh).
let kernelSets = KernelSet.supported

/// Max |a - b| over two tensors of the same shape.
func maxAbsDiff(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.shape, b.shape, "shapes differ", file: file, line: line)
    guard a.shape == b.shape else { return .infinity }
    return zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
}

/// Asserts the fast engine matches the scalar reference for one node, with every kernel set.
func assertMatchesReference(_ op: String, dynamic: [(String, Tensor)], weights: [String: Tensor] = [:], inputs: [String]? = nil,
                            attributes: [String: Attribute] = [:], opset: Int = 13, tolerance: Float = 1e-4,
                            threads: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
    let feeds = Dictionary(uniqueKeysWithValues: dynamic)
    let names = inputs ?? dynamic.map(\.0) + weights.keys.sorted()
    let node = Node(opType: op, name: "ref", inputs: names, outputs: ["y"], attributes: attributes)
    let args = names.map { $0.isEmpty ? nil : (feeds[$0] ?? weights[$0]) }
    let expected = try Reference.evaluate(node, args, opset: opset)
    for set in kernelSets {
        let model = try singleNodeModel(op, dynamic: dynamic.map { ($0.0, $0.1.shape) }, weights: weights, inputs: inputs,
                                        attributes: attributes, opset: opset, threads: threads, kernels: set)
        let fast = try model.run(feeds)["y"]!
        let diff = maxAbsDiff(fast, expected, file: file, line: line)
        XCTAssertLessThanOrEqual(diff, tolerance, "\(set.rawValue): \(op) \(attributes) shapes \(dynamic.map { $0.1.shape })", file: file, line: line)
    }
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A Conv of random input x [input], weights w [cout, C/group, k, k] and bias b [cout]
/// (seeds seed, +1, +2) against the reference, once per thread count.
func assertConvMatches(input: [Int], cout: Int, k: Int, stride: Int = 1, pads: [Int], dilation: Int = 1, group: Int = 1,
                       bias: Bool = true, seed: UInt64, threads: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
    let x = Tensor.random(input, seed: seed)
    var weights = ["w": Tensor.random([cout, input[1] / group, k, k], seed: seed + 1)]
    if bias { weights["b"] = Tensor.random([cout], seed: seed + 2) }
    for t in threads {
        try assertMatchesReference("Conv", dynamic: [("x", x)], weights: weights, inputs: bias ? ["x", "w", "b"] : ["x", "w"],
                                   attributes: ["kernel_shape": .ints([k, k]), "strides": .ints([stride, stride]), "pads": .ints(pads),
                                                "dilations": .ints([dilation, dilation]), "group": .int(group)],
                                   threads: t, file: file, line: line)
    }
}

/// One golden case of a model (Tools/golden.py, Tools/golden_detectors.py): an input
/// and onnxruntime's outputs on it.
struct GoldenCase {
    let model: String, name: String
    let input: Tensor
    /// In graph order.
    let outputs: [(name: String, tensor: Tensor)]

    /// The cases in Fixtures/gen/golden whose file names start with `prefix`, sorted by name.
    static func load(prefix: String) throws -> [GoldenCase] {
        let dir = repoRoot.appendingPathComponent("Fixtures/gen/golden")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(prefix) }.sorted()
        return try files.map { file in
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            let newline = data.firstIndex(of: 0x0A)!
            let header = try JSONSerialization.jsonObject(with: data[..<newline]) as! [String: Any]
            let floats: [Float] = data[(newline + 1)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let inShape = header["input_shape"] as! [Int]
            var at = inShape.reduce(1, *)
            let input = Tensor(shape: inShape, data: Array(floats[..<at]))
            let outputs = (header["outputs"] as! [[String: Any]]).map { o -> (String, Tensor) in
                let shape = o["shape"] as! [Int], n = shape.reduce(1, *)
                defer { at += n }
                return (o["name"] as! String, Tensor(shape: shape, data: Array(floats[at..<(at + n)])))
            }
            XCTAssertEqual(at, floats.count, file)
            return GoldenCase(model: header["model"] as! String, name: header["case"] as! String, input: input, outputs: outputs)
        }
    }
}

/// Runs `nodes` (in order) through the scalar reference and through the engine with
/// every kernel set, and asserts every graph output agrees within `tolerance`.
/// Inputs' first dimension is dynamic in the graph. Returns the reference outputs.
@discardableResult
func assertGraphMatchesReference(_ nodes: [Node], constants: [String: Tensor] = [:], inputs: [(String, Tensor)], outputs: [String],
                                 opset: Int = 13, tolerance: Float = 1e-4, threads: [Int] = [1],
                                 file: StaticString = #filePath, line: UInt = #line) throws -> [String: Tensor] {
    var values = constants
    for (name, t) in inputs { values[name] = t }
    for n in nodes {
        let ys = try Reference.evaluateAll(n, n.inputs.map { $0.isEmpty ? nil : values[$0] }, opset: opset)
        for (o, y) in zip(n.outputs, ys) { values[o] = y }
    }
    let infos = inputs.map { ValueInfo(name: $0.0, shape: [nil] + $0.1.shape.dropFirst().map { Optional($0) }) }
    let graph = Graph(nodes: nodes, constants: constants, inputs: infos, outputs: outputs, opset: opset)
    for t in threads {
        for set in kernelSets {
            let got = try Model(graph: graph, threads: t, kernels: set).run(Dictionary(uniqueKeysWithValues: inputs))
            for o in outputs {
                let diff = maxAbsDiff(try XCTUnwrap(got[o], file: file, line: line), values[o]!, file: file, line: line)
                XCTAssertLessThanOrEqual(diff, tolerance, "\(set.rawValue), \(t) threads: output \(o) of \(nodes.map(\.opType))",
                                         file: file, line: line)
            }
        }
    }
    return values
}

/// A Conv node (1x1 unless told) named `name` reading `input` with weights and bias constants `name`+"w"/"b".
func convNode(_ name: String, _ input: String, output: String, k: Int = 1, pads: Int = 0) -> Node {
    Node(opType: "Conv", name: name, inputs: [input, name + "w", name + "b"], outputs: [output],
         attributes: ["kernel_shape": .ints([k, k]), "pads": .ints([pads, pads, pads, pads])])
}

/// Random weights [cout, cin, k, k] and bias [cout] for `convNode(name, ...)`.
func convWeights(_ name: String, cin: Int, cout: Int, k: Int = 1, seed: UInt64) -> [String: Tensor] {
    [name + "w": Tensor.random([cout, cin, k, k], seed: seed, range: -0.5...0.5), name + "b": Tensor.random([cout], seed: seed + 1)]
}
