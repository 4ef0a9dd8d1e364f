import Inference
import VideoIO

/// Planar float pictures and the "area" resampling MTCNN's pyramid and crops use
/// (PyTorch's `interpolate(mode="area")`, i.e. adaptive average pooling: output
/// pixel i averages input pixels floor(i*in/out) ..< ceil((i+1)*in/out)).
struct PlanarImage {
    let width: Int, height: Int
    /// Layout: [3][height][width], R, G, B planes, 0-255.
    var planes: [Float]

    init(width: Int, height: Int, planes: [Float]) {
        precondition(planes.count == 3 * width * height)
        (self.width, self.height, self.planes) = (width, height, planes)
    }

    init(_ image: RGBImage) {
        let n = image.width * image.height
        var planes = [Float](repeating: 0, count: 3 * n)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<n { for c in 0..<3 { planes[c * n + i] = Float(px[i * 3 + c]) } }
        }
        self.init(width: image.width, height: image.height, planes: planes)
    }

    /// The window x0..<x1, y0..<y1 (inside the picture, non-empty) resampled to
    /// `outW` x `outH` by area averaging, then mapped to MTCNN's input range
    /// (v - 127.5) / 128, appended to `into` as [3][outH][outW].
    func area(x0: Int, y0: Int, x1: Int, y1: Int, outW: Int, outH: Int, into out: inout [Float]) {
        let w = x1 - x0, h = y1 - y0
        precondition(w > 0 && h > 0 && x0 >= 0 && y0 >= 0 && x1 <= width && y1 <= height)
        // Layout: rows [3][h][outW], the horizontal pass.
        var rows = [Float](repeating: 0, count: 3 * h * outW)
        let xs = Self.bins(w, outW), ys = Self.bins(h, outH)
        let xInv = xs.map { 1 / Float($0.count) }, yInv = ys.map { 1 / Float($0.count) }
        planes.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for y in 0..<h {
                        let row = src.baseAddress! + (c * height + y0 + y) * width + x0
                        let out = dst.baseAddress! + (c * h + y) * outW
                        for i in 0..<outW {
                            var s: Float = 0
                            for x in xs[i] { s += row[x] }
                            out[i] = s * xInv[i]
                        }
                    }
                }
            }
        }
        let start = out.count
        out += [Float](repeating: 0, count: 3 * outH * outW)
        rows.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let base = dst.baseAddress! + start
                for c in 0..<3 {
                    for (j, bin) in ys.enumerated() {
                        let o = base + (c * outH + j) * outW
                        for y in bin {
                            let r = src.baseAddress! + (c * h + y) * outW
                            for i in 0..<outW { o[i] += r[i] }
                        }
                        // MTCNN's input range: (v - 127.5) / 128.
                        for i in 0..<outW { o[i] = (o[i] * yInv[j] - 127.5) * 0.0078125 }
                    }
                }
            }
        }
    }

    /// Adaptive-average-pool bins: output i covers floor(i*n/m) ..< ceil((i+1)*n/m).
    static func bins(_ n: Int, _ m: Int) -> [Range<Int>] {
        (0..<m).map { i in (i * n / m)..<(((i + 1) * n + m - 1) / m) }
    }
}
