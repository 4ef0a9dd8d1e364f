import KernelSupport
import Foundation
import CCPU

/// The CPU this process runs on: what it and the OS support (CPUID, XGETBV), read once.
public enum CPU {
    public struct Features: Sendable {
        public let avx2: Bool, fma: Bool, avx512: Bool
        /// The instruction-set extensions that matter to the engine, e.g. ["avx2", "fma", "avx512f"].
        public let names: [String]
        /// The CPUID brand string ("unknown" when the CPU has none).
        public let brand: String
    }

    public static let features: Features = {
        var f = vl_cpu_detect()
        let brand = withUnsafeBytes(of: &f.brand) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        let ymm = f.os_ymm != 0, zmm = f.os_zmm != 0
        let flags: [(String, Bool)] = [("sse4.2", f.sse42 != 0), ("avx", f.avx != 0 && ymm), ("avx2", f.avx2 != 0 && ymm),
                                       ("fma", f.fma != 0 && ymm), ("avx512f", f.avx512f != 0 && zmm),
                                       ("avx512bw", f.avx512bw != 0 && zmm), ("avx512dq", f.avx512dq != 0 && zmm),
                                       ("avx512vl", f.avx512vl != 0 && zmm)]
        let has = Dictionary(uniqueKeysWithValues: flags)
        return Features(avx2: has["avx2"]!, fma: has["fma"]!,
                        avx512: has["avx512f"]! && has["avx512bw"]! && has["avx512dq"]! && has["avx512vl"]!,
                        names: flags.filter(\.1).map(\.0), brand: brand.isEmpty ? "unknown" : brand)
    }()

    /// The kernels the engine runs, for `--version` and `bench-model`.
    public static var engineDescription: String {
        switch KernelSet.selection {
        case .success(let set): return "\(set.rawValue) kernels (\(set.summary))"
        case .failure(let error): return "no kernels: \(error)"
        }
    }
}
