import Foundation

/// Plain scalar implementations of every supported op. They define what the
/// optimised kernels must compute: tests compare the two, and constant folding
/// uses these. Written for clarity, not speed.
public enum Reference {
    /// Conv over NCHW. x [N,C,H,W], w [M, C/group, kh, kw], b [M] -> y [N,M,OH,OW].
    public static func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, window: Window2D, group: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let m = w.shape[0], cg = c / group, mg = m / group
        let (oh, ow) = window.output(h, wd)
        var y = Tensor(zeros: [n, m, oh, ow])
        for b0 in 0..<n { for oc in 0..<m {
            let g = oc / mg
            for oy in 0..<oh { for ox in 0..<ow {
                var acc: Float = b?.data[oc] ?? 0
                for ic in 0..<cg { for ky in 0..<window.kernel.h { for kx in 0..<window.kernel.w {
                    let iy = oy * window.stride.h - window.pads.t + ky * window.dilation.h
                    let ix = ox * window.stride.w - window.pads.l + kx * window.dilation.w
                    if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                    let xv = x.data[((b0 * c + g * cg + ic) * h + iy) * wd + ix]
                    let wv = w.data[((oc * cg + ic) * window.kernel.h + ky) * window.kernel.w + kx]
                    acc += xv * wv
                }}}
                y.data[((b0 * m + oc) * oh + oy) * ow + ox] = acc
            }}
        }}
        return y
    }

    public static func relu(_ x: Tensor) -> Tensor { map(x) { max($0, 0) } }
    public static func clip(_ x: Tensor, min lo: Float, max hi: Float) -> Tensor { map(x) { Swift.min(Swift.max($0, lo), hi) } }
    public static func sigmoid(_ x: Tensor) -> Tensor { map(x) { 1 / (1 + Foundation.exp(-$0)) } }

    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor { Tensor(shape: x.shape, data: x.data.map(f)) }

    /// Elementwise binary op with numpy broadcasting.
    public static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor? {
        guard let shape = broadcastShape(a.shape, b.shape) else { return nil }
        let n = shape.count
        let sa = stridesFor(a.shape, rank: n), sb = stridesFor(b.shape, rank: n)
        let os = rowMajorStrides(shape)
        var out = Tensor(zeros: shape)
        for i in 0..<out.count {
            var ia = 0, ib = 0, rem = i
            for d in 0..<n { let q = rem / os[d]; rem %= os[d]; ia += q * sa[d]; ib += q * sb[d] }
            out.data[i] = f(a.data[ia], b.data[ib])
        }
        return out
    }

    /// Strides that read `shape` as if broadcast to `rank` dims (0 where size is 1).
    static func stridesFor(_ shape: [Int], rank: Int) -> [Int] {
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        let s = rowMajorStrides(padded)
        return zip(padded, s).map { $0 == 1 ? 0 : $1 }
    }

    /// MaxPool over NCHW (padding never wins).
    public static func maxPool(_ x: Tensor, window: Window2D) -> Tensor {
        pool(x, window) { values, _ in values.max() ?? 0 }
    }

    /// AveragePool over NCHW; `countIncludePad` counts padded cells (within the padded input) in the divisor.
    public static func averagePool(_ x: Tensor, window: Window2D, countIncludePad: Bool) -> Tensor {
        pool(x, window) { values, padded in
            values.reduce(0, +) / Float(countIncludePad ? padded : values.count)
        }
    }

    static func pool(_ x: Tensor, _ win: Window2D, _ reduce: ([Float], Int) -> Float) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = win.output(h, w)
        var y = Tensor(zeros: [n, c, oh, ow])
        for p in 0..<(n * c) { for oy in 0..<oh { for ox in 0..<ow {
            var values: [Float] = []
            var padded = 0
            for ky in 0..<win.kernel.h { for kx in 0..<win.kernel.w {
                let iy = oy * win.stride.h - win.pads.t + ky * win.dilation.h
                let ix = ox * win.stride.w - win.pads.l + kx * win.dilation.w
                // Cells inside the explicitly padded input count for count_include_pad.
                if iy < h + win.pads.b && ix < w + win.pads.r { padded += 1 }
                if iy >= 0 && iy < h && ix >= 0 && ix < w { values.append(x.data[(p * h + iy) * w + ix]) }
            }}
            y.data[(p * oh + oy) * ow + ox] = reduce(values, padded)
        }}}
        return y
    }

    public static func globalAveragePool(_ x: Tensor) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let hw = x.shape.dropFirst(2).reduce(1, *)
        var y = Tensor(zeros: [n, c] + [Int](repeating: 1, count: x.rank - 2))
        for p in 0..<(n * c) { y.data[p] = x.data[(p * hw)..<((p + 1) * hw)].reduce(0, +) / Float(hw) }
        return y
    }

    /// a [.., M, K] @ b [K, N] or batched [.., K, N] -> [.., M, N] (2-D b broadcast over batches).
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], nn = b.shape[b.rank - 1]
        let batch = a.count / (m * k)
        let bBatch = b.count / (k * nn)
        var y = Tensor(zeros: Array(a.shape.dropLast()) + [nn])
        for p in 0..<batch {
            let bo = (bBatch == 1 ? 0 : p) * k * nn
            for i in 0..<m { for j in 0..<nn {
                var acc: Float = 0
                for q in 0..<k { acc += a.data[p * m * k + i * k + q] * b.data[bo + q * nn + j] }
                y.data[p * m * nn + i * nn + j] = acc
            }}
        }
        return y
    }

    /// Y = alpha * op(A) @ op(B) + beta * C (C broadcast to [M, N]).
    public static func gemm(_ a: Tensor, _ b: Tensor, _ c: Tensor?, transA: Bool, transB: Bool, alpha: Float, beta: Float) -> Tensor {
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1]
        var y = Tensor(zeros: [m, n])
        let cb = c.flatMap { broadcast(Tensor(zeros: [m, n]), $0, { $1 }) }
        for i in 0..<m { for j in 0..<n {
            var acc: Float = 0
            for q in 0..<k {
                let av = transA ? a.data[q * m + i] : a.data[i * k + q]
                let bv = transB ? b.data[j * k + q] : b.data[q * n + j]
                acc += av * bv
            }
            y.data[i * n + j] = alpha * acc + (cb.map { beta * $0.data[i * n + j] } ?? 0)
        }}
        return y
    }

    public static func transpose(_ x: Tensor, perm: [Int]) -> Tensor {
        let shape = perm.map { x.shape[$0] }
        let inStrides = rowMajorStrides(x.shape), outStrides = rowMajorStrides(shape)
        var y = Tensor(zeros: shape)
        for i in 0..<y.count {
            var rem = i, src = 0
            for d in 0..<shape.count { let q = rem / outStrides[d]; rem %= outStrides[d]; src += q * inStrides[perm[d]] }
            y.data[i] = x.data[src]
        }
        return y
    }

    /// Softmax over `axis` (opset >= 13). Older opsets flatten to 2-D at `axis` first: pass `coerce2D`.
    public static func softmax(_ x: Tensor, axis: Int, coerce2D: Bool) -> Tensor {
        let a = axis < 0 ? axis + x.rank : axis
        let outer = x.shape[..<a].reduce(1, *)
        let inner = coerce2D ? 1 : x.shape[(a + 1)...].reduce(1, *)
        let len = coerce2D ? x.shape[a...].reduce(1, *) : x.shape[a]
        var y = x
        for o in 0..<outer { for i in 0..<inner {
            let idx = (0..<len).map { (o * len + $0) * inner + i }
            let mx = idx.map { x.data[$0] }.max() ?? 0
            let e = idx.map { Foundation.exp(x.data[$0] - mx) }
            let s = e.reduce(0, +)
            for (j, v) in zip(idx, e) { y.data[j] = v / s }
        }}
        return y
    }

    public static func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        let a = axis < 0 ? axis + xs[0].rank : axis
        var shape = xs[0].shape
        shape[a] = xs.map { $0.shape[a] }.reduce(0, +)
        let outer = shape[..<a].reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for x in xs {
                let chunk = x.shape[a...].reduce(1, *)
                data.append(contentsOf: x.data[(o * chunk)..<((o + 1) * chunk)])
            }
        }
        return Tensor(shape: shape, data: data)
    }

    /// Inference-mode batch norm over axis 1.
    public static func batchNorm(_ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) -> Tensor {
        let c = x.shape[1], inner = x.shape[2...].reduce(1, *)
        var y = x
        for i in 0..<x.count {
            let ch = (i / inner) % c
            y.data[i] = (x.data[i] - mean.data[ch]) / (variance.data[ch] + epsilon).squareRoot() * scale.data[ch] + bias.data[ch]
        }
        return y
    }

    /// Runs one node on concrete inputs (missing optional inputs are nil).
    public static func evaluate(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> Tensor {
        func input(_ i: Int) throws -> Tensor {
            guard i < inputs.count, let t = inputs[i] else { throw InferenceError("node '\(node.name)': missing input \(i)") }
            return t
        }
        let x = try input(0)
        switch node.opType {
        case "Identity": return x
        case "Relu": return relu(x)
        case "Sigmoid": return sigmoid(x)
        case "Clip":
            let (lo, hi) = clipBounds(node, inputs, opset: opset)
            return clip(x, min: lo, max: hi)
        case "Add", "Mul":
            let b = try input(1)
            let f: (Float, Float) -> Float = node.opType == "Add" ? (+) : (*)
            guard let y = broadcast(x, b, f) else { throw InferenceError("node '\(node.name)': cannot broadcast \(x.shape) and \(b.shape)") }
            return y
        case "Conv":
            let w = try input(1)
            guard x.rank == 4, w.rank == 4 else { throw InferenceError("node '\(node.name)': only 2-D Conv is supported") }
            let win = try Window2D(node: node, kernel: (w.shape[2], w.shape[3]), inH: x.shape[2], inW: x.shape[3])
            return conv(x, w, inputs.count > 2 ? inputs[2] : nil, window: win, group: node.int("group", 1))
        case "MaxPool", "AveragePool":
            guard let k = node.ints("kernel_shape"), k.count == 2, x.rank == 4 else { throw InferenceError("node '\(node.name)': only 2-D pooling is supported") }
            let win = try Window2D(node: node, kernel: (k[0], k[1]), inH: x.shape[2], inW: x.shape[3])
            return node.opType == "MaxPool" ? maxPool(x, window: win)
                : averagePool(x, window: win, countIncludePad: node.int("count_include_pad", 0) != 0)
        case "GlobalAveragePool": return globalAveragePool(x)
        case "MatMul": return matmul(x, try input(1))
        case "Gemm":
            return gemm(x, try input(1), inputs.count > 2 ? inputs[2] : nil, transA: node.int("transA", 0) != 0,
                        transB: node.int("transB", 0) != 0, alpha: node.float("alpha", 1), beta: node.float("beta", 1))
        case "Reshape":
            let spec = try input(1).data.map { Int($0) }
            return Tensor(shape: try reshapeTarget(x.shape, spec, node: node.name), data: x.data)
        case "Flatten":
            var axis = node.int("axis", 1)
            if axis < 0 { axis += x.rank }
            return Tensor(shape: [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)], data: x.data)
        case "Transpose":
            return transpose(x, perm: node.ints("perm") ?? Array((0..<x.rank).reversed()))
        case "Softmax":
            return softmax(x, axis: node.int("axis", opset >= 13 ? -1 : 1), coerce2D: opset < 13)
        case "Concat":
            return concat(try inputs.indices.map { try input($0) }, axis: node.int("axis", 0))
        case "BatchNormalization":
            return batchNorm(x, scale: try input(1), bias: try input(2), mean: try input(3), variance: try input(4),
                             epsilon: node.float("epsilon", 1e-5))
        case "Constant":
            if case .tensor(let t)? = node.attributes["value"] { return t }
            throw InferenceError("node '\(node.name)': Constant without a tensor value")
        default:
            throw InferenceError("unsupported op \(node.opType) (node '\(node.name)', opset \(opset))")
        }
    }

    /// Clip bounds: attributes before opset 11, optional inputs from 11 on.
    static func clipBounds(_ node: Node, _ inputs: [Tensor?], opset: Int) -> (Float, Float) {
        if opset < 11 { return (node.float("min", -.infinity), node.float("max", .infinity)) }
        let lo = inputs.count > 1 ? inputs[1]?.data.first ?? -.infinity : -.infinity
        let hi = inputs.count > 2 ? inputs[2]?.data.first ?? .infinity : .infinity
        return (lo, hi)
    }
}
