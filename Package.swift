// swift-tools-version:6.1
import PackageDescription

/// Only the kernel sets get a CPU target; everything else is built for baseline
/// x86-64, so the binary starts (and picks the portable set) on any x86-64 CPU.
/// Without a CPU target `SIMD.addingProduct` lowers to per-lane `fmaf` calls
/// (measured 140x slower), so the portable set writes `c + a * b`.
let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
let avx2Flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
/// The kernels' hot loops also drop overflow/precondition traps in release builds;
/// they are tested against scalar references instead. Nothing that reads a model
/// file is built this way: its input is untrusted.
let uncheckedFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "vidlabel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vidlabel", targets: ["vidlabel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // No package traits: with its default two, SwiftPM passed their -D flags in a
        // different order at each re-plan (a Set), and SwiftProtobuf recompiled (~30 s)
        // whenever make was run with other variables (make install PREFIX=...).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev", "pkg-config"])]
        ),
        /// Header-only vector min/max for the kernels (see simd_ops.h).
        .systemLibrary(name: "CSIMD"),
        /// Header-only CPUID/XGETBV feature detection (see cpu_features.h).
        .systemLibrary(name: "CCPU"),
        /// Generates BuildInfo.swift (the git commit) for `vidlabel --version`.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .target(name: "VideoIO", dependencies: ["CFFmpeg"]),
        /// Types and threads the kernels and the engine share (no SIMD code here).
        .target(name: "KernelSupport", swiftSettings: uncheckedFlags),
        /// The kernel sets: one source (Sources/Kernels, symlinked into each) built three
        /// times, each with its own ISA.swift. The only code built -Ounchecked with a CPU target.
        .target(name: "KernelsAVX512", dependencies: ["CSIMD", "KernelSupport"], swiftSettings: avx512Flags + uncheckedFlags),
        .target(name: "KernelsAVX2", dependencies: ["CSIMD", "KernelSupport"], swiftSettings: avx2Flags + uncheckedFlags),
        .target(name: "KernelsPortable", dependencies: ["CSIMD", "KernelSupport"], swiftSettings: uncheckedFlags),
        /// Import, validation, graph passes, plan and executor: checked arithmetic, so a
        /// malformed model traps at worst (and is meant to be refused with an error first).
        .target(
            name: "Inference",
            dependencies: ["KernelSupport", "KernelsAVX512", "KernelsAVX2", "KernelsPortable", "CCPU",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(name: "Labeling", dependencies: ["Inference", "VideoIO"]),
        .executableTarget(
            name: "vidlabel",
            dependencies: [
                "VideoIO", "Inference", "Labeling",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildInfo"]
        ),
        /// libFuzzer target for model files (`make fuzz`); a replay tool in normal builds.
        .executableTarget(name: "onnx-fuzz", dependencies: ["Inference"]),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"]),
        .testTarget(name: "LabelingTests", dependencies: ["Labeling", "Inference", "VideoIO"]),
        .testTarget(name: "CLITests", dependencies: ["vidlabel"]),
    ],
    swiftLanguageModes: [.v5]
)
