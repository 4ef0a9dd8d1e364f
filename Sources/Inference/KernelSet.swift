import Foundation
import KernelSupport
import KernelsAVX2
import KernelsAVX512
import KernelsPortable

/// The engine's kernel sets, best first, and the one this process uses: chosen
/// once from CPUID and XGETBV (the OS must save the ymm/zmm state too), or
/// named by `VIDLABEL_ISA=avx512|avx2|portable`.
public enum KernelSet: String, CaseIterable, Sendable {
    case avx512, avx2, portable

    /// What the set needs and how it is built.
    public var summary: String {
        switch self {
        case .avx512: return "AVX-512 F/BW/DQ/VL, 6x32 GEMM tiles, built for -target-cpu skylake-avx512"
        case .avx2: return "AVX2+FMA, 6x16 GEMM tiles, built for -target-cpu haswell"
        case .portable: return "any x86-64, 6x8 GEMM tiles, no CPU target"
        }
    }

    /// Whether this CPU (and OS) can run the set.
    public var isSupported: Bool {
        let f = CPU.features
        switch self {
        case .avx512: return f.avx512
        case .avx2: return f.avx2 && f.fma
        case .portable: return true
        }
    }

    /// The sets this machine can run, best first (the kernel tests run each).
    public static var supported: [KernelSet] { allCases.filter(\.isSupported) }

    package var table: KernelTable {
        switch self {
        case .avx512: return KernelsAVX512.kernelTable
        case .avx2: return KernelsAVX2.kernelTable
        case .portable: return KernelsPortable.kernelTable
        }
    }

    /// The process's set: `VIDLABEL_ISA` if given (an unknown name, or a set this CPU
    /// cannot run, is an error rather than a guess or a SIGILL), else the best supported.
    public static let selection: Result<KernelSet, InferenceError> = {
        guard let name = ProcessInfo.processInfo.environment["VIDLABEL_ISA"], !name.isEmpty else {
            return .success(supported.first!)
        }
        guard let set = KernelSet(rawValue: name.lowercased()) else {
            return .failure(InferenceError("VIDLABEL_ISA=\(name): unknown kernel set; use one of \(allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        guard set.isSupported else {
            return .failure(InferenceError("VIDLABEL_ISA=\(name): this CPU cannot run it (it has: \(CPU.features.names.joined(separator: " "))); use one of \(supported.map(\.rawValue).joined(separator: ", "))"))
        }
        return .success(set)
    }()

    /// The selected set. - Throws: `VIDLABEL_ISA`'s error.
    public static func selected() throws -> KernelSet { try selection.get() }
}
