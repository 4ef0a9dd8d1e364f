import CFFmpeg

/// How a frame is fitted into the requested output size. All modes work on the
/// upright picture (rotation and sample aspect ratio applied).
public enum ResizeMode: Sendable, Equatable {
    /// Scale the whole picture to the output size, ignoring aspect ratio.
    case stretch
    /// Take the centred square (or output-aspect) region whose shorter side is
    /// `fraction` of the picture's shorter side, and scale it to the output.
    /// `fraction` 1 is "shorter side + centre crop"; 0.875 is the usual
    /// ImageNet "resize 256, crop 224".
    case centerCrop(fraction: Double)
    /// Stretch the centred region covering `fraction` of each dimension
    /// (Caffe's "resize to 256x256, crop 224": fraction 0.875).
    case centralRegion(fraction: Double)
    /// Scale to fit inside the output, keeping aspect ratio, padding with black.
    case letterbox
    /// As `letterbox`, with the picture in the top-left corner and the padding right
    /// and below (YOLO-style detectors' input: NudeNet pads so).
    case letterboxTopLeft

    /// Parses `stretch`, `crop`, `crop:0.875`, `region:0.875`, `letterbox`.
    public init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let fraction = parts.count > 1 ? Double(parts[1]) : nil
        // NaN compares false both ways: test for the accepted range, not against it.
        if parts.count > 1 && !(fraction.map { $0 > 0 && $0 <= 1 } ?? false) { return nil }
        switch parts[0] {
        case "stretch" where parts.count == 1: self = .stretch
        case "crop": self = .centerCrop(fraction: fraction ?? 1)
        case "region": self = .centralRegion(fraction: fraction ?? 1)
        case "letterbox" where parts.count == 1: self = .letterbox
        default: return nil
        }
    }
}

/// swscale's interpolation filters that matter for classifiers.
public enum Interpolation: Sendable, Equatable {
    case bilinear, bicubic, area

    var swsFlag: Int32 {
        switch self {
        case .bilinear: return SWS_BILINEAR
        case .bicubic: return SWS_BICUBIC
        case .area: return SWS_AREA
        }
    }
}

/// One picture wanted from every sampled frame.
public struct ImageRequest: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var mode: ResizeMode
    public var interpolation: Interpolation

    public init(width: Int, height: Int, mode: ResizeMode = .centerCrop(fraction: 1), interpolation: Interpolation = .bicubic) {
        self.width = width
        self.height = height
        self.mode = mode
        self.interpolation = interpolation
    }

    /// A whole-picture thumbnail `width` pixels wide with the video's display
    /// aspect (height even, at most 4× the width): for HTML reports and contact sheets.
    public static func thumbnail(width: Int, of info: VideoInfo) -> ImageRequest {
        let aspect = Double(info.displayHeight) / Double(max(1, info.displayWidth))
        let h = min(4 * width, max(2, Int((Double(width) * aspect / 2).rounded()) * 2))
        return ImageRequest(width: width, height: h, mode: .stretch, interpolation: .area)
    }
}

/// Converts decoded frames (any pixel format, any bit depth) to upright RGB24
/// with swscale. Keeps one cached `SwsContext` per request; freed in `deinit`.
final class FrameConverter {
    private var contexts: [Int: OpaquePointer] = [:]
    let rotation: Int
    let sar: Double

    init(rotation: Int, sampleAspectRatio: Rational) {
        self.rotation = rotation
        let v = sampleAspectRatio.value
        self.sar = v > 0 ? v : 1
    }

    deinit {
        for (_, ctx) in contexts { sws_freeContext(ctx) }
    }

    /// Converts `frame` as `request` asks; `slot` keys the cached scaler.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, _ request: ImageRequest, slot: Int) throws -> RGBImage {
        let codedW = Double(frame.pointee.width), codedH = Double(frame.pointee.height)
        // Work in "upright" coordinates: coded pixels widened by the SAR, then rotated.
        let sarW = codedW * sar
        let turned = rotation % 180 != 0
        let (uprightW, uprightH) = turned ? (codedH, sarW) : (sarW, codedH)
        let outW = Double(request.width), outH = Double(request.height)

        // Crop rectangle in upright coordinates, and where the scaled picture lands in the output.
        var rx = 0.0, ry = 0.0, rw = uprightW, rh = uprightH
        var placeW = request.width, placeH = request.height, placeX = 0, placeY = 0
        switch request.mode {
        case .stretch:
            break
        case .centralRegion(let f):
            rw = uprightW * f; rh = uprightH * f
            rx = (uprightW - rw) / 2; ry = (uprightH - rh) / 2
        case .centerCrop(let f):
            // Largest region of the output's aspect ratio, shrunk by f, centred.
            let scale = min(uprightW / outW, uprightH / outH) * f
            rw = outW * scale; rh = outH * scale
            rx = (uprightW - rw) / 2; ry = (uprightH - rh) / 2
        case .letterbox, .letterboxTopLeft:
            let scale = min(outW / uprightW, outH / uprightH)
            placeW = max(1, Int((uprightW * scale).rounded()))
            placeH = max(1, Int((uprightH * scale).rounded()))
            if request.mode == .letterbox {
                placeX = (request.width - placeW) / 2
                placeY = (request.height - placeH) / 2
            }
        }

        // Map the upright rectangle back to coded (SAR-widened) coordinates.
        var cx = rx, cy = ry, cw = rw, ch = rh
        switch rotation {
        case 90: cx = ry; cw = rh; cy = codedH - (rx + rw); ch = rw
        case 180: cx = sarW - (rx + rw); cy = codedH - (ry + rh)
        case 270: cx = sarW - (ry + rh); cw = rh; cy = rx; ch = rw
        default: break
        }
        // SAR-widened x back to coded pixels.
        cx /= sar; cw /= sar

        let left = max(0, Int(cx.rounded()))
        let top = max(0, Int(cy.rounded()))
        let right = max(0, Int(codedW) - left - max(1, Int(cw.rounded())))
        let bottom = max(0, Int(codedH) - top - max(1, Int(ch.rounded())))

        // Scale target in coded orientation.
        let (tw, th) = turned ? (placeH, placeW) : (placeW, placeH)

        guard let cropped = av_frame_clone(frame) else {
            throw VideoError(file: "", category: .decodeFailed, reason: "out of memory cloning a frame")
        }
        var croppedOpt: UnsafeMutablePointer<AVFrame>? = cropped
        defer { av_frame_free(&croppedOpt) }
        cropped.pointee.crop_left = left
        cropped.pointee.crop_right = right
        cropped.pointee.crop_top = top
        cropped.pointee.crop_bottom = bottom
        let cropCode = av_frame_apply_cropping(cropped, Int32(AV_FRAME_CROP_UNALIGNED))
        if cropCode < 0 {
            throw VideoError(file: "", category: .decodeFailed, reason: "cannot crop frame: \(avErrorString(cropCode))")
        }

        let srcFormat = AVPixelFormat(cropped.pointee.format)
        let ctx = sws_getCachedContext(contexts[slot], cropped.pointee.width, cropped.pointee.height, srcFormat,
                                       Int32(tw), Int32(th), AV_PIX_FMT_RGB24,
                                       request.interpolation.swsFlag | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil)
        guard let sws = ctx else {
            throw VideoError(file: "", category: .decodeFailed, reason: "swscale cannot convert pixel format \(srcFormat.rawValue)")
        }
        contexts[slot] = sws
        configureColorspace(sws, cropped)

        // Layout: [th][tw][3], rows padded to `stride`; swscale's SIMD paths write in blocks.
        let stride = (tw * 3 + 63) & ~63
        var scaled = [UInt8](repeating: 0, count: stride * th + 64)
        let srcData = planes(cropped)
        let srcStride = strides(cropped)
        let code = scaled.withUnsafeMutableBufferPointer { dst -> Int32 in
            var dstPlanes: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(stride), 0, 0, 0]
            return srcData.withUnsafeBufferPointer { s in
                srcStride.withUnsafeBufferPointer { ss in
                    sws_scale(sws, s.baseAddress, ss.baseAddress, 0, cropped.pointee.height, &dstPlanes, &dstStride)
                }
            }
        }
        if code <= 0 {
            throw VideoError(file: "", category: .decodeFailed, reason: "swscale failed: \(avErrorString(code))")
        }
        var packed = [UInt8](repeating: 0, count: tw * th * 3)
        for y in 0..<th {
            packed.withUnsafeMutableBufferPointer { p in
                scaled.withUnsafeBufferPointer { s in
                    (p.baseAddress! + y * tw * 3).update(from: s.baseAddress! + y * stride, count: tw * 3)
                }
            }
        }
        let upright = RGBImage(width: tw, height: th, pixels: packed).rotated(clockwise: rotation)
        if placeW == request.width && placeH == request.height { return upright }
        // Letterbox: paste into a black canvas.
        var canvas = RGBImage(width: request.width, height: request.height)
        for y in 0..<placeH {
            let d = ((y + placeY) * request.width + placeX) * 3
            canvas.pixels.replaceSubrange(d..<(d + placeW * 3), with: upright.pixels[(y * placeW * 3)..<((y + 1) * placeW * 3)])
        }
        return canvas
    }

    /// YUV→RGB matrix and range from the frame's tags (BT.601 when untagged,
    /// as swscale assumes), so HD BT.709 video does not come out with shifted colours.
    private func configureColorspace(_ sws: OpaquePointer, _ f: UnsafeMutablePointer<AVFrame>) {
        var invTable: UnsafeMutablePointer<Int32>? = nil
        var table: UnsafeMutablePointer<Int32>? = nil
        var srcRange: Int32 = 0, dstRange: Int32 = 0, brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(sws, &invTable, &srcRange, &table, &dstRange, &brightness, &contrast, &saturation) >= 0 else { return }
        let space: Int32
        switch f.pointee.colorspace {
        case AVCOL_SPC_BT709: space = SWS_CS_ITU709
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: space = SWS_CS_BT2020
        case AVCOL_SPC_SMPTE240M: space = SWS_CS_SMPTE240M
        case AVCOL_SPC_FCC: space = SWS_CS_FCC
        default: space = SWS_CS_DEFAULT
        }
        let coefficients = sws_getCoefficients(space)
        let full: Int32 = f.pointee.color_range == AVCOL_RANGE_JPEG ? 1 : srcRange
        _ = sws_setColorspaceDetails(sws, coefficients, full, coefficients, 1, brightness, contrast, saturation)
    }
}

func planes(_ f: UnsafeMutablePointer<AVFrame>) -> [UnsafePointer<UInt8>?] {
    let d = f.pointee.data
    return [d.0, d.1, d.2, d.3, d.4, d.5, d.6, d.7].map { $0.map { UnsafePointer($0) } }
}

func strides(_ f: UnsafeMutablePointer<AVFrame>) -> [Int32] {
    let l = f.pointee.linesize
    return [l.0, l.1, l.2, l.3, l.4, l.5, l.6, l.7]
}
