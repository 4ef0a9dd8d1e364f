// swift-tools-version:6.0
import PackageDescription

/// The SIMD kernels need FMA/AVX2 code generation: without a CPU target,
/// `SIMD.addingProduct` lowers to per-lane `fmaf` calls (measured 140x slower).
/// Haswell (AVX2 + FMA) runs on every x86-64 machine of the last decade.
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
/// The kernels' hot loops also drop overflow/precondition traps in release builds;
/// they are tested against scalar references instead. Nothing that reads a model
/// file is built this way: its input is untrusted.
let uncheckedFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
let kernelFlags: [SwiftSetting] = simdFlags + uncheckedFlags

let package = Package(
    name: "vidlabel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vidlabel", targets: ["vidlabel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
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
        .target(name: "VideoIO", dependencies: ["CFFmpeg"], swiftSettings: simdFlags),
        /// Types and threads the kernels and the engine share (no SIMD code here).
        .target(name: "KernelSupport", swiftSettings: uncheckedFlags),
        /// The SIMD kernels: the only code built -Ounchecked with a CPU target.
        .target(name: "Kernels", dependencies: ["CSIMD", "KernelSupport"], swiftSettings: kernelFlags),
        /// Import, validation, graph passes, plan and executor: checked arithmetic, so a
        /// malformed model traps at worst (and is meant to be refused with an error first).
        .target(
            name: "Inference",
            dependencies: ["KernelSupport", "Kernels", "CCPU", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: simdFlags
        ),
        .target(name: "Labeling", dependencies: ["Inference", "VideoIO"], swiftSettings: simdFlags),
        .executableTarget(
            name: "vidlabel",
            dependencies: [
                "VideoIO", "Inference", "Labeling",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: simdFlags,
            plugins: ["BuildInfo"]
        ),
        /// libFuzzer target for model files (`make fuzz`); a replay tool in normal builds.
        .executableTarget(name: "onnx-fuzz", dependencies: ["Inference"]),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO"], swiftSettings: simdFlags),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"], swiftSettings: simdFlags),
        .testTarget(name: "CLITests", dependencies: ["vidlabel"], swiftSettings: simdFlags),
    ],
    swiftLanguageModes: [.v5]
)
