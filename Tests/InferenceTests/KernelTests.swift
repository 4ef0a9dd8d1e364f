import XCTest
import Inference

/// Optimised kernels against the scalar reference, on random data from fixed
/// seeds, at tile edges (T-1, T, T+1, 2T+3 for the 6-row tile, for every kernel
/// set's tile width 8, 16 and 32, and the 256 K block) and awkward channel
/// counts; each with every kernel set this machine runs.
final class KernelTests: XCTestCase {
    func testGemmTileEdges() throws {
        var seed: UInt64 = 1
        for m in [1, 5, 6, 7, 15] {
            for n in [1, 7, 8, 9, 15, 16, 17, 19, 31, 32, 33, 35, 67, 397] {
                for k in [1, 3, 255, 256, 257, 515] where m * n * k < 3_000_000 {
                    seed += 1
                    let a = Tensor.random([m, k], seed: seed)
                    let b = Tensor.random([k, n], seed: seed + 1000)
                    let c = Tensor.random([n], seed: seed + 2000)
                    for threads in [1, 2] {
                        try assertMatchesReference("Gemm", dynamic: [("a", a)], weights: ["b": b, "c": c], inputs: ["a", "b", "c"],
                                                   tolerance: 2e-4 * Float(k).squareRoot(), threads: threads)
                    }
                }
            }
        }
    }

    func testGemmAttributes() throws {
        let a = Tensor.random([7, 13], seed: 3), at = Tensor.random([13, 7], seed: 4)
        let b = Tensor.random([13, 17], seed: 5), bt = Tensor.random([17, 13], seed: 6)
        let c = Tensor.random([1, 17], seed: 7)
        try assertMatchesReference("Gemm", dynamic: [("a", at)], weights: ["b": bt, "c": c], inputs: ["a", "b", "c"],
                                   attributes: ["transA": .int(1), "transB": .int(1), "alpha": .float(0.5), "beta": .float(2)])
        // Both operands dynamic, C dynamic too.
        try assertMatchesReference("Gemm", dynamic: [("a", a), ("b", b), ("c", Tensor.random([7, 17], seed: 8))],
                                   attributes: ["alpha": .float(1.5), "beta": .float(0.25)])
        try assertMatchesReference("MatMul", dynamic: [("a", a), ("b", b)])
        try assertMatchesReference("MatMul", dynamic: [("a", Tensor.random([3, 7, 13], seed: 9))], weights: ["b": b], inputs: ["a", "b"])
    }

    /// Convs whose last filter panel is narrow (at most NR/2
    /// columns: 20 and 24 filters with NR 16, 12 with NR 8, 40 and 48 with NR 32, 56
    /// with NR 16 after three full panels): `wideTile` runs it with the full panel
    /// before it, `convTile` alone when threads split the panels (few row tiles). Both
    /// must match the reference and each other bit for bit, at every thread count.
    /// With NR 32 (AVX-512), 17, 20 and 24 filters (and 56 after a full panel) are a
    /// 24-wide tail panel, and 25 just past it a full one.
    func testNarrowLastPanelAcrossThreads() throws {
        var seed: UInt64 = 500
        for cout in [12, 17, 20, 24, 25, 40, 48, 56] {
            // (256, 3, ...) and (2048, 1, ...): 7 row tiles and a K at which two threads
            // split the panels. The 1x1 convs (no padding) take the pointwise path, the
            // last three (under 16 channels; 24 on a 65x65 output) the stem's window-row
            // and gathered-row paths.
            for (cin, k, stride, h, w) in [(16, 3, 1, 5, 7), (19, 3, 2, 13, 11), (48, 3, 2, 9, 23), (24, 2, 1, 4, 5), (256, 3, 1, 4, 7),
                                           (96, 1, 1, 13, 11), (2048, 1, 1, 5, 8), (3, 3, 2, 17, 19), (12, 2, 1, 9, 10),
                                           (24, 2, 1, 64, 64)] {
                seed += 1
                let x = Tensor.random([1, cin, h, w], seed: seed)
                let weights = ["w": Tensor.random([cout, cin, k, k], seed: seed + 1), "b": Tensor.random([cout], seed: seed + 2)]
                let attributes: [String: Attribute] = ["kernel_shape": .ints([k, k]), "strides": .ints([stride, stride]),
                                                       "pads": .ints(k == 1 ? [0, 0, 0, 0] : [1, 1, k - 1, k - 1])]
                let expected = try Reference.evaluate(Node(opType: "Conv", name: "ref", inputs: ["x", "w", "b"], outputs: ["y"],
                                                           attributes: attributes), [x, weights["w"], weights["b"]], opset: 13)
                for set in kernelSets {
                    let outputs = try [1, 2].map { threads in
                        try singleNodeModel("Conv", dynamic: [("x", x.shape)], weights: weights, inputs: ["x", "w", "b"],
                                            attributes: attributes, threads: threads, kernels: set).run(["x": x])["y"]!
                    }
                    XCTAssertLessThanOrEqual(maxAbsDiff(outputs[0], expected), 2e-4, "\(set.rawValue) cout \(cout) cin \(cin) k \(k)")
                    XCTAssertTrue(outputs[0].data == outputs[1].data, "\(set.rawValue) cout \(cout) cin \(cin) k \(k): 1 and 2 threads differ")
                }
            }
        }
    }

    func testConvAwkwardShapes() throws {
        var seed: UInt64 = 100
        for cin in [1, 3, 7, 13] {
            for (cout, k, stride, pads, dil) in [(1, 1, 1, [0, 0, 0, 0], 1), (7, 3, 1, [1, 1, 1, 1], 1), (13, 3, 2, [0, 0, 1, 1], 1),
                                                (5, 5, 2, [1, 2, 2, 1], 1), (6, 7, 2, [3, 3, 3, 3], 1), (17, 3, 1, [2, 2, 2, 2], 2),
                                                (127, 1, 2, [0, 0, 0, 0], 1)] {
                seed += 1
                try assertConvMatches(input: [2, cin, 11, 13], cout: cout, k: k, stride: stride, pads: pads, dilation: dil,
                                      seed: seed, threads: [1, 2])
            }
        }
    }

    /// Few-channel stems on images wide enough that whole 6-pixel tiles read their
    /// window rows in place (one tap per kernel row), beside gathered edge tiles.
    func testStemConvReadsWindowRows() throws {
        var seed: UInt64 = 150
        for (cin, cout, k, stride, pads) in [(3, 64, 7, 2, [3, 3, 3, 3]), (3, 32, 3, 2, [0, 0, 1, 1]), (4, 20, 5, 1, [2, 1, 2, 3])] {
            seed += 3
            try assertConvMatches(input: [2, cin, 31, 45], cout: cout, k: k, stride: stride, pads: pads, seed: seed, threads: [1, 2])
        }
        // Window rows two image rows apart and pixels two apart (stride (1, 2), dilation
        // (2, 1)): the tiles inside one output row step their row pointers by both, and
        // the 3x3 over 3 channels takes the constant-size tile (RGB stems).
        let x = Tensor.random([1, 3, 20, 41], seed: 160)
        for cout in [16, 24] {
            let w = Tensor.random([cout, 3, 3, 3], seed: 161), b = Tensor.random([cout], seed: 162)
            for threads in [1, 2] {
                try assertMatchesReference("Conv", dynamic: [("x", x)], weights: ["w": w, "b": b], inputs: ["x", "w", "b"],
                                           attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([1, 2]), "dilations": .ints([2, 1]),
                                                        "pads": .ints([2, 1, 1, 0])], threads: threads)
            }
        }
    }

    /// Big K: in K blocks in the sets that block K (AVX-512, `kBlockedAbove`), whole elsewhere.
    func testConvLargeChannelsCrossesKBlock() throws {
        let x = Tensor.random([1, 64, 9, 10], seed: 11)
        let w = Tensor.random([19, 64, 3, 3], seed: 12)
        try assertMatchesReference("Conv", dynamic: [("x", x)], weights: ["w": w], inputs: ["x", "w"],
                                   attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])], tolerance: 5e-4)
        // 600 channels per tap: K blocks split one tap's channels (3 x 200), edge panel of 3 filters.
        let x2 = Tensor.random([1, 600, 5, 7], seed: 13)
        let w2 = Tensor.random([35, 600, 1, 1], seed: 14)
        for threads in [1, 2] {
            try assertMatchesReference("Conv", dynamic: [("x", x2)], weights: ["w": w2], inputs: ["x", "w"],
                                       attributes: ["kernel_shape": .ints([1, 1])], tolerance: 2e-3, threads: threads)
        }
    }

    func testGroupedAndDepthwiseConv() throws {
        var seed: UInt64 = 200
        for c in [1, 3, 7, 13, 32, 40] {
            for (k, stride, pads) in [(3, 1, [1, 1, 1, 1]), (3, 2, [0, 0, 1, 1]), (5, 1, [2, 2, 2, 2]), (5, 2, [1, 1, 2, 2]), (3, 2, [1, 1, 1, 1])] {
                for (h, w) in [(7, 7), (13, 27), (112, 9)] {
                    seed += 1
                    try assertConvMatches(input: [2, c, h, w], cout: c, k: k, stride: stride, pads: pads, group: c,
                                          seed: seed, threads: [c % 2 + 1])
                }
            }
        }
        // Dilated windows (the depthwise row kernel's runtime-sized instance) and the 7x7 one.
        for (k, dilation, stride, c) in [(3, 2, 1, 16), (7, 1, 1, 24), (7, 1, 1, 120), (3, 3, 2, 8)] {
            seed += 1
            try assertConvMatches(input: [1, c, 19, 23], cout: c, k: k, stride: stride, pads: [3, 2, 1, 3], dilation: dilation,
                                  group: c, bias: false, seed: seed, threads: [1])
        }
        // 1x7 (PP-OCR's recogniser), interior and edges.
        for c in [8, 120, 13] {
            seed += 1
            try assertMatchesReference("Conv", dynamic: [("x", Tensor.random([1, c, 3, 29], seed: seed))],
                                       weights: ["w": Tensor.random([c, 1, 1, 7], seed: seed + 1), "b": Tensor.random([c], seed: seed + 2)],
                                       inputs: ["x", "w", "b"], attributes: ["kernel_shape": .ints([1, 7]), "pads": .ints([0, 3, 0, 3]), "group": .int(c)])
        }
        // Grouped, not depthwise: 2 groups of 3 -> 4 channels each.
        let x = Tensor.random([1, 6, 9, 8], seed: 300)
        let w = Tensor.random([8, 3, 3, 3], seed: 301)
        try assertMatchesReference("Conv", dynamic: [("x", x)], weights: ["w": w], inputs: ["x", "w"],
                                   attributes: ["kernel_shape": .ints([3, 3]), "group": .int(2), "pads": .ints([1, 0, 1, 2])])
    }

    func testAutoPadSame() throws {
        for mode in ["SAME_UPPER", "SAME_LOWER", "VALID"] {
            let x = Tensor.random([1, 3, 14, 15], seed: 400)
            let w = Tensor.random([4, 3, 3, 3], seed: 401)
            try assertMatchesReference("Conv", dynamic: [("x", x)], weights: ["w": w], inputs: ["x", "w"],
                                       attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string(mode)])
            let dw = Tensor.random([3, 1, 5, 5], seed: 402)
            try assertMatchesReference("Conv", dynamic: [("x", x)], weights: ["w": dw], inputs: ["x", "w"],
                                       attributes: ["kernel_shape": .ints([5, 5]), "strides": .ints([2, 2]), "auto_pad": .string(mode), "group": .int(3)])
        }
    }

    func testPooling() throws {
        var seed: UInt64 = 500
        // 43 channels: the 32-channel pass, one 8-channel step and a 3-channel tail.
        for c in [1, 3, 7, 43] {
            for (k, s, pads, ceil) in [(3, 2, [0, 0, 1, 1], 0), (3, 2, [1, 1, 1, 1], 1), (2, 2, [0, 0, 0, 0], 1), (7, 1, [0, 0, 0, 0], 0), (3, 1, [1, 1, 1, 1], 0),
                                       // Stride 1 (pooled as runs of pixels): SAME_UPPER 2x2, YOLO's SPPF 5x5, lopsided pads.
                                       (2, 1, [0, 0, 1, 1], 0), (5, 1, [2, 2, 2, 2], 0), (3, 1, [2, 0, 0, 2], 0)] {
                for (h, w) in [(7, 7), (13, 11), (112, 112)] where h >= k {
                    seed += 1
                    let x = Tensor.random([2, c, h, w], seed: seed)
                    let attrs: [String: Attribute] = ["kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints(pads), "ceil_mode": .int(ceil)]
                    try assertMatchesReference("MaxPool", dynamic: [("x", x)], attributes: attrs)
                    for include in [0, 1] {
                        var a = attrs
                        a["count_include_pad"] = .int(include)
                        try assertMatchesReference("AveragePool", dynamic: [("x", x)], attributes: a, tolerance: 1e-5)
                    }
                }
            }
        }
        // Windows wider than the row (no inner column) and rows narrower than the pads.
        for (h, w) in [(2, 2), (1, 3), (4, 1)] {
            seed += 1
            let attrs: [String: Attribute] = ["kernel_shape": .ints([5, 5]), "strides": .ints([1, 1]), "pads": .ints([2, 2, 2, 2])]
            try assertMatchesReference("MaxPool", dynamic: [("x", Tensor.random([1, 5, h, w], seed: seed))], attributes: attrs)
            try assertMatchesReference("AveragePool", dynamic: [("x", Tensor.random([1, 5, h, w], seed: seed))], attributes: attrs, tolerance: 1e-5)
        }
        try assertMatchesReference("GlobalAveragePool", dynamic: [("x", Tensor.random([2, 13, 7, 9], seed: 600))], tolerance: 1e-5)
    }

    func testElementwiseAndShapes() throws {
        let x = Tensor.random([2, 3, 5, 7], seed: 700, range: -8...8)
        try assertMatchesReference("Relu", dynamic: [("x", x)], tolerance: 0)
        try assertMatchesReference("Sigmoid", dynamic: [("x", x)], tolerance: 1e-6)
        try assertMatchesReference("Clip", dynamic: [("x", x)], weights: ["lo": Tensor(shape: [], data: [0]), "hi": Tensor(shape: [], data: [6])],
                                   inputs: ["x", "lo", "hi"], tolerance: 0)
        try assertMatchesReference("Clip", dynamic: [("x", x)], attributes: ["min": .float(-1), "max": .float(2)], opset: 9, tolerance: 0)
        for other in [[2, 3, 5, 7], [3, 1, 1], [7], [1], [2, 1, 5, 1]] {
            let y = Tensor.random(other, seed: 701)
            try assertMatchesReference("Add", dynamic: [("x", x), ("o", y)], tolerance: 1e-6)
            try assertMatchesReference("Mul", dynamic: [("o", y), ("x", x)], tolerance: 1e-6)
        }
        try assertMatchesReference("Softmax", dynamic: [("x", x)], attributes: ["axis": .int(1)], tolerance: 1e-6)
        try assertMatchesReference("Softmax", dynamic: [("x", x)], tolerance: 1e-6)
        try assertMatchesReference("Softmax", dynamic: [("x", x)], attributes: ["axis": .int(1)], opset: 9, tolerance: 1e-6)
        try assertMatchesReference("Transpose", dynamic: [("x", x)], attributes: ["perm": .ints([0, 2, 3, 1])], tolerance: 0)
        try assertMatchesReference("Transpose", dynamic: [("x", x)], tolerance: 0)
        try assertMatchesReference("Flatten", dynamic: [("x", x)], attributes: ["axis": .int(2)], tolerance: 0)
        try assertMatchesReference("Reshape", dynamic: [("x", x)], weights: ["s": Tensor(shape: [3], integers: [0, -1, 7])],
                                   inputs: ["x", "s"], tolerance: 0)
        try assertMatchesReference("Concat", dynamic: [("x", x), ("z", Tensor.random([2, 4, 5, 7], seed: 702))],
                                   attributes: ["axis": .int(1)], tolerance: 0)
        try assertMatchesReference("Identity", dynamic: [("x", x)], tolerance: 0)
        let bn = ["s": Tensor.random([3], seed: 703), "b": Tensor.random([3], seed: 704),
                  "m": Tensor.random([3], seed: 705), "v": Tensor.random([3], seed: 706, range: 0.1...2)]
        try assertMatchesReference("BatchNormalization", dynamic: [("x", x)], weights: bn, inputs: ["x", "s", "b", "m", "v"],
                                   attributes: ["epsilon": .float(1e-3)], tolerance: 1e-5)
    }

    /// PRelu in both layouts (NCHW alone, channels-last after a Conv), per channel and
    /// scalar, at channel counts around the 8 lanes, and on a dense [N, C] input.
    func testPRelu() throws {
        for c in [1, 7, 8, 9, 19] {
            let x = Tensor.random([2, c, 5, 3], seed: 900 + UInt64(c))
            let slope = Tensor.random([c, 1, 1], seed: 950 + UInt64(c))
            try assertMatchesReference("PRelu", dynamic: [("x", x)], weights: ["s": slope], tolerance: 1e-6)
            try assertMatchesReference("PRelu", dynamic: [("x", x)], weights: ["s": Tensor(shape: [1], data: [0.25])], tolerance: 1e-6)
            // Conv output is channels-last: the slope then runs along each pixel's channels.
            let w = Tensor.random([c, 3, 3, 3], seed: 970 + UInt64(c))
            let nodes = [
                Node(opType: "Conv", name: "c", inputs: ["x", "w"], outputs: ["c"], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]),
                Node(opType: "PRelu", name: "p", inputs: ["c", "s"], outputs: ["y"]),
            ]
            let consts = ["w": w, "s": slope]
            let graph = Graph(nodes: nodes, constants: consts, inputs: [ValueInfo(name: "x", shape: [nil, 3, 6, 5])], outputs: ["y"], opset: 13)
            let input = Tensor.random([2, 3, 6, 5], seed: 990 + UInt64(c))
            var values = consts.merging(["x": input]) { a, _ in a }
            for n in nodes { values[n.outputs[0]] = try Reference.evaluate(n, n.inputs.map { values[$0] }, opset: 13) }
            for set in kernelSets {
                let fast = try Model(graph: graph, kernels: set).run(["x": input])["y"]!
                XCTAssertLessThanOrEqual(maxAbsDiff(fast, values["y"]!), 1e-4, "\(set.rawValue): Conv + PRelu, \(c) channels")
            }
        }
        // A dense layer's output [N, C] with a [C] slope (MTCNN's R-Net and O-Net).
        try assertMatchesReference("PRelu", dynamic: [("x", Tensor.random([3, 21], seed: 999))],
                                   weights: ["s": Tensor.random([21], seed: 998)], tolerance: 1e-6)
        // A slope varying along W is valid ONNX, but not a per-channel slope: refused at load, by name.
        XCTAssertThrowsError(try singleNodeModel("PRelu", dynamic: [("x", [1, 4, 5, 6])], weights: ["s": Tensor.random([6], seed: 1)])) {
            XCTAssertTrue("\($0)".contains("only one slope per channel"), "\($0)")
        }
    }

    /// Conv + BatchNorm + Add + Relu fused by the optimiser still equal the unfused reference.
    func testFusionsMatchReference() throws {
        // 8 channels: one K block; 300: K = 9 x 300 runs in K blocks of 150 channels,
        // with the residual and clip applied only after the last one.
        for c in [8, 300] {
            let x = Tensor.random([2, c, 9, 9], seed: 800)
            let w = Tensor.random([c, c, 3, 3], seed: 801, range: -0.1...0.1)
            let consts: [String: Tensor] = [
                "w": w, "s": Tensor.random([c], seed: 802), "b": Tensor.random([c], seed: 803),
                "m": Tensor.random([c], seed: 804), "v": Tensor.random([c], seed: 805, range: 0.5...2),
                "lo": Tensor(shape: [], data: [0]), "hi": Tensor(shape: [], data: [6]),
            ]
            let nodes = [
                Node(opType: "Conv", name: "c", inputs: ["x", "w"], outputs: ["c"], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]),
                Node(opType: "BatchNormalization", name: "bn", inputs: ["c", "s", "b", "m", "v"], outputs: ["n"]),
                Node(opType: "Identity", name: "id", inputs: ["n"], outputs: ["i"]),
                Node(opType: "Add", name: "add", inputs: ["i", "x"], outputs: ["a"]),
                Node(opType: "Clip", name: "act", inputs: ["a", "lo", "hi"], outputs: ["y"]),
            ]
            let graph = Graph(nodes: nodes, constants: consts, inputs: [ValueInfo(name: "x", shape: [nil, c, 9, 9])], outputs: ["y"], opset: 13)
            var values = consts.merging(["x": x]) { a, _ in a }
            for n in nodes { values[n.outputs[0]] = try Reference.evaluate(n, n.inputs.map { values[$0] }, opset: 13) }
            for threads in [1, 2] {
                for set in kernelSets {
                    let fast = try Model(graph: graph, threads: threads, kernels: set).run(["x": x])["y"]!
                    XCTAssertLessThanOrEqual(maxAbsDiff(fast, values["y"]!), 1e-3, "\(set.rawValue): \(c) channels, \(threads) threads")
                }
            }
        }
    }

    /// 1x1 expand -> depthwise -> 1x1 project (+ residual), run as one banded block
    /// by the plan, equals the three convs evaluated by the reference one by one.
    func testInvertedResidualBlockMatchesReference() throws {
        // (C, E, M, kernel, stride, pads, H, W): residual when M == C at stride 1; channel
        // counts off the 8-lane grid; asymmetric pads; all run in several bands. The plan
        // fuses only blocks whose expanded tensor passes 1 MB: the last case stays three convs.
        let cases: [(Int, Int, Int, Int, Int, [Int], Int, Int)] = [
            (8, 48, 8, 3, 1, [1, 1, 1, 1], 75, 75), (5, 45, 7, 5, 2, [2, 2, 2, 2], 80, 79),
            (16, 96, 24, 3, 2, [0, 0, 1, 1], 60, 60), (24, 96, 24, 3, 1, [1, 1, 1, 1], 90, 40),
            (16, 40, 16, 5, 1, [2, 2, 2, 2], 7, 7),
        ]
        var seed: UInt64 = 900
        for (c, e, m, k, stride, pads, h, w) in cases {
            seed += 10
            let consts: [String: Tensor] = [
                "we": Tensor.random([e, c, 1, 1], seed: seed, range: -0.3...0.3), "be": Tensor.random([e], seed: seed + 1),
                "wd": Tensor.random([e, 1, k, k], seed: seed + 2, range: -0.3...0.3), "bd": Tensor.random([e], seed: seed + 3),
                "wp": Tensor.random([m, e, 1, 1], seed: seed + 4, range: -0.3...0.3), "bp": Tensor.random([m], seed: seed + 5),
                "lo": Tensor(shape: [], data: [0]), "hi": Tensor(shape: [], data: [6]),
            ]
            let residual = m == c && stride == 1
            var nodes = [
                Node(opType: "Conv", name: "expand", inputs: ["x", "we", "be"], outputs: ["e"], attributes: ["kernel_shape": .ints([1, 1])]),
                Node(opType: "Clip", name: "expand_act", inputs: ["e", "lo", "hi"], outputs: ["ea"]),
                Node(opType: "Conv", name: "dw", inputs: ["ea", "wd", "bd"], outputs: ["d"],
                     attributes: ["kernel_shape": .ints([k, k]), "strides": .ints([stride, stride]), "pads": .ints(pads), "group": .int(e)]),
                Node(opType: "Clip", name: "dw_act", inputs: ["d", "lo", "hi"], outputs: ["da"]),
                Node(opType: "Conv", name: "project", inputs: ["da", "wp", "bp"], outputs: [residual ? "p" : "y"], attributes: ["kernel_shape": .ints([1, 1])]),
            ]
            if residual { nodes.append(Node(opType: "Add", name: "add", inputs: ["p", "x"], outputs: ["y"])) }
            let graph = Graph(nodes: nodes, constants: consts, inputs: [ValueInfo(name: "x", shape: [nil, c, h, w])], outputs: ["y"], opset: 13)
            let fusedSteps = try Model(graph: graph).planSteps().filter { $0.hasPrefix("Block expand > dw > project") }
            XCTAssertEqual(fusedSteps.count, h > 7 ? 1 : 0, "\(c)->\(e)->\(m) \(h)x\(w): fused as one block")
            for (batch, threads) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
                let x = Tensor.random([batch, c, h, w], seed: seed + 6)
                var values = consts.merging(["x": x]) { a, _ in a }
                for n in nodes { values[n.outputs[0]] = try Reference.evaluate(n, n.inputs.map { values[$0] }, opset: 13) }
                for set in kernelSets {
                    let fast = try Model(graph: graph, threads: threads, kernels: set).run(["x": x])["y"]!
                    XCTAssertLessThanOrEqual(maxAbsDiff(fast, values["y"]!), 1e-4,
                                             "\(set.rawValue): \(c)->\(e)->\(m) k\(k) s\(stride) \(h)x\(w), batch \(batch), \(threads) threads")
                }
            }
        }
    }
}
