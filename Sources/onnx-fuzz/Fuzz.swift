import Foundation
import Inference

// `onnx-fuzz`: the ONNX importer, checks, optimiser and planner on arbitrary bytes.
// Built by `make fuzz` with -sanitize=fuzzer,address and -DFUZZING as a libFuzzer
// target; built normally (as every `make` target does) it replays files given on
// the command line, which is how a finding is reproduced and how `make test`
// keeps this file compiling.

/// One input: import, check, optimise, plan; then one run on zeros when the input
/// is small, so the kernels meet whatever shapes passed the checks. Errors are
/// expected; a crash or a sanitizer report is a finding.
func fuzzOne(_ data: Data) {
    guard let graph = try? ONNXImporter.load(data: data), let model = try? Model(graph: graph) else { return }
    var feeds: [String: Tensor] = [:]
    for input in model.inputs {
        let shape = input.shape.map { $0 ?? 1 }
        guard shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) <= 1 << 20 else { return }
        feeds[input.name] = Tensor(zeros: shape)
    }
    _ = try? model.run(feeds)
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzOne(start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

/// libFuzzer's driver, run from the entry point SwiftPM names for this target
/// (it links executables with their `main` renamed to `onnx_fuzz_main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("onnx_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector) { start, size in fuzzEntry(start, size) }
}
#else
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("onnx-fuzz: \(path): cannot read\n".utf8))
                continue
            }
            fuzzOne(data)
        }
    }
}
#endif
