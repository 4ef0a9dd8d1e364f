import Foundation

/// A text region: a rotated rectangle, corners clockwise from the top left, in
/// the pixels of the picture detection ran on.
struct Quad: Equatable {
    var points: [(x: Double, y: Double)]

    static func == (a: Quad, b: Quad) -> Bool {
        zip(a.points, b.points).allSatisfy { $0.x == $1.x && $0.y == $1.y }
    }

    /// The axis-aligned bounds (x0, y0, x1, y1).
    var bounds: (x0: Double, y0: Double, x1: Double, y1: Double) {
        (points.map(\.x).min()!, points.map(\.y).min()!, points.map(\.x).max()!, points.map(\.y).max()!)
    }
}

/// PP-OCR's detector output to text boxes: Differentiable Binarization's
/// post-processing as PaddleOCR (and rapidocr) do it, written here:
/// - pixels over `threshold` (0.3), dilated by a 2x2 square;
/// - each connected region (8-neighbours; at most `maxCandidates`) becomes its
///   minimum-area rectangle; regions thinner than 3 px are dropped;
/// - its score is the mean probability inside the rectangle; under `boxThreshold`
///   (0.5) it is dropped;
/// - the rectangle grows on every side by area x `unclipRatio` (1.6) / perimeter
///   (the text's full extent: the detector marks a shrunk core), then must be at
///   least 5 px thick, and at least 4 px in both sides once clipped to the picture.
struct TextBoxFinder {
    var threshold: Float = 0.3
    var boxThreshold: Double = 0.5
    var unclipRatio = 1.6
    var maxCandidates = 1000

    /// prob: the detector's map [height][width] (the picture's own size).
    /// Returns the boxes and their scores, in reading order (top to bottom, then left to right).
    func boxes(_ prob: UnsafeBufferPointer<Float>, width: Int, height: Int) -> [(quad: Quad, score: Double)] {
        // Threshold, then dilate: a pixel is on when it or its left, upper or upper-left neighbour is.
        var mask = [Bool](repeating: false, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                var on = prob[y * width + x] > threshold
                if !on && x > 0 { on = prob[y * width + x - 1] > threshold }
                if !on && y > 0 { on = prob[(y - 1) * width + x] > threshold }
                if !on && x > 0 && y > 0 { on = prob[(y - 1) * width + x - 1] > threshold }
                mask[y * width + x] = on
            }
        }
        var found: [(quad: Quad, score: Double)] = []
        var seen = [Bool](repeating: false, count: width * height)
        var stack: [Int] = []
        var candidates = 0
        for start in 0..<(width * height) where mask[start] && !seen[start] {
            guard candidates < maxCandidates else { break }
            candidates += 1
            // The region's leftmost and rightmost pixel per row: its convex hull's candidates.
            var rows: [Int: (Int, Int)] = [:]
            seen[start] = true
            stack.append(start)
            while let p = stack.popLast() {
                let x = p % width, y = p / width
                rows[y] = rows[y].map { (min($0.0, x), max($0.1, x)) } ?? (x, x)
                for dy in -1...1 {
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, nx < width, ny >= 0, ny < height else { continue }
                        let q = ny * width + nx
                        if mask[q] && !seen[q] { seen[q] = true; stack.append(q) }
                    }
                }
            }
            var points: [(Double, Double)] = []
            for (y, (x0, x1)) in rows { points.append((Double(x0), Double(y))); if x1 != x0 { points.append((Double(x1), Double(y))) } }
            guard let rect = MinAreaRect(points: points), rect.shortSide >= 3 else { continue }
            let score = meanInside(prob, width: width, height: height, rect.corners)
            guard score >= boxThreshold else { continue }
            let grown = rect.grown(by: rect.area * unclipRatio / rect.perimeter)
            guard grown.shortSide >= 5 else { continue }
            // To the picture, rounded and clipped like the reference.
            let corners = grown.corners.map { (x: min(max($0.0.rounded(), 0), Double(width)), y: min(max($0.1.rounded(), 0), Double(height))) }
            let quad = Quad(points: clockwise(corners).map { (x: min(max($0.x, 0), Double(width - 1)), y: min(max($0.y, 0), Double(height - 1))) })
            let w = Int(hypot(quad.points[0].x - quad.points[1].x, quad.points[0].y - quad.points[1].y))
            let h = Int(hypot(quad.points[0].x - quad.points[3].x, quad.points[0].y - quad.points[3].y))
            guard w > 3, h > 3 else { continue }
            found.append((quad, score))
        }
        return readingOrder(found)
    }

    /// The mean of `prob` over the pixels whose centres lie in the convex polygon `corners`.
    func meanInside(_ prob: UnsafeBufferPointer<Float>, width: Int, height: Int, _ corners: [(Double, Double)]) -> Double {
        let xs = corners.map(\.0), ys = corners.map(\.1)
        let x0 = max(0, Int(xs.min()!.rounded(.down))), x1 = min(width - 1, Int(xs.max()!.rounded(.up)))
        let y0 = max(0, Int(ys.min()!.rounded(.down))), y1 = min(height - 1, Int(ys.max()!.rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return 0 }
        var sum = 0.0, n = 0
        for y in y0...y1 {
            for x in x0...x1 where inside(Double(x), Double(y), corners) {
                sum += Double(prob[y * width + x])
                n += 1
            }
        }
        return n == 0 ? 0 : sum / Double(n)
    }

    /// Whether (x, y) is in the convex polygon (either winding), edges included.
    func inside(_ x: Double, _ y: Double, _ poly: [(Double, Double)]) -> Bool {
        var sign = 0.0
        for i in poly.indices {
            let (ax, ay) = poly[i], (bx, by) = poly[(i + 1) % poly.count]
            let cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
            if abs(cross) < 1e-9 { continue }
            if sign == 0 { sign = cross } else if (sign > 0) != (cross > 0) { return false }
        }
        return true
    }

    /// Top-left, top-right, bottom-right, bottom-left: the two leftmost points by y,
    /// then the two rightmost by y.
    func clockwise(_ p: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        let byX = p.sorted { ($0.x, $0.y) < ($1.x, $1.y) }
        let left = byX[0..<2].sorted { $0.y < $1.y }, right = byX[2..<4].sorted { $0.y < $1.y }
        return [left[0], right[0], right[1], left[1]]
    }

    /// Sorted by their top-left corner, top to bottom; boxes on one line (tops within
    /// 10 px) left to right.
    func readingOrder(_ boxes: [(quad: Quad, score: Double)]) -> [(quad: Quad, score: Double)] {
        var out = boxes.sorted { ($0.quad.points[0].y, $0.quad.points[0].x) < ($1.quad.points[0].y, $1.quad.points[0].x) }
        guard out.count > 1 else { return out }
        for i in 0..<(out.count - 1) {
            var j = i
            while j >= 0 && abs(out[j + 1].quad.points[0].y - out[j].quad.points[0].y) < 10
                    && out[j + 1].quad.points[0].x < out[j].quad.points[0].x {
                out.swapAt(j, j + 1)
                j -= 1
            }
        }
        return out
    }
}

/// The minimum-area rectangle around a set of points (rotating calipers over
/// their convex hull), as OpenCV's minAreaRect gives it.
struct MinAreaRect {
    var center: (Double, Double)
    /// Side lengths along `axis` and across it.
    var size: (Double, Double)
    /// Unit vector of the first side.
    var axis: (Double, Double)

    var shortSide: Double { min(size.0, size.1) }
    var area: Double { size.0 * size.1 }
    var perimeter: Double { 2 * (size.0 + size.1) }

    /// nil for fewer than one point.
    init?(points: [(Double, Double)]) {
        let hull = MinAreaRect.hull(points)
        guard !hull.isEmpty else { return nil }
        if hull.count < 3 {
            // A point or a segment: no area.
            let a = hull[0], b = hull.last!
            let len = hypot(b.0 - a.0, b.1 - a.1)
            center = ((a.0 + b.0) / 2, (a.1 + b.1) / 2)
            size = (len, 0)
            axis = len > 0 ? ((b.0 - a.0) / len, (b.1 - a.1) / len) : (1, 0)
            return
        }
        var best: (area: Double, center: (Double, Double), size: (Double, Double), axis: (Double, Double))? = nil
        for i in hull.indices {
            let a = hull[i], b = hull[(i + 1) % hull.count]
            let len = hypot(b.0 - a.0, b.1 - a.1)
            guard len > 0 else { continue }
            let u = ((b.0 - a.0) / len, (b.1 - a.1) / len), v = (-u.1, u.0)
            var (lo, hi, lo2, hi2) = (Double.infinity, -Double.infinity, Double.infinity, -Double.infinity)
            for p in hull {
                let s = p.0 * u.0 + p.1 * u.1, t = p.0 * v.0 + p.1 * v.1
                lo = min(lo, s); hi = max(hi, s); lo2 = min(lo2, t); hi2 = max(hi2, t)
            }
            let area = (hi - lo) * (hi2 - lo2)
            if best.map({ area < $0.area - 1e-9 }) ?? true {
                let cs = (lo + hi) / 2, ct = (lo2 + hi2) / 2
                best = (area, (cs * u.0 + ct * v.0, cs * u.1 + ct * v.1), (hi - lo, hi2 - lo2), u)
            }
        }
        guard let best else { return nil }
        (center, size, axis) = (best.center, best.size, best.axis)
    }

    /// The same rectangle with `d` added on every side.
    func grown(by d: Double) -> MinAreaRect {
        var r = self
        r.size = (size.0 + 2 * d, size.1 + 2 * d)
        return r
    }

    /// The four corners.
    var corners: [(Double, Double)] {
        let u = axis, v = (-axis.1, axis.0), hu = size.0 / 2, hv = size.1 / 2
        return [(-1.0, -1.0), (1, -1), (1, 1), (-1, 1)].map { su, sv in
            (center.0 + su * hu * u.0 + sv * hv * v.0, center.1 + su * hu * u.1 + sv * hv * v.1)
        }
    }

    /// Andrew's monotone chain; collinear points dropped.
    static func hull(_ points: [(Double, Double)]) -> [(Double, Double)] {
        let p = points.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        guard p.count > 2 else { return p }
        func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
            (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
        }
        var lower: [(Double, Double)] = [], upper: [(Double, Double)] = []
        for q in p {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], q) <= 0 { lower.removeLast() }
            lower.append(q)
        }
        for q in p.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], q) <= 0 { upper.removeLast() }
            upper.append(q)
        }
        return Array(lower.dropLast() + upper.dropLast())
    }
}
