import Foundation
import VideoIO
#if canImport(Glibc)
import Glibc
#endif

/// Where `batch` writes its JSON Lines: standard output, or a file it holds an
/// exclusive lock on for the whole run.
///
/// - One write(2) per record on an O_APPEND descriptor: a reader, or a crash,
///   sees whole lines only, except a write cut short by a full disk, whose
///   partial line is cut off again before the error is reported.
/// - `--resume` keeps the complete lines whose file still matches (same size,
///   mtime and fingerprint), drops a torn last line, stale records and
///   duplicates, and rewrites the file atomically before appending.
/// - A second `batch` on the same file refuses to start (flock), rather than two
///   runs interleaving and replacing each other's records.
final class RecordSink: @unchecked Sendable {
    private let fd: Int32
    private let path: String?
    private let lock = NSLock()
    private var done = Set<String>()
    /// Kept records of this run's inputs that are error records (the batch's exit status counts them).
    private(set) var keptFailures = 0

    init(path: String?, resume: Bool, fingerprint: String, inputs: Set<String>) throws {
        self.path = path
        guard let path else { fd = 1; return }
        var fd = try RecordSink.openLocked(path)
        if resume {
            let data = try RecordSink.readAll(fd, path: path)
            var kept: [String] = []
            // Complete lines only: the last one may be torn by a crash.
            let text = String(decoding: data, as: UTF8.self)
            let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)]
            for line in complete.split(separator: "\n") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let file = obj["file"] as? [String: Any], let p = file["path"] as? String else { continue }
                if inputs.contains(p) {
                    let stamp = try? FileStamp(p)
                    guard let stamp, (file["size_bytes"] as? NSNumber)?.int64Value == stamp.size, (file["mtime"] as? Double) == stamp.mtime,
                          obj["fingerprint"] as? String == fingerprint, !done.contains(p) else { continue }
                    done.insert(p)
                    if obj["error"] != nil { keptFailures += 1 }
                }
                kept.append(String(line))
            }
            let rewritten = Data(kept.map { $0 + "\n" }.joined().utf8)
            if rewritten != data {
                // A new file renamed over the old one; the lock moves to it.
                do { try writeAtomically(rewritten, to: path) } catch {
                    Glibc.close(fd)
                    throw error
                }
                let old = fd
                fd = try RecordSink.openLocked(path)
                Glibc.close(old)
            }
        } else if RecordSink.isRegular(fd), ftruncate(fd, 0) != 0 {
            // (-o /dev/null or a pipe: nothing to replace, and ftruncate would fail.)
            let failure = POSIXFailure(code: errno)
            Glibc.close(fd)
            throw CLIError(message: "-o \(path): cannot truncate: \(failure)")
        }
        self.fd = fd
    }

    /// Opens `path` for appending (creating it) and takes an exclusive lock, checking
    /// that the locked file is still the one at `path` (another run may have
    /// renamed a rewritten file over it meanwhile).
    private static func openLocked(_ path: String) throws -> Int32 {
        for _ in 0..<10 {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CLIError(message: "-o \(path): cannot open: \(POSIXFailure(code: errno))") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                Glibc.close(fd)
                if code == EWOULDBLOCK {
                    throw CLIError(message: "-o \(path): another vidlabel batch is writing this file; wait for it to finish, or write to another file")
                }
                throw CLIError(message: "-o \(path): cannot lock: \(POSIXFailure(code: code))")
            }
            var a = stat(), b = stat()
            if fstat(fd, &a) == 0, stat(path, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino { return fd }
            Glibc.close(fd)
        }
        throw CLIError(message: "-o \(path): the file keeps being replaced by another process")
    }

    private static func isRegular(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    private static func readAll(_ fd: Int32, path: String) throws -> Data {
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw CLIError(message: "-o \(path): cannot read: \(POSIXFailure(code: errno))") }
        defer { Glibc.close(reader) }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(reader, &buffer, buffer.count)
            if n < 0 { if errno == EINTR { continue }; throw CLIError(message: "-o \(path): cannot read: \(POSIXFailure(code: errno))") }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
        }
    }

    func isDone(_ path: String) -> Bool { done.contains(path) }

    /// Appends one record line. - Throws: `CLIError` when the output cannot take it
    /// (a full disk): the partial line is cut off, the file holds whole records only.
    func write(_ line: String) throws {
        lock.lock(); defer { lock.unlock() }
        let bytes = Data((line + "\n").utf8)
        guard fd != 1 else { Output.write(line + "\n"); return }
        var before = stat()
        let size = fstat(fd, &before) == 0 ? before.st_size : -1
        do { try Output.writeAll(fd: fd, bytes) } catch {
            if size >= 0 { _ = ftruncate(fd, size) }
            throw CLIError(message: "-o \(path ?? "-"): cannot write: \(error)")
        }
    }

    /// Flushes to disk and releases the lock.
    func close() {
        lock.lock(); defer { lock.unlock() }
        if fd != 1 {
            fsync(fd)
            Glibc.close(fd)
        }
    }
}
