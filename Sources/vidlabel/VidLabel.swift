import ArgumentParser
import Foundation

/// The `vidlabel` command line. Subcommands are thin: parse, call the
/// libraries, print JSON.
@main
struct VidLabel: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "vidlabel",
        abstract: "Label videos offline: moderation and topic labels with exact timestamps.",
        version: version,
        subcommands: [Scan.self, Batch.self, Diff.self, Check.self, Probe.self, Frames.self, Models.self, InspectModel.self, BenchModel.self]
    )

    /// Exit codes: 0 success, 1 some input failed, 2 usage error (not
    /// ArgumentParser's 64, so shell scripts can use the conventional code).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as InputFailure {
            Self.exit(withError: ExitCode(failure.exitCode))
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Self.exit(withError: ExitCode(2))
            }
            Self.exit(withError: error)
        }
    }
}

/// Thrown after the errors were already printed: only sets the exit code.
struct InputFailure: Error {
    var exitCode: Int32 = 1
}

/// Writes one line to stderr, prefixed with the tool name.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("vidlabel: \(message)\n".utf8))
}

/// Standard output, written through a buffer and flushed per record, so
/// JSON Lines consumers see whole lines as soon as each one is ready.
enum Output {
    static func writeLine(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

/// Encodes `value` as compact JSON with sorted keys (byte-stable across runs).
func jsonLine<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
