/// Spatial geometry of a Conv or pooling window over NCHW input, with pads resolved.
public struct Window2D: Sendable, Equatable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    public var dilation: (h: Int, w: Int)
    /// Padding: top, left, bottom, right.
    public var pads: (t: Int, l: Int, b: Int, r: Int)
    public var ceilMode: Bool

    public static func == (a: Window2D, b: Window2D) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.pads == b.pads && a.ceilMode == b.ceilMode
    }

    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                pads: (Int, Int, Int, Int) = (0, 0, 0, 0), ceilMode: Bool = false) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.pads = (pads.0, pads.1, pads.2, pads.3)
        self.ceilMode = ceilMode
    }

    /// Reads kernel_shape/strides/dilations/pads/auto_pad/ceil_mode of `node` for input height/width.
    init(node: Node, kernel: (Int, Int), inH: Int, inW: Int) throws {
        let s = node.ints("strides") ?? [1, 1]
        let d = node.ints("dilations") ?? [1, 1]
        guard s.count == 2, d.count == 2, s.allSatisfy({ $0 > 0 }), d.allSatisfy({ $0 > 0 }) else {
            throw InferenceError("node '\(node.name)': only 2-D windows with positive strides/dilations are supported")
        }
        var p = node.ints("pads") ?? [0, 0, 0, 0]
        guard p.count == 4 else { throw InferenceError("node '\(node.name)': pads must have 4 values") }
        let autoPad = node.string("auto_pad", "NOTSET")
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            func same(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let out = (size + s - 1) / s
                let total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (pt, pb) = same(inH, kernel.0, s[0], d[0])
            let (pl, pr) = same(inW, kernel.1, s[1], d[1])
            p = [pt, pl, pb, pr]
        } else if autoPad == "VALID" {
            p = [0, 0, 0, 0]
        } else if autoPad != "NOTSET" {
            throw InferenceError("node '\(node.name)': unknown auto_pad \(autoPad)")
        }
        self.init(kernel: kernel, stride: (s[0], s[1]), dilation: (d[0], d[1]),
                  pads: (p[0], p[1], p[2], p[3]), ceilMode: node.int("ceil_mode", 0) != 0)
    }

    /// Output height and width for an input of `h` x `w`.
    public func output(_ h: Int, _ w: Int) -> (Int, Int) {
        func one(_ size: Int, _ k: Int, _ s: Int, _ d: Int, _ p0: Int, _ p1: Int) -> Int {
            let span = size + p0 + p1 - ((k - 1) * d + 1)
            if span < 0 { return 0 }
            var out = (ceilMode ? (span + s - 1) / s : span / s) + 1
            // A window may not start inside the end padding (PyTorch/onnxruntime rule).
            if ceilMode && (out - 1) * s >= size + p0 { out -= 1 }
            return out
        }
        return (one(h, kernel.h, stride.h, dilation.h, pads.t, pads.b),
                one(w, kernel.w, stride.w, dilation.w, pads.l, pads.r))
    }
}

/// Numpy-style broadcast of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}

/// ONNX Reshape target: 0 copies the input dimension, -1 is inferred.
func reshapeTarget(_ input: [Int], _ spec: [Int], node: String) throws -> [Int] {
    var out = spec.enumerated().map { i, d in d == 0 && i < input.count ? input[i] : d }
    let total = input.reduce(1, *)
    if let hole = out.firstIndex(of: -1) {
        let known = out.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
        guard known > 0, total % known == 0 else { throw InferenceError("node '\(node)': cannot reshape \(input) to \(spec)") }
        out[hole] = total / known
    }
    guard out.reduce(1, *) == total, out.allSatisfy({ $0 >= 0 }) else {
        throw InferenceError("node '\(node)': cannot reshape \(input) to \(spec)")
    }
    return out
}

/// Strides of a row-major shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}
