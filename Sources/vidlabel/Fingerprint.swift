import Foundation
import Labeling

/// The hash `batch` and `serve` put in every record: the options that change a
/// report, in a fixed order (not threads, jobs or output), and the model files'
/// sha256. `--resume` skips a file only when its record has the same one.
func reportFingerprint(_ o: ScanOptions, scanner: VideoScanner) -> String {
    SHA256.hex(of: Data((optionsKey(o) + scanner.modelHashes.joined(separator: ",")).utf8))
}

func optionsKey(_ o: ScanOptions) -> String {
    let s = o.sampling
    return ["v1", s.mode.name, "\(s.mode)", "\(s.minInterval)", "\(s.maxGap ?? -1)", "\(s.maxFrames ?? -1)",
            "\(s.start ?? -1)", "\(s.end ?? -1)", o.topicModel.name,
            o.thresholds.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            "\(o.minDuration)", "\(o.mergeGap)", "\(o.topK)", "\(o.includeFrames)",
            o.custom.map { "\($0.url.path)|\($0.preprocessing.rawValue)|\($0.inputSize)|\($0.labels.joined(separator: "\u{1}"))" } ?? ""]
        .joined(separator: ";")
        // Only a non-default list is in the key: records written before --analyzers existed still resume.
        + (o.analyzers == Analyzer.defaults ? "" : ";analyzers=" + o.analyzers.sorted().map(\.rawValue).joined(separator: ",") + ";faceWidth=\(o.faceImageWidth)")
        + (o.sampling.listShots ? ";shots" : "")
}
