import CFFmpeg

/// Still-image files from RGB pictures through libavcodec's own encoders (MJPEG
/// for JPEG, PNG with deflate), which the binary links anyway: thumbnails for HTML
/// reports, contact sheets, `frames --out`.
public enum ImageEncoder {
    /// A baseline JPEG (4:2:0, full range). `quality` 2 (best) ... 31 (smallest): FFmpeg's qscale.
    public static func jpeg(_ image: RGBImage, quality: Int = 5) throws -> [UInt8] {
        try encode(image, codec: AV_CODEC_ID_MJPEG, format: AV_PIX_FMT_YUVJ420P, qscale: max(2, min(31, quality)))
    }

    /// A PNG (8-bit RGB, deflate-compressed).
    public static func png(_ image: RGBImage) throws -> [UInt8] {
        try encode(image, codec: AV_CODEC_ID_PNG, format: AV_PIX_FMT_RGB24, qscale: nil)
    }

    private static func failure(_ what: String, _ code: Int32 = 0) -> VideoError {
        VideoError(file: "", category: .decodeFailed, reason: "cannot encode an image: \(what)\(code < 0 ? ": \(avErrorString(code))" : "")")
    }

    private static func encode(_ image: RGBImage, codec id: AVCodecID, format: AVPixelFormat, qscale: Int?) throws -> [UInt8] {
        guard image.width > 0, image.height > 0, image.width <= 16384, image.height <= 65535 else { throw failure("size \(image.width)x\(image.height)") }
        // JPEG 4:2:0 wants even sizes; the encoder pads internally, but swscale's chroma needs them.
        guard let codec = avcodec_find_encoder(id) else { throw failure("no encoder") }
        var ctx: UnsafeMutablePointer<AVCodecContext>? = avcodec_alloc_context3(codec)
        var frame: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
        var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
        defer { avcodec_free_context(&ctx); av_frame_free(&frame); av_packet_free(&packet) }
        guard let c = ctx, let f = frame, let p = packet else { throw failure("out of memory") }
        c.pointee.width = Int32(image.width)
        c.pointee.height = Int32(image.height)
        c.pointee.pix_fmt = format
        c.pointee.time_base = AVRational(num: 1, den: 25)
        c.pointee.color_range = AVCOL_RANGE_JPEG
        if let q = qscale {
            c.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            c.pointee.global_quality = Int32(q) * Int32(FF_QP2LAMBDA)
        }
        var code = avcodec_open2(c, codec, nil)
        guard code >= 0 else { throw failure("cannot open the encoder", code) }
        f.pointee.width = c.pointee.width
        f.pointee.height = c.pointee.height
        f.pointee.format = format.rawValue
        code = av_frame_get_buffer(f, 0)
        guard code >= 0 else { throw failure("no frame buffer", code) }
        if let q = qscale { f.pointee.quality = Int32(q) * Int32(FF_QP2LAMBDA) }
        // RGB24 (packed) into the encoder's pixel format.
        guard let sws = sws_getContext(c.pointee.width, c.pointee.height, AV_PIX_FMT_RGB24, c.pointee.width, c.pointee.height, format,
                                       SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil) else { throw failure("no converter") }
        defer { sws_freeContext(sws) }
        var dstPlanes = [f.pointee.data.0, f.pointee.data.1, f.pointee.data.2, f.pointee.data.3]
        var dstStrides = [f.pointee.linesize.0, f.pointee.linesize.1, f.pointee.linesize.2, f.pointee.linesize.3]
        // Full-range output for JPEG (yuvj formats are full range by definition).
        var inv: UnsafeMutablePointer<Int32>? = nil, table: UnsafeMutablePointer<Int32>? = nil
        var srcRange: Int32 = 0, dstRange: Int32 = 0, b: Int32 = 0, ct: Int32 = 0, sat: Int32 = 0
        if sws_getColorspaceDetails(sws, &inv, &srcRange, &table, &dstRange, &b, &ct, &sat) >= 0 {
            _ = sws_setColorspaceDetails(sws, inv, 1, table, 1, b, ct, sat)
        }
        let scaled = image.pixels.withUnsafeBufferPointer { px -> Int32 in
            var src: [UnsafePointer<UInt8>?] = [px.baseAddress, nil, nil, nil]
            var srcStride: [Int32] = [Int32(image.width * 3), 0, 0, 0]
            return sws_scale(sws, &src, &srcStride, 0, Int32(image.height), &dstPlanes, &dstStrides)
        }
        guard scaled > 0 else { throw failure("conversion failed", scaled) }
        code = avcodec_send_frame(c, f)
        guard code >= 0 else { throw failure("encoding failed", code) }
        code = avcodec_send_frame(c, nil)
        var out: [UInt8] = []
        while avcodec_receive_packet(c, p) >= 0 {
            out.append(contentsOf: UnsafeBufferPointer(start: p.pointee.data, count: Int(p.pointee.size)))
            av_packet_unref(p)
        }
        guard !out.isEmpty else { throw failure("the encoder produced nothing") }
        return out
    }
}

extension RGBImage {
    /// A copy blurred beyond recognition (three box blurs of radius `radius`, about
    /// a Gaussian): for thumbnails of frames a moderator should not see in full.
    public func blurred(radius: Int = 6) -> RGBImage {
        var out = self
        let r = max(1, radius)
        for _ in 0..<3 {
            out = out.boxBlurred(horizontal: true, radius: r).boxBlurred(horizontal: false, radius: r)
        }
        return out
    }

    private func boxBlurred(horizontal: Bool, radius r: Int) -> RGBImage {
        var dst = [UInt8](repeating: 0, count: pixels.count)
        let (outer, inner) = horizontal ? (height, width) : (width, height)
        pixels.withUnsafeBufferPointer { src in
            for o in 0..<outer {
                for c in 0..<3 {
                    func at(_ i: Int) -> Int {
                        let k = min(max(i, 0), inner - 1)
                        return horizontal ? (o * width + k) * 3 + c : (k * width + o) * 3 + c
                    }
                    var sum = 0
                    for i in -r...r { sum += Int(src[at(i)]) }
                    for i in 0..<inner {
                        dst[at(i)] = UInt8(sum / (2 * r + 1))
                        sum += Int(src[at(i + r + 1)]) - Int(src[at(i - r)])
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: dst)
    }
}
