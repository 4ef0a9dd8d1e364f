import Foundation
import XCTest

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func fixture(_ name: String) -> String { repoRoot.appendingPathComponent("Fixtures/gen/\(name)").path }

/// The built `vidlabel` binary: `$VIDLABEL_BIN` (what `make test` built), else the
/// `vidlabel` beside the test bundle (SwiftPM puts both in `.build/<triple>/<config>/`).
/// Each candidate must be a regular executable file: walking up the folders and taking
/// any executable path named `vidlabel` found the clone itself when it was named so.
let binary: URL = {
    func regularExecutable(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
    if let given = ProcessInfo.processInfo.environment["VIDLABEL_BIN"], !given.isEmpty {
        guard regularExecutable(given) else { fatalError("VIDLABEL_BIN=\(given) is not an executable file") }
        return URL(fileURLWithPath: given)
    }
    let beside = Bundle(for: CLIHarness.self).bundleURL.deletingLastPathComponent().appendingPathComponent("vidlabel")
    guard regularExecutable(beside.path) else { fatalError("no vidlabel binary at \(beside.path): build it, or set VIDLABEL_BIN") }
    return beside
}()

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
func vidlabel(_ args: [String], cwd: URL = repoRoot, env: [String: String] = [:], stdin: Data? = nil, timeout: Double = 300,
              file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
    try runProcess(binary, args, cwd: cwd, env: env, stdin: stdin, timeout: timeout, file: file, line: line)
}

/// Runs `exe`; a run still going after `timeout` seconds is killed and fails the
/// test (a hang must fail CI, not stall it).
func runProcess(_ exe: URL, _ args: [String], cwd: URL = repoRoot, env: [String: String] = [:],
                stdin: Data? = nil, timeout: Double = 300, file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    p.currentDirectoryURL = cwd
    p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try p.run()
    if let stdin {
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
    }
    let pid = p.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    // Read both pipes concurrently so a large report cannot block the child.
    let errData = PipeReader(err.fileHandleForReading)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    watchdog.cancel()
    if p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL {
        XCTFail("killed after \(Int(timeout)) s (a hang): \(exe.lastPathComponent) \(args.joined(separator: " "))", file: file, line: line)
    }
    let result = RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                           stderr: String(decoding: errData.wait(), as: UTF8.self))
    // Every CLI test checks this: Foundation's error dumps never reach a user.
    if exe == binary {
        for raw in ["Error Domain=", "NSCocoaErrorDomain", "DecodingError", "NSError", "Fatal error", "Swift/"] {
            XCTAssertFalse(result.stderr.contains(raw) || result.stdout.contains(raw),
                           "raw error text '\(raw)' in the output of vidlabel \(args.joined(separator: " ")): \(result.stderr)",
                           file: file, line: line)
        }
    }
    return result
}

/// Reads a pipe to its end on a background thread.
final class PipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// Asserts every record in `file` (one JSON object, or JSON Lines) validates against
/// Schemas/report.schema.json, with the pinned jsonschema of the build-time venv.
func assertValidReports(_ file: String, _ where_: StaticString = #filePath, _ line: UInt = #line) throws {
    let python = repoRoot.appendingPathComponent(".build/tools-venv/bin/python")
    let check = try runProcess(python, ["-c", """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        text = open(sys.argv[2]).read()
        try:
            records = [json.loads(text)]
        except ValueError:
            records = [json.loads(l) for l in text.splitlines() if l.strip()]
        for r in records:
            jsonschema.validate(r, schema)
        """, repoRoot.appendingPathComponent("Schemas/report.schema.json").path, file])
    XCTAssertEqual(check.status, 0, check.stderr, file: where_, line: line)
}

/// A scratch folder for one test, removed by the caller's `defer`.
func scratchFolder(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vidlabel-\(name)-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The JSON objects of a JSON Lines file (`scan -o` with several files).
func readJSONLines(_ url: URL) throws -> [[String: Any]] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

/// Writes the report at `from` to `to` with its summary changed by `edit`: a
/// baseline that differs from a real scan in one known way, for diff tests.
func writeReport(_ from: URL, to: URL, editingSummary edit: (inout [String: Any]) -> Void) throws {
    var report = try JSONSerialization.jsonObject(with: Data(contentsOf: from)) as! [String: Any]
    var summary = report["summary"] as! [String: Any]
    edit(&summary)
    report["summary"] = summary
    try JSONSerialization.data(withJSONObject: report).write(to: to)
}

/// Fills `dir` (which must exist) with links to the base models only (the
/// moderation and topic classifiers and their class names): a models folder
/// without any analyzer's detectors.
func linkBaseModels(into dir: URL) throws {
    for f in ["open-nsfw.onnx", "efficientnet-lite0.onnx", "mobilenet-v2.onnx", "imagenet-classes.txt"] {
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(f), withDestinationURL: repoRoot.appendingPathComponent("Models/\(f)"))
    }
}
