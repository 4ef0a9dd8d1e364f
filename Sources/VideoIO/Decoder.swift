import CFFmpeg

/// The video stream's decoder. Owns the `AVCodecContext`, a packet and a
/// frame; all freed in `deinit`.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let packet: UnsafeMutablePointer<AVPacket>
    let frame: UnsafeMutablePointer<AVFrame>
    /// True for codecs where every frame is a keyframe (MJPEG, ProRes...).
    let intraOnly: Bool

    init(file: VideoFile, threads: Int, skipNonKey: Bool) throws {
        let par = file.stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw VideoError(file: file.path, category: .decodeFailed,
                             reason: "no decoder for codec \(String(cString: avcodec_get_name(par.pointee.codec_id)))")
        }
        guard let ctx = avcodec_alloc_context3(codec), let pkt = av_packet_alloc(), let frm = av_frame_alloc() else {
            throw VideoError(file: file.path, category: .decodeFailed, reason: "out of memory")
        }
        context = ctx; packet = pkt; frame = frm
        let desc = avcodec_descriptor_get(par.pointee.codec_id)
        intraOnly = desc.map { $0.pointee.props & AV_CODEC_PROP_INTRA_ONLY != 0 } ?? false
        var code = avcodec_parameters_to_context(ctx, par)
        if code >= 0 {
            ctx.pointee.pkt_timebase = file.stream.pointee.time_base
            ctx.pointee.thread_count = Int32(threads)
            // Keyframe sampling: the decoder drops everything but key frames.
            // NONKEY (not NONINTRA): H.264/HEVC open-GOP I frames that are not
            // random-access points would need earlier references.
            if skipNonKey { ctx.pointee.skip_frame = AVDISCARD_NONKEY }
            code = avcodec_open2(ctx, codec, nil)
        }
        if code < 0 {
            throw VideoError(file: file.path, category: .decodeFailed, reason: "cannot open decoder: \(avErrorString(code))")
        }
    }

    deinit {
        var c: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&c)
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
    }

    func flush() { avcodec_flush_buffers(context) }
}
