import ArgumentParser
import Foundation
import Labeling
import VideoIO

struct Frames: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one JSON line per sampled frame; with --out, save each frame as a PNG; with --contact-sheet, one image of them all.")

    @Argument(help: "A video file.")
    var file: String

    @OptionGroup var sampling: SamplingArguments

    @Option(help: "Output picture size in pixels (square), or WxH.")
    var size: String = "224"

    @Option(help: "stretch | crop[:FRACTION] | region[:FRACTION] | letterbox.")
    var resize: String = "crop"

    @Option(help: "Write each sampled frame as a PNG into this folder.")
    var out: String?

    @Option(help: "Write one image of every sampled frame with its time under it (JPEG, or PNG when the name ends in .png).")
    var contactSheet: String?

    @Option(parsing: .unconditional, help: "Contact sheet tiles per row.")
    var columns: Int = 6

    @Option(parsing: .unconditional, help: "Contact sheet tile width in pixels (the height keeps the video's aspect).")
    var tileWidth: Int = 160

    func validate() throws {
        try checkPictureSize(size, "--size")
        guard ResizeMode(argument: resize) != nil else {
            throw ValidationError("--resize must be stretch, crop[:F], region[:F] or letterbox, with 0 < F <= 1, got '\(resize)'")
        }
        if let out { try checkOutputFolder(out, option: "--out") }
        if let contactSheet { try checkOutputFile(contactSheet, option: "--contact-sheet") }
        try check(columns, "--columns", in: 1...64)
        try check(tileWidth, "--tile-width", in: 32...640)
    }

    var parsedSize: (Int, Int)? { pictureSize(size) }

    struct FrameRecord: Encodable {
        let index: Int
        let time_s: Double
        let pts: Int64
        let time_base: String
        let key_frame: Bool
        let pict_type: String
        let png: String?
    }

    func run() throws {
        let (w, h) = parsedSize!
        let request = ImageRequest(width: w, height: h, mode: ResizeMode(argument: resize)!)
        if let dir = out {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        do {
            let video = try VideoFile(path: file)
            // The contact sheet's tiles come from the same decode: one more scaled picture per frame.
            let tileRequest = ImageRequest.thumbnail(width: tileWidth, of: video.info)
            var sheet = contactSheet.map { _ in ContactSheet(columns: columns, tileWidth: tileRequest.width, tileHeight: tileRequest.height) }
            var sheetOverflow = 0
            // Frames are always converted (what `make bench` times against ffmpeg's scale), saved only with --out.
            let sampler = try FrameSampler(file: video, options: sampling.options,
                                           outputs: sheet == nil ? [request] : [request, tileRequest])
            while let frame = try sampler.next() {
                var png: String? = nil
                if let dir = out {
                    let name = String(format: "frame_%05d_%.3fs.png", frame.index, frame.timeS)
                    let path = (dir as NSString).appendingPathComponent(name)
                    try writeAtomically(Data(try frame.images[0].pngData()), to: path)
                    png = path
                }
                if sheet != nil, !sheet!.add(frame.images[1], caption: timecode(frame.timeS) + (frame.keyFrame ? " K" : "")) {
                    sheetOverflow += 1
                }
                let record = FrameRecord(index: frame.index, time_s: (frame.timeS * 1e6).rounded() / 1e6, pts: frame.pts,
                                         time_base: frame.timeBase.description, key_frame: frame.keyFrame,
                                         pict_type: frame.pictType, png: png)
                Output.writeLine(try jsonLine(record))
            }
            for w in sampler.warnings {
                printError("\(file): warning: \(w.message)\(w.timeS.map { String(format: " at %.3fs", $0) } ?? "") (\(w.category))")
            }
            if let sheet, let path = contactSheet {
                if sheetOverflow > 0 {
                    printError("\(file): warning: the contact sheet holds the first \(sheet.capacity) frames; \(sheetOverflow) more were sampled (use --max-frames or --sample interval:S)")
                }
                let image = sheet.render()
                let bytes = path.lowercased().hasSuffix(".png") ? try ImageEncoder.png(image) : try ImageEncoder.jpeg(image, quality: 4)
                try writeAtomically(Data(bytes), to: path)
            }
        } catch let e as VideoError {
            printError("\(e)")
            throw InputFailure()
        }
    }
}
