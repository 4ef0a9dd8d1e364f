import Foundation
import XCTest

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func fixture(_ name: String) -> String { repoRoot.appendingPathComponent("Fixtures/gen/\(name)").path }

/// The built `vidlabel` binary, next to the test bundle.
var binary: URL {
    var dir = Bundle(for: CLIHarness.self).bundleURL
    while dir.path != "/" {
        let candidate = dir.deletingLastPathComponent().appendingPathComponent("vidlabel")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return repoRoot.appendingPathComponent(".build/release/vidlabel")
}

final class CLIHarness {}

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    func json(_ file: StaticString = #filePath, _ line: UInt = #line) -> [String: Any] {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
            XCTFail("stdout is not one JSON object: \(stdout.prefix(300)) stderr: \(stderr)", file: file, line: line)
            return [:]
        }
        return obj
    }

    func jsonLines() -> [[String: Any]] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// Runs the built binary from the repository root (so ./Models is found).
@discardableResult
func vidlabel(_ args: [String], cwd: URL = repoRoot, env: [String: String] = [:]) throws -> RunResult {
    try runProcess(binary, args, cwd: cwd, env: env)
}

func runProcess(_ exe: URL, _ args: [String], cwd: URL = repoRoot, env: [String: String] = [:]) throws -> RunResult {
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    p.currentDirectoryURL = cwd
    p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so a large report cannot block the child.
    var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}
