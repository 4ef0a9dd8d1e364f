import CFFmpeg

/// When a frame counts as black. AWS Rekognition Video's `BlackFrame` filter
/// defines it, and so does ffmpeg's `blackdetect` with other defaults:
/// - a pixel is dark when its luma is at most `minimum + maxPixelThreshold × range`.
///   The range is the video's: 16–235 for limited range (most video), 0–255 for full
///   range, scaled to the bit depth. At 0.2 that is 59.8 in limited range and 51 in full.
/// - a frame is black when at least `minCoverage` of its pixels are dark.
public struct BlackFrameOptions: Sendable, Equatable {
    /// AWS's `MaxPixelThreshold` default (blackdetect's `pixel_black_th` is 0.10).
    public var maxPixelThreshold = 0.2
    /// AWS's `MinCoveragePercentage` default, 99 % (blackdetect's `picture_black_ratio_th` is 0.98).
    public var minCoverage = 0.99
    public init() {}
}

/// A run of black frames: from the first black frame's time to the time of the
/// first frame after the run (blackdetect's `black_start` and `black_end`), or to
/// the end of the last frame when the run reaches it.
public struct BlackSpan: Sendable, Equatable {
    public var startS: Double
    public var endS: Double
    /// The largest share of dark pixels in a frame of the run (at least `minCoverage`).
    public var darkFraction: Double
    /// The highest mean luma of a frame of the run, on a 0–1 scale of the video's range.
    public var meanLuma: Double
}

/// The luma statistics of one decoded frame.
struct LumaStats {
    /// Share of pixels at or under the dark threshold.
    var darkFraction: Double
    /// Mean luma, 0 (range minimum) to 1 (range maximum), clamped.
    var meanLuma: Double

    /// Reads the luma plane of `frame` where the pixel format has one (planar and
    /// semi-planar YUV, packed YUV, gray, at any depth up to 16 bits, little-endian).
    /// nil for RGB and palette formats, and big-endian ones: the caller measures
    /// an RGB picture of the frame instead (`init(rgb:)`).
    init?(frame f: UnsafeMutablePointer<AVFrame>, options: BlackFrameOptions) {
        guard let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: f.pointee.format)) else { return nil }
        let flags = desc.pointee.flags
        let unsupported = UInt64(AV_PIX_FMT_FLAG_RGB) | UInt64(AV_PIX_FMT_FLAG_PAL) | UInt64(AV_PIX_FMT_FLAG_HWACCEL)
            | UInt64(AV_PIX_FMT_FLAG_BE) | UInt64(AV_PIX_FMT_FLAG_BITSTREAM) | UInt64(AV_PIX_FMT_FLAG_FLOAT)
        guard flags & unsupported == 0, desc.pointee.nb_components >= 1 else { return nil }
        let luma = desc.pointee.comp.0
        let depth = Int(luma.depth), step = Int(luma.step), offset = Int(luma.offset), shift = Int(luma.shift)
        let plane = Int(luma.plane)
        guard (1...16).contains(depth), step >= 1, plane < 8 else { return nil }
        let width = Int(f.pointee.width), height = Int(f.pointee.height)
        // Bytes for depths up to 8 (step and offset are in bytes), little-endian 16-bit words above.
        let bytes = depth <= 8 && shift == 0
        guard width > 0, height > 0, let base = withUnsafePointer(to: f.pointee.data, { p in
            p.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0[plane] }
        }) else { return nil }
        let stride = withUnsafePointer(to: f.pointee.linesize) { p in
            p.withMemoryRebound(to: Int32.self, capacity: 8) { Int($0[plane]) }
        }
        // Full range for yuvj* and for gray without a range, limited otherwise.
        let isGray = desc.pointee.nb_components < 3
        let range = f.pointee.color_range
        let full = range == AVCOL_RANGE_JPEG || String(cString: desc.pointee.name).hasPrefix("yuvj")
            || (isGray && range != AVCOL_RANGE_MPEG)
        let scale = Double(1 << (depth - 8 > 0 ? depth - 8 : 0))
        let low = full ? 0.0 : 16 * scale
        let span = full ? Double((1 << depth) - 1) : 219 * scale
        let threshold = Int((low + options.maxPixelThreshold * span).rounded(.down))
        var dark = 0, sum = 0
        for y in 0..<height {
            let row = base + y * stride + offset
            if bytes {
                for x in 0..<width {
                    let v = Int(row[x * step])
                    sum &+= v
                    dark &+= v <= threshold ? 1 : 0
                }
            } else {
                let mask = (1 << depth) - 1
                for x in 0..<width {
                    let p = row + x * step
                    let v = ((Int(p[0]) | Int(p[1]) << 8) >> shift) & mask
                    sum &+= v
                    dark &+= v <= threshold ? 1 : 0
                }
            }
        }
        let n = Double(width * height)
        darkFraction = Double(dark) / n
        meanLuma = min(1, max(0, (Double(sum) / n - low) / span))
    }

    /// From an RGB picture of the frame (full range), with BT.601 luma.
    init(rgb: RGBImage, options: BlackFrameOptions) {
        let threshold = options.maxPixelThreshold * 255
        var dark = 0
        var sum = 0.0
        rgb.pixels.withUnsafeBufferPointer { px in
            var i = 0
            while i + 2 < px.count {
                let y = 0.299 * Double(px[i]) + 0.587 * Double(px[i + 1]) + 0.114 * Double(px[i + 2])
                sum += y
                if y <= threshold { dark += 1 }
                i += 3
            }
        }
        let n = Double(max(1, rgb.width * rgb.height))
        darkFraction = Double(dark) / n
        meanLuma = min(1, sum / n / 255)
    }
}

/// Turns per-frame luma statistics into runs of black frames.
struct BlackFrameDetector {
    let options: BlackFrameOptions
    private(set) var spans: [BlackSpan] = []
    private var open: BlackSpan? = nil

    init(options: BlackFrameOptions) { self.options = options }

    /// One frame, in presentation order, starting at `time` and lasting until `end`.
    mutating func process(_ stats: LumaStats, time: Double, end: Double) {
        if stats.darkFraction >= options.minCoverage {
            if var run = open {
                run.endS = end
                run.darkFraction = max(run.darkFraction, stats.darkFraction)
                run.meanLuma = max(run.meanLuma, stats.meanLuma)
                open = run
            } else {
                open = BlackSpan(startS: time, endS: end, darkFraction: stats.darkFraction, meanLuma: stats.meanLuma)
            }
        } else if var run = open {
            // blackdetect's black_end: the time of the first frame that is not black.
            run.endS = time
            spans.append(run)
            open = nil
        }
    }

    /// Closes a run that reaches the last frame.
    mutating func finish() {
        if let run = open { spans.append(run) }
        open = nil
    }
}
