/// A shot: from its first frame's time to the next shot's first frame, or to the
/// end of the last frame for the last shot.
public struct ShotSpan: Sendable, Equatable {
    public var startS: Double
    public var endS: Double
}

/// PySceneDetect's content detector: a cut where the mean HSV difference of two
/// consecutive downscaled frames reaches `threshold` (0–255 scale), at least
/// `minSceneFrames` frames after the previous cut. The first frame starts the first shot.
/// It drives `--sample scenes` (a sampled frame per shot) and the report's shot list.
struct ShotDetector {
    let threshold: Double
    let minSceneFrames: Int
    private var previous: [UInt8]? = nil
    private var framesSinceCut = 0
    /// Shots closed so far; the open one is `current`.
    private(set) var shots: [ShotSpan] = []
    private var current: ShotSpan? = nil

    init(threshold: Double, minSceneFrames: Int) {
        self.threshold = threshold
        self.minSceneFrames = minSceneFrames
    }

    /// The width of the picture the detector compares (PySceneDetect downscales too).
    static let signatureWidth = 96

    /// One frame in presentation order, starting at `time` and lasting until `end`,
    /// as `hsvSignature` gives it. True when it starts a shot.
    mutating func process(_ hsv: [UInt8], time: Double, end: Double) -> Bool {
        framesSinceCut += 1
        defer { previous = hsv }
        let cut: Bool
        if let previous {
            cut = framesSinceCut >= minSceneFrames && Self.contentScore(previous, hsv) >= threshold
        } else {
            cut = true
        }
        if cut {
            framesSinceCut = 0
            if var shot = current {
                shot.endS = time
                shots.append(shot)
            }
            current = ShotSpan(startS: time, endS: end)
        } else {
            current?.endS = end
        }
        return cut
    }

    /// Closes the last shot.
    mutating func finish() {
        if let shot = current { shots.append(shot) }
        current = nil
    }

    /// The picture as HSV (OpenCV's 8-bit convention: H in 0-179). Integer
    /// arithmetic with the same results as the floating-point formula
    /// (H = round(hue / 2), hue in degrees): every frame of a scenes scan passes
    /// here, and a file may list a million tiny frames.
    static func hsvSignature(_ rgb: RGBImage) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: rgb.pixels.count) { hsv, initialized in
            rgb.pixels.withUnsafeBufferPointer { px in
                var i = 0
                while i + 2 < px.count {
                    let r = Int(px[i]), g = Int(px[i + 1]), b = Int(px[i + 2])
                    let v = max(r, g, b), d = v - min(r, g, b)
                    var hue = 0
                    if d > 0 {
                        // hue / 2 as n / d: 30 (g - b) / d, 60 + 30 (b - r) / d or 120 + 30 (r - g) / d.
                        var n = v == r ? 30 * (g - b) : v == g ? 60 * d + 30 * (b - r) : 120 * d + 30 * (r - g)
                        if n < 0 { n += 180 * d }
                        hue = min(179, (2 * n + d) / (2 * d))
                    }
                    hsv[i] = UInt8(truncatingIfNeeded: hue)
                    hsv[i + 1] = UInt8(truncatingIfNeeded: v == 0 ? 0 : (255 * d + v / 2) / v)
                    hsv[i + 2] = UInt8(truncatingIfNeeded: v)
                    i += 3
                }
            }
            initialized = rgb.pixels.count
        }
    }

    /// Mean absolute difference over H, S and V, averaged over the three channels.
    static func contentScore(_ a: [UInt8], _ b: [UInt8]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        let sum = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var total = 0
                for i in 0..<pa.count { total &+= Int(pa[i] > pb[i] ? pa[i] &- pb[i] : pb[i] &- pa[i]) }
                return total
            }
        }
        return Double(sum) / Double(a.count)
    }
}
