import XCTest
import Inference

/// The ops of the detector graphs (PP-OCR, YOLOv8) against their scalar
/// references, on random data from fixed seeds: element counts at the vector
/// edges of every kernel set (T-1, T, T+1, 2T+3 for 4, 8 and 16 lanes), odd
/// channel counts, each attribute mode, in the ONNX layout and channels-last
/// (after a Conv); every kernel set this machine runs.
final class OpTests: XCTestCase {
    /// Element counts around 4-, 8- and 16-lane vectors.
    let edges = [1, 3, 4, 5, 7, 8, 9, 11, 15, 16, 17, 19, 35, 67]

    func testActivationsAtVectorEdges() throws {
        let ops: [(String, [String: Attribute], Int, ClosedRange<Float>)] = [
            ("Sigmoid", [:], 13, -30...30), ("HardSigmoid", ["alpha": .float(0.1667), "beta": .float(0.5)], 13, -8...8),
            ("HardSwish", [:], 14, -8...8), ("Gelu", [:], 20, -8...8), ("Erf", [:], 13, -4...4),
            ("Sqrt", [:], 13, 0...9), ("Exp", [:], 13, -80...80), ("Relu", [:], 13, -1...1),
        ]
        var seed: UInt64 = 2000
        for (op, attrs, opset, range) in ops {
            for n in edges {
                seed += 1
                let x = Tensor.random([2, n], seed: seed, range: range)
                // Exp spans e^-80..e^80: compare relative to the value.
                if op == "Exp" {
                    let y = try singleNodeModel(op, dynamic: [("x", x.shape)], opset: opset).run(["x": x])["y"]!
                    let ref = try Reference.evaluate(Node(opType: op, name: "r", inputs: ["x"], outputs: ["y"]), [x], opset: opset)
                    let rel = zip(y.data, ref.data).map { abs($0 - $1) / max($1, 1e-30) }.max()!
                    XCTAssertLessThanOrEqual(rel, 1e-6, "Exp at \(n)")
                    continue
                }
                try assertMatchesReference(op, dynamic: [("x", x)], attributes: attrs, opset: opset, tolerance: 2e-6)
            }
        }
    }

    func testBinaryOpsBroadcast() throws {
        let pairs: [([Int], [Int])] = [
            ([2, 5, 3, 7], [2, 5, 3, 7]), ([2, 5, 3, 7], [1, 5, 1, 1]), ([2, 5, 3, 7], [7]), ([2, 5, 3, 7], []),
            ([2, 1, 3, 1], [1, 5, 1, 7]), ([3, 17], [17]), ([3, 17], [3, 1]), ([1, 35], [1, 35]),
        ]
        var seed: UInt64 = 3000
        for op in ["Add", "Sub", "Mul", "Div", "Pow"] {
            for (sa, sb) in pairs {
                seed += 2
                // Positive bases and denominators away from 0.
                let positive = op == "Div" || op == "Pow"
                let a = Tensor.random(sa, seed: seed, range: positive ? 0.5...2 : -1...1)
                let b = Tensor.random(sb, seed: seed + 1, range: positive ? 0.5...2 : -1...1)
                if b.rank > 0 { try assertMatchesReference(op, dynamic: [("a", a), ("b", b)], tolerance: 1e-6) }
                // The second operand a constant (the common case: a bias, a scale).
                try assertMatchesReference(op, dynamic: [("a", a)], weights: ["b": b], inputs: ["a", "b"], tolerance: 1e-6)
            }
        }
    }

    /// Element-wise ops whose operand comes channels-last from a Conv: a per-channel
    /// scale and bias, a whole-shape constant, two conv outputs, and a
    /// squeeze-and-excitation block (spatial mean, 1x1 convs, HardSigmoid, scale).
    func testBinaryOpsOnChannelsLastValues() throws {
        for c in [5, 16, 33] {
            let seed = UInt64(3500 + c)
            var consts = convWeights("c1", cin: 3, cout: c, k: 3, seed: seed)
            consts.merge(convWeights("c2", cin: 3, cout: c, seed: seed + 2)) { a, _ in a }
            consts.merge(convWeights("se1", cin: c, cout: 4, seed: seed + 4)) { a, _ in a }
            consts.merge(convWeights("se2", cin: 4, cout: c, seed: seed + 6)) { a, _ in a }
            consts["scale"] = Tensor.random([1, c, 1, 1], seed: seed + 8)
            consts["shift"] = Tensor.random([c, 1, 1], seed: seed + 9)
            consts["whole"] = Tensor.random([1, c, 7, 9], seed: seed + 10, range: 0.5...2)  // a divisor away from 0
            let nodes = [
                convNode("c1", "x", output: "a", k: 3, pads: 1), convNode("c2", "x", output: "b"),
                Node(opType: "Mul", name: "m1", inputs: ["a", "scale"], outputs: ["s1"]),
                Node(opType: "Sub", name: "m2", inputs: ["shift", "s1"], outputs: ["s2"]),
                Node(opType: "Div", name: "m3", inputs: ["s2", "whole"], outputs: ["s3"]),
                Node(opType: "Add", name: "m4", inputs: ["s3", "b"], outputs: ["s4"]),
                Node(opType: "ReduceMean", name: "mean", inputs: ["s4"], outputs: ["pooled"], attributes: ["axes": .ints([2, 3])]),
                convNode("se1", "pooled", output: "e1"),
                Node(opType: "Relu", name: "r", inputs: ["e1"], outputs: ["e2"]),
                convNode("se2", "e2", output: "e3"),
                Node(opType: "HardSigmoid", name: "hs", inputs: ["e3"], outputs: ["e4"], attributes: ["alpha": .float(0.2)]),
                Node(opType: "Mul", name: "se", inputs: ["s4", "e4"], outputs: ["y"]),
            ]
            try assertGraphMatchesReference(nodes, constants: consts, inputs: [("x", Tensor.random([2, 3, 7, 9], seed: seed + 11))],
                                            outputs: ["y"], tolerance: 1e-4, threads: [1, 2])
        }
    }

    func testSoftmaxAxes() throws {
        var seed: UInt64 = 4000
        for n in edges + [1000] {
            seed += 1
            try assertMatchesReference("Softmax", dynamic: [("x", Tensor.random([3, n], seed: seed, range: -20...20))], tolerance: 1e-6)
        }
        // Over axis 1 of [N, 16, 4, A] (YOLOv8's distribution focal loss): rows `inner` apart.
        for a in [1, 5, 37] {
            seed += 1
            try assertMatchesReference("Softmax", dynamic: [("x", Tensor.random([2, 16, 4, a], seed: seed, range: -10...10))],
                                       attributes: ["axis": .int(1)], tolerance: 1e-6)
        }
        // Opset 11: flattened at the axis.
        try assertMatchesReference("Softmax", dynamic: [("x", Tensor.random([2, 3, 5], seed: 4100))], attributes: ["axis": .int(1)],
                                   opset: 11, tolerance: 1e-6)
    }

    func testReduceMean() throws {
        var seed: UInt64 = 4200
        for n in edges {
            seed += 1
            try assertMatchesReference("ReduceMean", dynamic: [("x", Tensor.random([2, 3, n], seed: seed))],
                                       attributes: ["axes": .ints([-1])], opset: 13, tolerance: 1e-6)
        }
        try assertMatchesReference("ReduceMean", dynamic: [("x", Tensor.random([2, 5, 3, 7], seed: 4300))],
                                   attributes: ["axes": .ints([1]), "keepdims": .int(0)], tolerance: 1e-6)
        try assertMatchesReference("ReduceMean", dynamic: [("x", Tensor.random([2, 5, 3, 7], seed: 4301))],
                                   weights: ["axes": Tensor(shape: [2], integers: [1, 2])], inputs: ["x", "axes"], opset: 18, tolerance: 1e-6)
        // Non-adjacent axes are refused by name.
        XCTAssertThrowsError(try singleNodeModel("ReduceMean", dynamic: [("x", [1, 2, 3, 4])], attributes: ["axes": .ints([1, 3])])) {
            XCTAssertTrue("\($0)".contains("adjacent"), "\($0)")
        }
        // The spatial mean of a channels-last value (after a Conv).
        for c in [3, 8, 19] {
            let consts = convWeights("c", cin: 2, cout: c, k: 3, seed: UInt64(4400 + c))
            try assertGraphMatchesReference([convNode("c", "x", output: "a", k: 3, pads: 1),
                                             Node(opType: "ReduceMean", name: "m", inputs: ["a"], outputs: ["y"], attributes: ["axes": .ints([2, 3])])],
                                            constants: consts, inputs: [("x", Tensor.random([2, 2, 9, 11], seed: UInt64(4410 + c)))], outputs: ["y"])
        }
    }

    func testLayerNormalization() throws {
        var seed: UInt64 = 4500
        for n in [1, 7, 8, 9, 16, 17, 35, 120] {
            seed += 3
            let x = Tensor.random([2, 5, n], seed: seed, range: -3...3)
            let gamma = Tensor.random([n], seed: seed + 1), beta = Tensor.random([n], seed: seed + 2)
            try assertMatchesReference("LayerNormalization", dynamic: [("x", x)], weights: ["g": gamma, "b": beta], inputs: ["x", "g", "b"],
                                       attributes: ["epsilon": .float(1e-5)], opset: 17, tolerance: 1e-5)
            try assertMatchesReference("LayerNormalization", dynamic: [("x", x)], weights: ["g": gamma], inputs: ["x", "g"], opset: 17, tolerance: 1e-5)
        }
        // Over the last two axes.
        try assertMatchesReference("LayerNormalization", dynamic: [("x", Tensor.random([3, 4, 5], seed: 4600))],
                                   weights: ["g": Tensor.random([4, 5], seed: 4601)], inputs: ["x", "g"], attributes: ["axis": .int(1)],
                                   opset: 17, tolerance: 1e-5)
    }

    /// Every nearest_mode with every coordinate mode, and linear, by scales and by
    /// sizes; on an NCHW input and on a channels-last one (after a Conv).
    func testResizeModes() throws {
        let coordinates = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
        let x = Tensor.random([2, 5, 7, 9], seed: 4700)
        let scales = [Tensor(shape: [4], data: [1, 1, 2, 2]), Tensor(shape: [4], data: [1, 1, 0.6, 1.7])]
        var cases: [[String: Attribute]] = []
        for c in coordinates {
            for n in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"] {
                cases.append(["mode": .string("nearest"), "coordinate_transformation_mode": .string(c), "nearest_mode": .string(n)])
            }
            if c != "tf_half_pixel_for_nn" { cases.append(["mode": .string("linear"), "coordinate_transformation_mode": .string(c)]) }
        }
        for attrs in cases {
            for s in scales {
                try assertMatchesReference("Resize", dynamic: [("x", x)], weights: ["roi": Tensor(shape: [0], data: []), "scales": s],
                                           inputs: ["x", "roi", "scales"], attributes: attrs, opset: 13, tolerance: 1e-5)
            }
            try assertMatchesReference("Resize", dynamic: [("x", x)], weights: ["sizes": Tensor(shape: [4], integers: [2, 5, 13, 4])],
                                       inputs: ["x", "", "", "sizes"], attributes: attrs, opset: 13, tolerance: 1e-5)
            // Channels-last: 13 channels from a Conv.
            var consts = convWeights("c", cin: 5, cout: 13, seed: 4800)
            consts["scales"] = scales[1]
            try assertGraphMatchesReference([convNode("c", "x", output: "a"),
                                             Node(opType: "Resize", name: "r", inputs: ["a", "", "scales"], outputs: ["y"], attributes: attrs)],
                                            constants: consts, inputs: [("x", x)], outputs: ["y"], tolerance: 1e-5)
        }
        // Opset 10: X and scales only, asymmetric nearest.
        try assertMatchesReference("Resize", dynamic: [("x", x)], weights: ["scales": scales[0]], inputs: ["x", "scales"], opset: 10, tolerance: 0)
        XCTAssertThrowsError(try singleNodeModel("Resize", dynamic: [("x", [1, 2, 3, 4])], weights: ["scales": Tensor(shape: [4], data: [1, 2, 1, 1])],
                                                 inputs: ["x", "", "scales"], attributes: ["mode": .string("nearest")])) {
            XCTAssertTrue("\($0)".contains("batch and channels"), "\($0)")
        }
        XCTAssertThrowsError(try singleNodeModel("Resize", dynamic: [("x", [1, 2, 3, 4])], weights: ["scales": scales[0]], inputs: ["x", "", "scales"],
                                                 attributes: ["mode": .string("cubic")])) {
            XCTAssertTrue("\($0)".contains("mode"), "\($0)")
        }
    }

    /// ConvTranspose at odd channel counts, strides, pads, output_padding, dilation and
    /// groups, with a bias Add and an activation after it (folded into it).
    func testConvTranspose() throws {
        // (cin, cout, k, stride, pads, output padding, dilation, group)
        let cases: [(Int, Int, Int, Int, [Int], [Int], Int, Int)] = [
            (24, 24, 2, 2, [0, 0, 0, 0], [0, 0], 1, 1), (24, 1, 2, 2, [0, 0, 0, 0], [0, 0], 1, 1),
            (5, 3, 3, 2, [1, 1, 1, 1], [1, 1], 1, 1), (6, 4, 3, 1, [0, 1, 2, 0], [0, 0], 2, 2),
            (17, 9, 4, 3, [1, 0, 2, 1], [2, 1], 1, 1), (3, 33, 1, 1, [0, 0, 0, 0], [0, 0], 1, 1),
            (5, 3, 3, 3, [0, 0, 0, 0], [0, 0], 1, 1), (4, 6, 2, 2, [0, 0, 0, 0], [0, 0], 1, 2),
        ]
        var seed: UInt64 = 5000
        for (cin, cout, k, s, pads, outPad, dil, group) in cases {
            seed += 4
            let attrs: [String: Attribute] = ["kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints(pads),
                                              "output_padding": .ints(outPad), "dilations": .ints([dil, dil]), "group": .int(group)]
            let consts: [String: Tensor] = ["w": Tensor.random([cin, cout / group, k, k], seed: seed), "b": Tensor.random([1, cout, 1, 1], seed: seed + 1)]
            // With and without a bias (tiling windows write cols + bias, or cols alone).
            for withBias in [true, false] {
                let nodes = [
                    Node(opType: "ConvTranspose", name: "t", inputs: ["x", "w"], outputs: ["t"], attributes: attrs),
                    Node(opType: "Add", name: "bias", inputs: ["t", "b"], outputs: ["a"]),
                    Node(opType: "Relu", name: "r", inputs: [withBias ? "a" : "t"], outputs: ["y"]),
                ].filter { withBias || $0.opType != "Add" }
                for (h, w) in [(5, 7), (1, 1)] {
                    let values = try assertGraphMatchesReference(nodes, constants: consts, inputs: [("x", Tensor.random([2, cin, h, w], seed: seed + 2))],
                                                                 outputs: ["y"], tolerance: 1e-4, threads: [1, 2])
                    XCTAssertEqual(values["y"]!.shape[2], s * (h - 1) + outPad[0] + (k - 1) * dil + 1 - pads[0] - pads[2])
                }
            }
        }
        XCTAssertThrowsError(try singleNodeModel("ConvTranspose", dynamic: [("x", [1, 2, 3, 4])], weights: ["w": Tensor.random([2, 2, 3, 3], seed: 1)],
                                                 inputs: ["x", "w"], attributes: ["output_shape": .ints([8, 8])])) {
            XCTAssertTrue("\($0)".contains("output_shape"), "\($0)")
        }
    }

    func testSliceGatherExpandSqueeze() throws {
        let x = Tensor.random([3, 5, 7], seed: 5100)
        let max = Int.max, min = Int.min
        // (starts, ends, axes, steps)
        let slices: [([Int], [Int], [Int], [Int])] = [
            ([1], [max], [1], [1]), ([0, -1], [max, min], [2, 1], [2, -1]), ([-100], [100], [0], [1]),
            ([6], [-8], [-1], [-3]), ([2, 1, 0], [3, 4, 7], [0, 1, 2], [1, 2, 7]), ([5], [1], [2], [1]),
        ]
        for (s, e, a, st) in slices {
            let w: [String: Tensor] = ["s": Tensor(shape: [s.count], integers: s), "e": Tensor(shape: [e.count], integers: e),
                                       "a": Tensor(shape: [a.count], integers: a), "t": Tensor(shape: [st.count], integers: st)]
            try assertMatchesReference("Slice", dynamic: [("x", x)], weights: w, inputs: ["x", "s", "e", "a", "t"], tolerance: 0)
        }
        // Opset 9: attributes.
        try assertMatchesReference("Slice", dynamic: [("x", x)], attributes: ["starts": .ints([1, 2]), "ends": .ints([3, max]), "axes": .ints([1, 2])],
                                   opset: 9, tolerance: 0)
        try assertMatchesReference("Gather", dynamic: [("x", x)], weights: ["i": Tensor(shape: [2, 2], integers: [0, -1, 3, 3])],
                                   inputs: ["x", "i"], attributes: ["axis": .int(1)], tolerance: 0)
        XCTAssertThrowsError(try singleNodeModel("Gather", dynamic: [("x", [3, 5, 7])], weights: ["i": Tensor(shape: [1], integers: [5])],
                                                 inputs: ["x", "i"], attributes: ["axis": .int(1)])) {
            XCTAssertTrue("\($0)".contains("outside"), "\($0)")
        }
        try assertMatchesReference("Expand", dynamic: [("x", Tensor.random([3, 1], seed: 5101))],
                                   weights: ["s": Tensor(shape: [3], integers: [2, 1, 6])], inputs: ["x", "s"], tolerance: 0)
        try assertMatchesReference("Unsqueeze", dynamic: [("x", x)], weights: ["a": Tensor(shape: [2], integers: [0, -1])], inputs: ["x", "a"], tolerance: 0)
        try assertMatchesReference("Unsqueeze", dynamic: [("x", x)], attributes: ["axes": .ints([1])], opset: 11, tolerance: 0)
        try assertMatchesReference("Squeeze", dynamic: [("x", Tensor.random([1, 3, 1, 2], seed: 5102))], attributes: ["axes": .ints([2])],
                                   opset: 11, tolerance: 0)
        try assertMatchesReference("Squeeze", dynamic: [("x", Tensor.random([1, 3, 1, 2], seed: 5103))], tolerance: 0)
        try assertMatchesReference("Transpose", dynamic: [("x", Tensor.random([2, 3, 4, 5, 6], seed: 5104))],
                                   attributes: ["perm": .ints([2, 0, 3, 1, 4])], tolerance: 0)
    }

    /// Split and Concat on channels stay channels-last between Convs (YOLOv8's C2f):
    /// conv -> split -> conv on a part -> concat with both parts -> conv.
    func testSplitConcatBetweenConvs() throws {
        for (c, parts) in [(8, [4, 4]), (13, [5, 8]), (24, [8, 8, 8])] {
            let seed = UInt64(5200 + c)
            var consts = convWeights("c1", cin: 3, cout: c, seed: seed)
            consts.merge(convWeights("c2", cin: parts.last!, cout: 7, k: 3, seed: seed + 2)) { a, _ in a }
            consts.merge(convWeights("c3", cin: c + 7, cout: 5, seed: seed + 4)) { a, _ in a }
            consts["split"] = Tensor(shape: [parts.count], integers: parts)
            let outs = parts.indices.map { "p\($0)" }
            let nodes = [
                convNode("c1", "x", output: "a"),
                Node(opType: "Split", name: "s", inputs: ["a", "split"], outputs: outs, attributes: ["axis": .int(1)]),
                convNode("c2", outs.last!, output: "b", k: 3, pads: 1),
                Node(opType: "Concat", name: "cat", inputs: outs + ["b"], outputs: ["cat"], attributes: ["axis": .int(1)]),
                convNode("c3", "cat", output: "y"),
            ]
            try assertGraphMatchesReference(nodes, constants: consts, inputs: [("x", Tensor.random([2, 3, 6, 5], seed: seed + 6))],
                                            outputs: ["y"] + outs, tolerance: 1e-4)
        }
        // Equal parts without sizes (opset 13), and uneven ones refused.
        try assertGraphMatchesReference([Node(opType: "Split", name: "s", inputs: ["x"], outputs: ["a", "b", "c"], attributes: ["axis": .int(-1)])],
                                        inputs: [("x", Tensor.random([2, 9], seed: 5300))], outputs: ["a", "b", "c"], tolerance: 0)
        let uneven = Graph(nodes: [Node(opType: "Split", name: "s", inputs: ["x"], outputs: ["a", "b"], attributes: ["axis": .int(1)])],
                           constants: [:], inputs: [ValueInfo(name: "x", shape: [1, 5])], outputs: ["a", "b"], opset: 13)
        XCTAssertThrowsError(try Model(graph: uneven)) { XCTAssertTrue("\($0)".contains("equal parts"), "\($0)") }
    }

    /// YOLOv8's anchor grid: computed from the feature map's Shape with Gather,
    /// Cast, Range, Reshape, Expand, Unsqueeze, Concat, ConstantOfShape; folded per
    /// plan (no step runs for it) at each input size, equal to the reference.
    func testShapeSubgraphFoldsPerPlan() throws {
        let i64 = { (v: [Int]) in Tensor(shape: [v.count], integers: v) }
        let consts: [String: Tensor] = [
            "two": Tensor(shape: [], integers: [2]), "three": Tensor(shape: [], integers: [3]), "zero": i64([0]),
            "f0": Tensor(shape: [], data: [0]), "f1": Tensor(shape: [], data: [1]), "half": Tensor(shape: [], data: [0.5]),
            "col": i64([-1, 1]), "row": i64([1, -1]), "last": i64([-1]), "pairs": i64([-1, 2]), "one": i64([1]),
            "big": i64([Int.max]), "start": i64([2]), "s8": Tensor(shape: [], data: [8]),
        ]
        let nodes = [
            Node(opType: "Shape", name: "shape", inputs: ["x"], outputs: ["s"]),
            Node(opType: "Gather", name: "gh", inputs: ["s", "two"], outputs: ["h"]),
            Node(opType: "Gather", name: "gw", inputs: ["s", "three"], outputs: ["w"]),
            Node(opType: "Cast", name: "fh", inputs: ["h"], outputs: ["hf"], attributes: ["to": .int(1)]),
            Node(opType: "Cast", name: "fw", inputs: ["w"], outputs: ["wf"], attributes: ["to": .int(1)]),
            Node(opType: "Range", name: "ry", inputs: ["f0", "hf", "f1"], outputs: ["ys"]),
            Node(opType: "Range", name: "rx", inputs: ["f0", "wf", "f1"], outputs: ["xs"]),
            Node(opType: "Add", name: "cy", inputs: ["ys", "half"], outputs: ["ys2"]),
            Node(opType: "Add", name: "cx", inputs: ["xs", "half"], outputs: ["xs2"]),
            Node(opType: "Reshape", name: "vy", inputs: ["ys2", "col"], outputs: ["ys3"]),
            Node(opType: "Reshape", name: "vx", inputs: ["xs2", "row"], outputs: ["xs3"]),
            Node(opType: "Slice", name: "hw", inputs: ["s", "start", "big"], outputs: ["hwShape"]),
            Node(opType: "Expand", name: "ey", inputs: ["ys3", "hwShape"], outputs: ["gy"]),
            Node(opType: "Expand", name: "ex", inputs: ["xs3", "hwShape"], outputs: ["gx"]),
            Node(opType: "Unsqueeze", name: "uy", inputs: ["gy", "last"], outputs: ["gy2"]),
            Node(opType: "Unsqueeze", name: "ux", inputs: ["gx", "last"], outputs: ["gx2"]),
            Node(opType: "Concat", name: "grid", inputs: ["gx2", "gy2"], outputs: ["g"], attributes: ["axis": .int(-1)]),
            Node(opType: "Reshape", name: "anchors", inputs: ["g", "pairs"], outputs: ["anchors"]),
            Node(opType: "Mul", name: "hw2", inputs: ["h", "w"], outputs: ["n"]),
            Node(opType: "Unsqueeze", name: "un", inputs: ["n", "zero"], outputs: ["n1"]),
            Node(opType: "Concat", name: "sshape", inputs: ["n1", "one"], outputs: ["sshape"], attributes: ["axis": .int(0)]),
            Node(opType: "ConstantOfShape", name: "zeros", inputs: ["sshape"], outputs: ["z"]),
            Node(opType: "Add", name: "stride", inputs: ["z", "s8"], outputs: ["strides"]),
            // The run-time part: the input's channels 0-1 per pixel, plus the anchors, times the strides.
            Node(opType: "Transpose", name: "t", inputs: ["x"], outputs: ["xt"], attributes: ["perm": .ints([0, 2, 3, 1])]),
            Node(opType: "Reshape", name: "flat", inputs: ["xt", "pairs"], outputs: ["xf"]),
            Node(opType: "Add", name: "plus", inputs: ["xf", "anchors"], outputs: ["p"]),
            Node(opType: "Mul", name: "scaled", inputs: ["p", "strides"], outputs: ["y"]),
        ]
        let graph = Graph(nodes: nodes, constants: consts, inputs: [ValueInfo(name: "x", shape: [1, 2, nil, nil])], outputs: ["y"], opset: 13)
        let model = try Model(graph: graph)
        for (h, w) in [(3, 5), (8, 2)] {
            let x = Tensor.random([1, 2, h, w], seed: UInt64(5400 + h))
            var values = consts.merging(["x": x]) { a, _ in a }
            for n in nodes { values[n.outputs[0]] = try Reference.evaluate(n, n.inputs.map { values[$0] }, opset: 13) }
            let got = try model.run(["x": x])["y"]!
            XCTAssertEqual(maxAbsDiff(got, values["y"]!), 0, "\(h)x\(w)")
            let steps = try model.planSteps(inputShape: [1, 2, h, w])
            XCTAssertFalse(steps.contains { ["Shape", "Gather", "Range", "Expand", "ConstantOfShape", "Cast"].contains(String($0.split(separator: " ")[0])) },
                           "folded: \(steps)")
        }
        // Integers computed from the input's values cannot run: refused when the plan is built.
        let fromData = Graph(nodes: [Node(opType: "Cast", name: "toInt", inputs: ["x"], outputs: ["i"], attributes: ["to": .int(7)]),
                                     Node(opType: "Cast", name: "back", inputs: ["i"], outputs: ["y"], attributes: ["to": .int(1)])],
                             constants: [:], inputs: [ValueInfo(name: "x", shape: [1, 4])], outputs: ["y"], opset: 13)
        XCTAssertThrowsError(try Model(graph: fromData)) { XCTAssertTrue("\($0)".contains("depends on the input's values"), "\($0)") }
        // A float op given integers says which input.
        let mixed = Graph(nodes: [Node(opType: "Relu", name: "r", inputs: ["k"], outputs: ["y0"]),
                                  Node(opType: "Add", name: "a", inputs: ["x", "y0f"], outputs: ["y"])],
                          constants: ["k": Tensor(shape: [1], integers: [3]), "y0f": Tensor(shape: [1], data: [0])],
                          inputs: [ValueInfo(name: "x", shape: [1, 4])], outputs: ["y"], opset: 13)
        XCTAssertThrowsError(try Model(graph: mixed)) { XCTAssertTrue("\($0)".contains("int64; this op takes float32 only"), "\($0)") }
    }

    /// The optimiser's patterns (each as an exporter writes it) become one op, folded
    /// into the Conv or linear layer before it, and compute what the ops did.
    func testPatternsFuseAndMatchReference() throws {
        let x = Tensor.random([2, 3, 6, 7], seed: 6000)
        let scalar = { (v: Float) in Tensor(shape: [], data: [v]) }
        var consts = convWeights("c", cin: 3, cout: 13, k: 3, seed: 6001)
        consts.merge(["root2": scalar(Float(2).squareRoot()), "one": scalar(1), "half": scalar(0.5), "three": scalar(3), "zero": scalar(0),
                      "six": scalar(6), "bias": Tensor.random([1, 13, 1, 1], seed: 6003)]) { a, _ in a }
        let conv = Node(opType: "Conv", name: "c", inputs: ["x", "cw"], outputs: ["c0"], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        let biasAdd = Node(opType: "Add", name: "bias", inputs: ["c0", "bias"], outputs: ["c"])
        let patterns: [(String, [Node])] = [
            ("SiLU", [Node(opType: "Sigmoid", name: "s", inputs: ["c"], outputs: ["s"]), Node(opType: "Mul", name: "m", inputs: ["s", "c"], outputs: ["y"])]),
            ("HardSwish", [Node(opType: "HardSigmoid", name: "h", inputs: ["c"], outputs: ["h"], attributes: ["alpha": .float(0.2)]),
                           Node(opType: "Mul", name: "m", inputs: ["c", "h"], outputs: ["y"])]),
            ("HardSwish (clip)", [Node(opType: "Add", name: "a", inputs: ["c", "three"], outputs: ["a"]),
                                  Node(opType: "Clip", name: "cl", inputs: ["a", "zero", "six"], outputs: ["cl"]),
                                  Node(opType: "Mul", name: "m", inputs: ["c", "cl"], outputs: ["m"]),
                                  Node(opType: "Div", name: "d", inputs: ["m", "six"], outputs: ["y"])]),
            ("GELU", [Node(opType: "Div", name: "d", inputs: ["c", "root2"], outputs: ["d"]), Node(opType: "Erf", name: "e", inputs: ["d"], outputs: ["e"]),
                      Node(opType: "Add", name: "a", inputs: ["e", "one"], outputs: ["a"]), Node(opType: "Mul", name: "m", inputs: ["c", "a"], outputs: ["m"]),
                      Node(opType: "Mul", name: "h", inputs: ["m", "half"], outputs: ["y"])]),
            ("SiLU + residual", [Node(opType: "Sigmoid", name: "s", inputs: ["c"], outputs: ["s"]), Node(opType: "Mul", name: "m", inputs: ["c", "s"], outputs: ["m"]),
                                 Node(opType: "Conv", name: "r", inputs: ["x", "rw", "rb"], outputs: ["r"], attributes: ["kernel_shape": .ints([1, 1])]),
                                 Node(opType: "Add", name: "res", inputs: ["r", "m"], outputs: ["y"])]),
        ]
        consts.merge(convWeights("r", cin: 3, cout: 13, seed: 6005)) { a, _ in a }
        for (what, tail) in patterns {
            // The residual conv comes before the fused one, so it is ready when the epilogue adds it.
            let nodes = tail.filter { $0.name == "r" } + [conv, biasAdd] + tail.filter { $0.name != "r" }
            try assertGraphMatchesReference(nodes, constants: consts, inputs: [("x", x)], outputs: ["y"], tolerance: 2e-5, threads: [1, 2])
            let graph = Graph(nodes: nodes, constants: consts, inputs: [ValueInfo(name: "x", shape: [nil, 3, 6, 7])], outputs: ["y"], opset: 13)
            let steps = try Model(graph: graph).planSteps(inputShape: [1, 3, 6, 7]).filter { !$0.hasPrefix("Layout") }
            XCTAssertEqual(steps.count, what.contains("residual") ? 2 : 1, "\(what): one fused Conv: \(steps)")
        }

        // MatMul + bias -> one dense layer; the layer norm pattern -> one step.
        let len = 24
        let lnConsts: [String: Tensor] = [
            "w": Tensor.random([len, len], seed: 6100), "b": Tensor.random([len], seed: 6101), "two": scalar(2), "eps": scalar(1e-5),
            "gamma": Tensor.random([len], seed: 6102), "beta": Tensor.random([len], seed: 6103),
        ]
        let mean = { (name: String, input: String, out: String) in
            Node(opType: "ReduceMean", name: name, inputs: [input], outputs: [out], attributes: ["axes": .ints([-1])])
        }
        let lnNodes = [
            Node(opType: "MatMul", name: "mm", inputs: ["x", "w"], outputs: ["mm"]), Node(opType: "Add", name: "mb", inputs: ["mm", "b"], outputs: ["h"]),
            mean("mean", "h", "mu"), Node(opType: "Sub", name: "sub", inputs: ["h", "mu"], outputs: ["d"]),
            Node(opType: "Pow", name: "pow", inputs: ["d", "two"], outputs: ["d2"]), mean("var", "d2", "v"),
            Node(opType: "Add", name: "addeps", inputs: ["v", "eps"], outputs: ["ve"]), Node(opType: "Sqrt", name: "sqrt", inputs: ["ve"], outputs: ["sd"]),
            Node(opType: "Div", name: "div", inputs: ["d", "sd"], outputs: ["n"]), Node(opType: "Mul", name: "scale", inputs: ["n", "gamma"], outputs: ["ns"]),
            Node(opType: "Add", name: "shift", inputs: ["ns", "beta"], outputs: ["y"]),
        ]
        let tokens = Tensor.random([2, 11, len], seed: 6104, range: -2...2)
        try assertGraphMatchesReference(lnNodes, constants: lnConsts, inputs: [("x", tokens)], outputs: ["y"], opset: 11, tolerance: 2e-5)
        let lnGraph = Graph(nodes: lnNodes, constants: lnConsts, inputs: [ValueInfo(name: "x", shape: [nil, 11, len])], outputs: ["y"], opset: 11)
        let steps = try Model(graph: lnGraph).planSteps(inputShape: [1, 11, len])
        XCTAssertEqual(steps.map { String($0.split(separator: " ")[0]) }, ["vidlabel.MatMulBias", "LayerNormalization"], "\(steps)")
    }
}
