import Foundation
import VideoIO

/// Technical cues: runs of black frames, which the sampler finds in every decoded
/// frame (`BlackFrameOptions`), as segments of kind `cue` and `summary.cues`.
final class CuesAnalyzer: FrameAnalyzer, @unchecked Sendable {
    let options = BlackFrameOptions()

    func configure(_ sampling: inout SamplingOptions) { sampling.blackFrames = options }

    func summarize(_ frames: [FrameScores], _ context: SummaryContext, _ summary: inout Report.Summary,
                   _ segments: inout [Report.Segment]) {
        let black = context.blackFrames
        segments += black.map {
            Report.Segment(label: Report.blackFramesLabel, kind: "cue", startS: round4($0.startS), endS: round4($0.endS),
                           maxScore: round4($0.darkFraction), meanLuma: round4($0.meanLuma))
        }
        summary.cues = Report.CueSummary(blackSegments: black.count, blackS: round4(black.reduce(0) { $0 + $1.endS - $1.startS }))
    }
}
