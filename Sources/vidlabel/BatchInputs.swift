import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Expands `batch`'s inputs: files, directories (walked with `recursive`),
/// globs, and newline-separated lists; filtered by include/exclude globs.
/// Order: arguments in order, each directory's files sorted; duplicates dropped.
struct BatchInputs {
    var paths: [String] = []
    var include: [String] = []
    var exclude: [String] = []
    var recursive = false

    func matches(_ pattern: String, _ path: String) -> Bool {
        fnmatch(pattern, path, 0) == 0 || fnmatch(pattern, (path as NSString).lastPathComponent, 0) == 0
    }

    func wanted(_ path: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { matches($0, path) }) { return false }
        return !exclude.contains { matches($0, path) }
    }

    /// - Throws: when an argument names nothing (no file, no directory, no glob match).
    func expand() throws -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        func add(_ p: String) {
            if wanted(p) && seen.insert(p).inserted { out.append(p) }
        }
        for arg in paths {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: arg, isDirectory: &isDir) {
                if isDir.boolValue { walk(arg).forEach(add) } else { add(arg) }
                continue
            }
            let matched = glob(arg)
            if matched.isEmpty { throw BatchError.usage("\(arg): no such file, directory or glob match") }
            for m in matched {
                var d: ObjCBool = false
                if FileManager.default.fileExists(atPath: m, isDirectory: &d), d.boolValue { walk(m).forEach(add) } else { add(m) }
            }
        }
        return out
    }

    func walk(_ dir: String) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else { return [] }
        var files: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let p = (dir as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            if isDir.boolValue { if recursive { files += walk(p) } } else { files.append(p) }
        }
        return files
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
            guard let d = FileManager.default.contents(atPath: source) else { throw BatchError.usage("\(source): cannot read the list") }
            data = d
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

enum BatchError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self { case .usage(let m): return m }
    }
}

/// FNV-1a 64 of the path's UTF-8 bytes: the same on every machine and run, so
/// `--shard I/N` splits a list the same way everywhere.
func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf29ce484222325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    return h
}
