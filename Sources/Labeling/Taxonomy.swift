/// A moderation label: how its per-frame score is computed and when it flags.
public struct ModerationLabel: Sendable {
    public enum Source: Sendable {
        /// open_nsfw's nsfw probability.
        case nsfw
        /// Sum of the topic model's ImageNet class probabilities over these classes.
        case imagenetClasses([Int])
    }
    public let name: String
    public let source: Source
    /// A frame whose score is at or above this flags the label.
    public let defaultThreshold: Double
}

/// The moderation taxonomy. Class lists reviewed against the ImageNet names:
/// - weapons: cleaver (499) and hatchet (596) were dropped (kitchen and camping
///   tools: cooking videos would flag); bow (456) and scabbard (777) added.
/// - alcohol: goblet (572) kept: mostly wine glasses in ImageNet.
/// - drugs: syringe and pill bottle also cover medical scenes; the threshold is high.
/// Thresholds on summed ImageNet probabilities: 0.4-0.5 means the classifier's
/// mass is clearly on those classes. `sexual` uses open_nsfw's own guidance
/// (< 0.2 safe, > 0.8 NSFW).
public enum Taxonomy {
    public static let moderation: [ModerationLabel] = [
        ModerationLabel(name: "sexual", source: .nsfw, defaultThreshold: 0.8),
        ModerationLabel(name: "suggestive", source: .imagenetClasses([445, 459, 638, 639, 842]), defaultThreshold: 0.5),
        ModerationLabel(name: "weapons", source: .imagenetClasses([413, 763, 764, 597, 471, 657, 744, 847, 895, 465, 456, 777]),
                        defaultThreshold: 0.4),
        ModerationLabel(name: "alcohol", source: .imagenetClasses([440, 441, 907, 966, 901, 503, 572]), defaultThreshold: 0.4),
        ModerationLabel(name: "drugs", source: .imagenetClasses([845, 720]), defaultThreshold: 0.5),
    ]

    /// Broad topics (WordNet-derived, Tools/make-topics.py).
    public static var topics: [String] { topicNames }
    /// Index of the `people` topic, which the faces analyzer feeds.
    static let peopleTopic = topicNames.firstIndex(of: "people")!

    /// Every name a policy, `diff --labels` or `--threshold` may use: moderation labels, then topics.
    public static var labelNames: [String] { moderation.map(\.name) + topics }

    /// The name in `names` nearest to a misspelt `name`, if one is close (for "did you mean").
    public static func suggestion(for name: String, among names: [String]) -> String? {
        let scored = names.map { ($0, editDistance($0.lowercased(), name.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, name.count / 3) else {
            // A prefix or part of a longer name ("weapon" for "weapons & military").
            return names.first { $0.lowercased().hasPrefix(name.lowercased()) || name.lowercased().hasPrefix($0.lowercased()) }
        }
        return best.0
    }

    /// Topic index of an ImageNet-1k class.
    public static func topic(ofClass i: Int) -> Int { Int(classTopic[i]) }

    /// Per-topic sums of class probabilities. probs: [1000].
    public static func topicScores(_ probs: ArraySlice<Float>) -> [Double] {
        var s = [Double](repeating: 0, count: topicNames.count)
        for (i, p) in probs.enumerated() { s[Int(classTopic[i])] += Double(p) }
        return s
    }
}

/// Levenshtein distance between two strings, for "did you mean" suggestions.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var diagonal = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let above = row[j]
            row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
            diagonal = above
        }
    }
    return row[b.count]
}
