import Foundation
import KernelSupport

/// Resize (opset 10: X, scales; 11 on: X, roi, scales, sizes) of the two spatial
/// axes of a 4-D tensor, modes nearest (every nearest_mode) and linear, with the
/// coordinate_transformation_modes half_pixel, pytorch_half_pixel, align_corners,
/// asymmetric and tf_half_pixel_for_nn. Scales or sizes must be known when the
/// plan is built; batch and channel scales must be 1. Runs channels-last when its
/// input is (a feature pyramid's upsampling between convs), else plane by plane.
struct ResizeOp: Operator {
    static let opType = "Resize"
    static let sinceOpset = 10
    static let inputCount = 2...4
    static let layout = LayoutRule.flexible
    let attrs: Attributes
    let opset: Int
    let linear: Bool
    let coordinates: String
    let nearestMode: String

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 11 ? 2...2 : Self.inputCount)
        try attrs.required(0)
        self.opset = opset
        linear = try attrs.string("mode", "nearest", oneOf: ["nearest", "linear"]) == "linear"
        coordinates = opset < 11 ? "asymmetric"
            : try attrs.string("coordinate_transformation_mode", "half_pixel",
                               oneOf: ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"])
        nearestMode = try attrs.string("nearest_mode", opset < 11 ? "floor" : "round_prefer_floor",
                                       oneOf: ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
        _ = try attrs.int("exclude_outside", 0, in: 0...0)
        _ = try attrs.int("antialias", 0, in: 0...0)
        _ = try attrs.string("keep_aspect_ratio_policy", "stretch", oneOf: ["stretch"])
        if node.attributes["axes"] != nil { throw attrs.fail("the 'axes' attribute is not supported") }
    }

    /// float X (and scales, roi); sizes int64.
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        let sizesAt = opset < 11 ? -1 : 3
        for (i, t) in types.enumerated() where t != nil {
            let want: ElementType = i == sizesAt ? .int64 : .float32
            guard t == want else { throw attrs.fail("input \(i) must be \(want.rawValue), got \(t!.rawValue)") }
        }
        return [.float32]
    }

    /// Output height and width, and the height and width scales, for input x.
    func geometry(_ x: [Int], _ constants: [Tensor?]) throws -> (oh: Int, ow: Int, sh: Float, sw: Float) {
        guard x.count == 4 else { throw attrs.fail("only 4-D inputs are supported, got \(x)") }
        let scalesAt = opset < 11 ? 1 : 2
        let node = attrs.node
        let hasScales = scalesAt < node.inputs.count && !node.inputs[scalesAt].isEmpty
        let hasSizes = opset >= 11 && node.inputs.count > 3 && !node.inputs[3].isEmpty
        var oh = 0, ow = 0, sh: Float = 1, sw: Float = 1
        if let sizes = hasSizes ? try attrs.integerList(constants, 3, what: "sizes") : nil {
            guard sizes.count == 4, sizes[0] == x[0], sizes[1] == x[1], sizes[2] > 0, sizes[3] > 0 else {
                throw attrs.fail("sizes \(sizes) must keep the batch and channels of \(x) and be positive")
            }
            (oh, ow) = (sizes[2], sizes[3])
            (sh, sw) = (Float(oh) / Float(x[2]), Float(ow) / Float(x[3]))
        } else if hasScales {
            guard scalesAt < constants.count, let s = constants[scalesAt], s.isFloat else { throw attrs.fail("scales must be known when the plan is built") }
            guard s.count == 4, s.data[0] == 1, s.data[1] == 1, s.data[2] > 0, s.data[3] > 0, s.data[2] < 1e6, s.data[3] < 1e6 else {
                throw attrs.fail("scales \(s.data) must be 1 for batch and channels and positive for height and width")
            }
            (sh, sw) = (s.data[2], s.data[3])
            (oh, ow) = (Int((Float(x[2]) * sh).rounded(.down)), Int((Float(x[3]) * sw).rounded(.down)))
        } else {
            throw attrs.fail("needs scales or sizes")
        }
        guard oh > 0, ow > 0 else { throw attrs.fail("resizes \(x) to nothing") }
        _ = try elementCount([x[0], x[1], oh, ow], "node '\(attrs.node.name)' output")
        return (oh, ow, sh, sw)
    }

    /// Where each output coordinate along one axis reads the input (ONNX's
    /// coordinate transformation, then the nearest or linear neighbours), in
    /// float arithmetic as onnxruntime does it.
    func taps(input: Int, output: Int, scale: Float) -> [ResizeTap] {
        (0..<output).map { o in
            let x = Float(o)
            var src: Float
            switch coordinates {
            case "half_pixel": src = (x + 0.5) / scale - 0.5
            case "pytorch_half_pixel": src = output > 1 ? (x + 0.5) / scale - 0.5 : 0
            case "align_corners": src = output == 1 ? 0 : x * Float(input - 1) / Float(output - 1)
            case "tf_half_pixel_for_nn": src = (x + 0.5) / scale
            default: src = x / scale
            }
            if linear {
                src = min(max(src, 0), Float(input - 1))
                let i0 = Int(src.rounded(.down)), i1 = min(i0 + 1, input - 1)
                return ResizeTap(i0, i1, src - Float(i0))
            }
            var i: Float
            switch nearestMode {
            case "floor": i = src.rounded(.down)
            case "ceil": i = src.rounded(.up)
            case "round_prefer_ceil": i = src.rounded(.toNearestOrAwayFromZero)
            default: i = src == src.rounded(.down) + 0.5 ? src.rounded(.down) : src.rounded(.toNearestOrAwayFromZero)
            }
            let c = Int(min(max(i, 0), Float(input - 1)))
            return ResizeTap(c, c, 0)
        }
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        let g = try geometry(x, constants)
        return [x[0], x[1], g.oh, g.ow]
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let g = try geometry(x.shape, inputs)
        let (h, w) = (x.shape[2], x.shape[3])
        let ys = taps(input: h, output: g.oh, scale: g.sh), xs = taps(input: w, output: g.ow, scale: g.sw)
        var y = Tensor(zeros: [x.shape[0], x.shape[1], g.oh, g.ow])
        for p in 0..<(x.shape[0] * x.shape[1]) { for oy in 0..<g.oh { for ox in 0..<g.ow {
            let ty = ys[oy], tx = xs[ox]
            func at(_ r: Int, _ c: Int) -> Float { x.data[(p * h + r) * w + c] }
            let top = at(ty.i0, tx.i0) * (1 - tx.w) + at(ty.i0, tx.i1) * tx.w
            let bottom = at(ty.i1, tx.i0) * (1 - tx.w) + at(ty.i1, tx.i1) * tx.w
            y.data[(p * g.oh + oy) * g.ow + ox] = top * (1 - ty.w) + bottom * ty.w
        }}}
        return y
    }

    /// In whatever layout its input is.
    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice {
        LayoutChoice(inputs: [nil] + [Bool?](repeating: false, count: q.shapes.count - 1), output: q.channelsLast[0])
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let xs = l.inputShapes[0]
        let g = try geometry(xs, l.constants)
        let ys = taps(input: xs[2], output: g.oh, scale: g.sh), xt = taps(input: xs[3], output: g.ow, scale: g.sw)
        // Channels-last: N images of C channels; NCHW: N*C images of one channel.
        let (images, c) = l.inputChannelsLast[0] ? (xs[0], xs[1]) : (xs[0] * xs[1], 1)
        let x = try l.input(0), y = l.output
        return ({ arena in kernels.resize(x.pointer(arena), images, xs[2], xs[3], c, ys, xt, y.pointer(arena)) }, 0)
    }
}
