import Foundation
import XCTest
import VideoIO

/// Fixtures made by `make fixtures` (Tools/make-fixtures.sh).
func fixture(_ name: String) -> String {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return repo.appendingPathComponent("Fixtures/gen").appendingPathComponent(name).path
}

/// Samples a whole fixture; fails the test (not skips) when it is missing.
func sample(_ name: String, _ configure: (inout SamplingOptions) -> Void = { _ in },
            outputs: [ImageRequest] = [], file: StaticString = #filePath, line: UInt = #line) throws -> (frames: [SampledFrame], sampler: FrameSampler) {
    let path = fixture(name)
    guard FileManager.default.fileExists(atPath: path) else {
        XCTFail("missing fixture \(path): run `make fixtures`", file: file, line: line)
        throw XCTSkip("missing fixture")
    }
    var options = SamplingOptions()
    configure(&options)
    let sampler = try FrameSampler(path: path, options: options, outputs: outputs)
    var frames: [SampledFrame] = []
    while let f = try sampler.next() { frames.append(f) }
    return (frames, sampler)
}

/// Runs a command and returns its standard output.
func runTool(_ tool: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
