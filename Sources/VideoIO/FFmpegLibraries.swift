import CFFmpeg

/// The FFmpeg libraries this binary runs with (their run-time versions, which
/// may differ from the headers it was built against), for `vidlabel --version`.
public enum FFmpegLibraries {
    public static var versions: [(name: String, version: String)] {
        func text(_ v: UInt32) -> String { "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)" }
        return [("libavformat", text(avformat_version())), ("libavcodec", text(avcodec_version())),
                ("libswscale", text(swscale_version())), ("libavutil", text(avutil_version()))]
    }
}
