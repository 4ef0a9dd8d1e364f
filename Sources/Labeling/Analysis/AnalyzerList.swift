import Foundation

/// What `scan` looks for (`--analyzers`). Moderation and topics are today's two
/// classifiers and always run; faces is MTCNN (three small nets, MIT weights);
/// cues are black frames, found in every decoded frame (so every frame is decoded).
/// The text and nudity analyzers are not built yet: naming one is an error, like
/// any unknown name, so a pipeline never believes it ran.
public enum Analyzer: String, CaseIterable, Sendable, Comparable {
    case moderation, topics, faces, cues

    public static let defaults: Set<Analyzer> = [.moderation, .topics]
    static let planned = ["text", "nudity"]

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
