import ArgumentParser
import Foundation
import Labeling
#if canImport(Glibc)
import Glibc
#endif

/// A failure the user can act on, already worded as one line: printed as
/// `vidlabel: message`, exit status `exitCode`.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    var exitCode: Int32 = 1
    var description: String { message }

    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
}

/// Thrown after the errors were already printed: only sets the exit code.
struct InputFailure: Error {
    var exitCode: Int32 = 1
}

/// Text from an untrusted source (a file name, a decoder message) made safe for one
/// terminal line: control characters (newlines, escape codes) and invalid UTF-8
/// become visible escapes, so one error stays one line and cannot drive the terminal.
func printable(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0..<0x20, 0x7F, 0x80..<0xA0: out += String(format: "\\x%02x", scalar.value)
        case 0xFFFD: out += "\\ufffd"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Writes one line to stderr, prefixed with the tool name. Control characters in
/// `message` are escaped (it usually quotes a file name).
func printError(_ message: String) {
    Output.writeError("vidlabel: \(printable(message))\n")
}

/// Standard output and error through write(2). FileHandle.write raises an
/// Objective-C exception on a write error (a full disk, /dev/full), which kills
/// the process with a signal; here a failed write of stdout is one line on stderr
/// and exit status 1.
enum Output {
    /// One whole line on stdout, flushed: JSON Lines consumers see each record as soon as it is ready.
    static func writeLine(_ text: String) {
        write(text + "\n")
    }

    static func write(_ text: String) {
        do { try writeAll(fd: 1, Data(text.utf8)) } catch {
            writeError("vidlabel: standard output: \(error)\n")
            exit(1)
        }
    }

    /// stderr; a failure to write it is ignored (there is nowhere left to say so).
    static func writeError(_ text: String) {
        try? writeAll(fd: 2, Data(text.utf8))
    }

    /// Writes every byte of `data` to `fd`, retrying short writes and EINTR.
    static func writeAll(fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = Glibc.write(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw POSIXFailure(code: errno)
                }
                p += n
                left -= n
            }
        }
    }
}

/// An errno value, described the way the C library does (`No space left on device`).
struct POSIXFailure: Error, CustomStringConvertible {
    let code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// Checks, before any work starts, that a file can be created at `path` for
/// option `option`: its folder exists and is writable, and the path is not a folder.
/// - Throws: a usage `CLIError` naming the option and the reason.
func checkOutputFile(_ path: String, option: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        if (st.st_mode & S_IFMT) == S_IFDIR { throw ValidationError("\(option) \(path): is a folder; give a file name") }
        if access(path, W_OK) != 0 { throw ValidationError("\(option) \(path): not writable (\(POSIXFailure(code: errno)))") }
        return
    }
    let parent = (path as NSString).deletingLastPathComponent
    let folder = parent.isEmpty ? "." : parent
    guard stat(folder, &st) == 0 else { throw ValidationError("\(option) \(path): folder \(folder) does not exist") }
    guard (st.st_mode & S_IFMT) == S_IFDIR else { throw ValidationError("\(option) \(path): \(folder) is not a folder") }
    guard access(folder, W_OK) == 0 else { throw ValidationError("\(option) \(path): cannot create files in \(folder) (\(POSIXFailure(code: errno)))") }
}

/// Checks that `path` is a folder that exists or can be created, for option `option`.
func checkOutputFolder(_ path: String, option: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw ValidationError("\(option) \(path): exists and is not a folder") }
        guard access(path, W_OK) == 0 else { throw ValidationError("\(option) \(path): not writable") }
        return
    }
    var parent = (path as NSString).deletingLastPathComponent
    if parent.isEmpty { parent = "." }
    try checkOutputFolder(parent, option: option)
}

/// Writes `data` to a temporary file beside `path`, syncs it, then renames it over
/// `path`: a reader never sees half a file, and a full disk leaves the old file
/// (or none) and one clear error.
/// - Throws: `CLIError` naming the file and the C library's reason.
func writeAtomically(_ data: Data, to path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    let tmp = (dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw CLIError(message: "\(path): cannot write: \(POSIXFailure(code: errno))") }
    var failure: Error? = nil
    do {
        try Output.writeAll(fd: fd, data)
        if fsync(fd) != 0 { throw POSIXFailure(code: errno) }
    } catch { failure = error }
    if close(fd) != 0 && failure == nil { failure = POSIXFailure(code: errno) }
    if let failure {
        unlink(tmp)
        throw CLIError(message: "\(path): cannot write: \(failure)")
    }
    guard rename(tmp, path) == 0 else {
        let failure = POSIXFailure(code: errno)
        unlink(tmp)
        throw CLIError(message: "\(path): cannot write: \(failure)")
    }
}

/// Encodes `value` as JSON with its keys in declaration order (a report follows its
/// schema's order), dictionaries sorted: byte-stable across runs.
func jsonLine<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    try JSONWriter.string(value, pretty: pretty)
}

/// `--format` of `scan` and `batch`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case json, text
}
