// Geometry and epilogue types shared by the engine (Inference) and its
// kernels: plain values that describe an op, built once per plan.

/// Spatial geometry of a Conv or pooling window over NCHW input, with pads resolved.
package struct Window2D: Sendable, Equatable {
    package var kernel: (h: Int, w: Int)
    package var stride: (h: Int, w: Int)
    package var dilation: (h: Int, w: Int)
    /// Padding: top, left, bottom, right.
    package var pads: (t: Int, l: Int, b: Int, r: Int)
    package var ceilMode: Bool

    package static func == (a: Window2D, b: Window2D) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.pads == b.pads && a.ceilMode == b.ceilMode
    }

    package init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                pads: (Int, Int, Int, Int) = (0, 0, 0, 0), ceilMode: Bool = false) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.pads = (pads.0, pads.1, pads.2, pads.3)
        self.ceilMode = ceilMode
    }

    /// Output height and width for an input of `h` x `w`.
    package func output(_ h: Int, _ w: Int) -> (Int, Int) {
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

/// Shapes of an NHWC convolution: x [N, H, W, C] -> y [N, OH, OW, M].
package struct ConvShape {
    package var batch: Int
    package var h: Int
    package var w: Int
    package var c: Int
    package var oh: Int
    package var ow: Int
    package var m: Int
    package var win: Window2D

    package init(batch: Int, h: Int, w: Int, c: Int, oh: Int, ow: Int, m: Int, win: Window2D) {
        self.batch = batch; self.h = h; self.w = w; self.c = c; self.oh = oh; self.ow = ow; self.m = m; self.win = win
    }

    /// A fully connected layer as a 1x1 conv over `rows` one-pixel images: x [rows, K] -> y [rows, units].
    /// It has no padding, so `convNHWC` never reads its `zeros` row (callers pass the input).
    package static func dense(rows: Int, k: Int, units: Int) -> ConvShape {
        ConvShape(batch: rows, h: 1, w: 1, c: k, oh: 1, ow: 1, m: units, win: Window2D(kernel: (1, 1)))
    }
}

/// What a kernel does to each output value before storing it:
/// v = acc + bias[column] (+ residual[same index] unless `residualAfter`);
/// v = act(clamp(v, lo, hi)); then + residual when `residualAfter`.
package struct Epilogue {
    /// Layout: [M], one value per output column (channel / unit). nil: no bias.
    package var bias: UnsafePointer<Float>? = nil
    /// Same layout as the output. nil: no residual.
    package var residual: UnsafePointer<Float>? = nil
    package var lo: Float = -.infinity
    package var hi: Float = .infinity
    package var activation: Activation = .none
    /// The residual comes after the activation (YOLOv8's bottleneck: x + SiLU(conv));
    /// before it otherwise (ResNet: relu(conv + x)).
    package var residualAfter: Bool = false

    package init(bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, lo: Float = -.infinity, hi: Float = .infinity,
                 activation: Activation = .none, residualAfter: Bool = false) {
        self.bias = bias
        self.residual = residual
        self.lo = lo
        self.hi = hi
        self.activation = activation
        self.residualAfter = residualAfter
    }
}

/// Strides of a row-major shape.
package func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}
