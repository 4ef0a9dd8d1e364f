import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Expands `batch`'s inputs: files, directories (walked with `recursive`),
/// globs, and newline-separated lists; filtered by include/exclude globs.
/// Order: arguments in order, each directory's entries sorted by name.
///
/// Each file is listed once, however it is named (relative and absolute paths,
/// symlinks and hard links to one file are one file: device and inode), and each
/// directory is walked once, so symlink cycles end. Names that are not valid
/// UTF-8 cannot be written into JSON: they are returned in `unnamed`
/// (escaped), so the batch reports them instead of dropping them silently.
struct BatchInputs {
    var paths: [String] = []
    var include: [String] = []
    var exclude: [String] = []
    var recursive = false

    /// Files whose names are not valid UTF-8, escaped (`\xff`), found by `expand`.
    private(set) var unnamed: [String] = []
    static let unnamedReason = "the file name is not valid UTF-8, so it cannot be written into a report; rename the file to label it"

    init(paths: [String] = [], include: [String] = [], exclude: [String] = [], recursive: Bool = false) {
        self.paths = paths
        self.include = include
        self.exclude = exclude
        self.recursive = recursive
    }

    func matches(_ pattern: String, _ path: String) -> Bool {
        fnmatch(pattern, path, 0) == 0 || fnmatch(pattern, (path as NSString).lastPathComponent, 0) == 0
    }

    func wanted(_ path: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { matches($0, path) }) { return false }
        return !exclude.contains { matches($0, path) }
    }

    /// Device and inode of what `path` names (symlinks followed), nil when it cannot be stat'ed.
    private static func identity(_ path: String) -> (dev: UInt64, ino: UInt64, isDir: Bool)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino), (st.st_mode & S_IFMT) == S_IFDIR)
    }

    /// - Throws: when an argument names nothing (no file, no directory, no glob match).
    mutating func expand() throws -> [String] {
        var out: [String] = []
        var seenFiles = Set<[UInt64]>(), seenDirs = Set<[UInt64]>()
        var badNames: [String] = []
        defer { unnamed = badNames }
        func add(_ p: String) {
            guard wanted(p) else { return }
            // A path that cannot be stat'ed is kept: its scan reports why.
            if let id = BatchInputs.identity(p) {
                guard seenFiles.insert([id.dev, id.ino]).inserted else { return }
            }
            out.append(p)
        }
        func visit(_ p: String) {
            guard let id = BatchInputs.identity(p), id.isDir else { add(p); return }
            guard seenDirs.insert([id.dev, id.ino]).inserted else { return }
            walk(p, seenDirs: &seenDirs, unnamed: &badNames, add: add)
        }
        for arg in paths {
            if BatchInputs.identity(arg) != nil {
                visit(arg)
                continue
            }
            let matched = glob(arg)
            if matched.isEmpty { throw CLIError.usage("\(arg): no such file, directory or glob match") }
            matched.forEach(visit)
        }
        return out
    }

    /// A directory's entries (sorted by their bytes), files added, subdirectories
    /// walked when `recursive`, each directory once.
    private func walk(_ dir: String, seenDirs: inout Set<[UInt64]>, unnamed: inout [String], add: (String) -> Void) {
        guard let handle = opendir(dir) else { return }
        var names: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name.first == UInt8(ascii: ".") { continue }
            names.append(name)
        }
        closedir(handle)
        for raw in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let name = String(validating: raw, as: UTF8.self) else {
                unnamed.append((dir as NSString).appendingPathComponent(escapedName(raw)))
                continue
            }
            let p = (dir as NSString).appendingPathComponent(name)
            guard let id = BatchInputs.identity(p) else { add(p); continue }
            if id.isDir {
                if recursive && seenDirs.insert([id.dev, id.ino]).inserted { walk(p, seenDirs: &seenDirs, unnamed: &unnamed, add: add) }
            } else {
                add(p)
            }
        }
    }

    /// A byte name made printable: valid UTF-8 runs kept, other bytes as `\xNN`.
    private func escapedName(_ raw: [UInt8]) -> String {
        var out = "", i = 0
        while i < raw.count {
            var j = raw.count
            while j > i, String(validating: raw[i..<j], as: UTF8.self) == nil { j -= 1 }
            if j > i { out += String(validating: raw[i..<j], as: UTF8.self)!; i = j } else { out += String(format: "\\x%02x", raw[i]); i += 1 }
        }
        return out
    }

    func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// Lines of a list file, or of standard input for "-".
    static func readList(_ source: String) throws -> [String] {
        let data: Data
        if source == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
            guard let d = FileManager.default.contents(atPath: source) else { throw CLIError.usage("--from-list \(source): cannot read the list") }
            data = d
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// FNV-1a 64 of the path's UTF-8 bytes: the same on every machine and run, so
/// `--shard I/N` splits a list the same way everywhere.
func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf29ce484222325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    return h
}
