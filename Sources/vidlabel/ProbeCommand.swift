import ArgumentParser
import Foundation
import Labeling
import VideoIO

/// An error record in JSON output: `{"file": {"path": ...}, "error": {"category": ..., "message": ...}}`.
struct ErrorRecord: Encodable {
    struct FileRef: Encodable {
        let path: String
        var size_bytes: Int64? = nil
        var mtime: Double? = nil
    }
    struct Detail: Encodable {
        let category: String
        let message: String
        /// `serve`: the input could not be read right now; retrying may succeed.
        var transient: Bool? = nil
    }
    // Declared in the schema's order, which the JSON keeps.
    /// Set by `batch` and `serve` (with `models`): which build and models gave this
    /// verdict, as a report says it, so a retried input writes the same bytes.
    var tool: Report.Tool? = nil
    var file: FileRef
    /// Set by `batch`, so `--resume` knows the failure belongs to these options.
    var fingerprint: String? = nil
    var models: [Report.ModelInfo]? = nil
    var error: Detail

    init(path: String, category: String, message: String) {
        file = FileRef(path: path)
        error = Detail(category: category, message: message)
    }

    /// Adds what `batch` and `serve` put in every record: the tool, the models and the fingerprint.
    mutating func stamp(_ scanner: VideoScanner, fingerprint: String) {
        tool = scanner.tool
        models = scanner.modelInfos
        self.fingerprint = fingerprint
    }

    /// The record as the text and diff writers take it (`category: message`).
    var loaded: LoadedReport {
        LoadedReport(path: file.path, report: nil, error: "\(error.category): \(error.message)")
    }

    init(path: String, error: Error) {
        if let v = error as? VideoError {
            self.init(path: path, category: v.category.rawValue, message: v.reason)
        } else {
            self.init(path: path, category: "failed", message: "\(error)")
        }
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print container, codec, size, rotation, frame rate and duration of video files as JSON (JSON Lines for several).")

    @Argument(help: "Video files.")
    var files: [String]

    @Flag(help: "Indent the JSON (one file only).")
    var pretty = false

    func run() throws {
        var failed = false
        for path in files {
            do {
                let info = try VideoFile.probe(path)
                Output.writeLine(try jsonLine(info, pretty: pretty && files.count == 1))
            } catch {
                failed = true
                printError("\(error)")
                Output.writeLine(try jsonLine(ErrorRecord(path: path, error: error)))
            }
        }
        if failed { throw InputFailure() }
    }
}
