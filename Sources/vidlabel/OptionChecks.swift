import ArgumentParser
import VideoIO

/// Bounds of option values. Every number a user types is checked here before
/// any work starts: NaN, infinities and absurd sizes (a 2^63 thread count, a
/// 1e19 s start time) are usage errors naming the option and its range, not a
/// trap or a multi-terabyte allocation later.
enum Bounds {
    /// Seconds: a week of video is far more than anyone scans in one file.
    static let seconds = 0.0...(7 * 86_400.0)
    static let threads = 1...256
    static let decodeThreads = 1...64
    static let batchSize = 1...256
    static let jobs = 1...256
    static let maxFrames = 1...10_000_000
    /// Smallest sampling interval: one frame per millisecond is already every frame of any real video.
    static let minimumIntervalS = 0.001
}


/// - Throws: `ValidationError` unless `value` is a finite number in `range`.
func check(_ value: Double, _ option: String, in range: ClosedRange<Double>) throws {
    guard value.isFinite, range.contains(value) else {
        throw ValidationError("\(option) must be a number from \(range.lowerBound.short) to \(range.upperBound.short), got \(value)")
    }
}

/// - Throws: `ValidationError` unless `value` is in `range`.
func check(_ value: Int, _ option: String, in range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(option) must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
    }
}

/// - Throws: `ValidationError` unless `text` is a picture size (`pictureSize`).
func checkPictureSize(_ text: String, _ option: String) throws {
    guard pictureSize(text) != nil else { throw ValidationError("\(option) must be N or WxH, each from 1 to 8192, got '\(text)'") }
}

/// A picture size option: "N" (square) or "WxH", each from 1 to 8192; nil otherwise.
func pictureSize(_ text: String) -> (width: Int, height: Int)? {
    let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
    guard parts.allSatisfy({ $0 != nil && (1...8192).contains($0!) }) else { return nil }
    if parts.count == 1 { return (parts[0]!, parts[0]!) }
    if parts.count == 2 { return (parts[0]!, parts[1]!) }
    return nil
}
