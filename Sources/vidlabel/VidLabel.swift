import ArgumentParser
import Foundation
import Inference
import Labeling
import VideoIO

#if canImport(Glibc)
/// glibc's mallopt(3): Swift's Glibc module does not export <malloc.h>.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// The `vidlabel` command line. Subcommands are thin: parse, call the
/// libraries, print.
@main
struct VidLabel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vidlabel",
        abstract: "Label videos offline: moderation and topic labels with exact timestamps.",
        version: versionText,
        subcommands: [Scan.self, Batch.self, Diff.self, Check.self, Probe.self, Frames.self, Models.self, InspectModel.self, BenchModel.self, Serve.self]
    )

    /// `--version`: the release, the source commit, the FFmpeg libraries linked and
    /// the engine's instruction set on this CPU (what a bug report needs).
    static var versionText: String {
        let libs = FFmpegLibraries.versions.map { "\($0.name) \($0.version)" }.joined(separator: ", ")
        return """
            vidlabel \(vidlabelVersion) (commit \(buildCommit))
            FFmpeg: \(libs)
            engine: \(CPU.engineDescription)
            CPU: \(CPU.features.brand) (\(CPU.features.names.joined(separator: " ")))
            """
    }

    /// Every block of 128 KiB or more gets its own mapping, unmapped when freed. glibc
    /// otherwise raises that threshold to the largest block freed so far, after which
    /// the big transient buffers of model loading (a tensor before it is packed)
    /// come from the heap and stay resident as free space: 14 MB of `scan`'s peak RSS.
    static func returnLargeBlocksToTheOS() {
        #if canImport(Glibc)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD, <malloc.h> */, 128 * 1024)
        #endif
    }

    /// Exit codes: 0 success, 1 some input failed, 2 usage error (not
    /// ArgumentParser's 64, so shell scripts can use the conventional code).
    static func main() {
        returnLargeBlocksToTheOS()
        let args = Array(CommandLine.arguments.dropFirst())
        if let problem = preflight(args) {
            printError(problem)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as InputFailure {
            Foundation.exit(failure.exitCode)
        } catch let failure as CLIError {
            printError(failure.message)
            Foundation.exit(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version: printed by ArgumentParser to stdout.
                Self.exit(withError: error)
            }
            if code == .validationFailure {
                let message = fullMessage(for: error)
                // A usage error is one line plus the usage hint, not the whole help.
                Output.writeError(message.hasPrefix("Error: ") ? "vidlabel: " + message.dropFirst(7) + "\n" : message + "\n")
                Foundation.exit(2)
            }
            Self.exit(withError: error)
        }
    }

    /// Mistakes ArgumentParser reports badly, caught before it parses:
    /// - a mistyped subcommand (`scna`): suggest the nearest one;
    /// - a single-dash word such as a file name `-clip.mp4`: ArgumentParser reads it
    ///   as bundled short flags, finds `h` among them and prints the help with exit 0.
    static func preflight(_ args: [String]) -> String? {
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if let first = args.first, !first.hasPrefix("-"), !names.contains(first) {
            let nearest = names.min { editDistance($0, first) < editDistance($1, first) }
            let hint = nearest.map { editDistance($0, first) <= 2 ? "; did you mean '\($0)'?" : "" } ?? ""
            return "unknown command '\(first)'\(hint) (commands: \(names.dropLast().joined(separator: ", ")))"
        }
        var previous = ""
        for arg in args {
            if arg == "--" { break }
            defer { previous = arg }
            guard arg.hasPrefix("-"), !arg.hasPrefix("--"), arg.count > 2, Double(arg) == nil, !previous.hasPrefix("-") || previous == "-" else { continue }
            return "unknown option '\(arg)'; a file name that starts with '-' goes after '--' (vidlabel probe -- \(arg)) or as ./\(arg)"
        }
        return nil
    }
}
