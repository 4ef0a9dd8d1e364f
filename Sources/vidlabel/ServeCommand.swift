import ArgumentParser
import Foundation
import Labeling
import VideoIO

/// Worker mode for pipelines (Beam, Spark): one long-lived process, models loaded
/// once, one request per line in and one record per line out, in order.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Worker mode: read one video path per line on stdin, write one JSON record per line on stdout (models loaded once).",
        discussion: """
            Protocol: each request is a line holding a path, or a JSON object {"path": "..."} (for names with \
            newlines or bytes that are not UTF-8 text); blank lines are ignored. Each request gets exactly one \
            line back, in request order, written and flushed before the next request is read: a scan report or \
            an error record, both with the options/models fingerprint, as `batch` writes them. An error record \
            whose input could not be read right now (it vanished, was not staged yet, or the system refused to \
            open it) carries "transient": true: retry it; any other error record is final for that input. \
            Options are the worker's (given once on the command line, as for `batch`). \
            Exit 0 at the end of input, 75 (EX_TEMPFAIL: retry the work elsewhere or later) when the models \
            cannot be loaded, 2 for a usage error.
            """)

    @Flag(help: "Requests on standard input, records on standard output (the only transport).")
    var stdio = false

    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var labeling: LabelingArguments

    /// EX_TEMPFAIL (sysexits.h): what a runner should retry.
    static let transientExit: Int32 = 75

    func validate() throws {
        guard stdio else { throw ValidationError("serve reads requests from standard input: give --stdio") }
    }

    func run() throws {
        let options = try labeling.scanOptions(sampling: sampling.options)
        labeling.noteLicenses(options)
        let scanner: VideoScanner
        do {
            scanner = try VideoScanner(options: options, locator: labeling.locator())
            try scanner.waitForModels()
        } catch {
            // Missing or unreadable models: the worker's set-up, not any input, is at fault.
            throw CLIError(message: "\(error)", exitCode: Serve.transientExit)
        }
        let fingerprint = reportFingerprint(options, scanner: scanner)
        while let line = readLine(strippingNewline: true) {
            guard let path = Serve.path(of: line) else {
                if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    var record = ErrorRecord(path: line, category: "failed", message: "a request is a path or a JSON object with a \"path\" string")
                    record.stamp(scanner, fingerprint: fingerprint)
                    Output.writeLine(try jsonLine(record))
                }
                continue
            }
            let stamp = try? FileStamp(path)
            do {
                var report = try scanner.scan(path: path)
                report.file.mtime = stamp?.mtime
                report.fingerprint = fingerprint
                Output.writeLine(try jsonLine(report))
            } catch let e as ModelLoadError {
                throw CLIError(message: "\(e)", exitCode: Serve.transientExit)
            } catch {
                var record = ErrorRecord(path: path, error: error)
                record.file.size_bytes = stamp?.size
                record.file.mtime = stamp?.mtime
                record.stamp(scanner, fingerprint: fingerprint)
                if let v = error as? VideoError, v.category == .notFound { record.error.transient = true }
                Output.writeLine(try jsonLine(record))
            }
        }
    }

    /// The path a request line names, or nil for a blank or malformed line.
    static func path(of line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        guard trimmed.hasPrefix("{") else { return line }
        guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
              let path = object["path"] as? String, !path.isEmpty else { return nil }
        return path
    }
}
