/// One kernel set: every kernel the engine calls, compiled for one instruction set.
///
/// The same kernel sources are built three times (KernelsAVX512, KernelsAVX2,
/// KernelsPortable: each target holds symlinks to `Sources/Kernels/*.swift` and
/// its own `ISA.swift` with the vector type, tile width and CPU target). Each
/// fills one table; the engine picks one at start-up from CPUID/XGETBV (as
/// MLAS's platform table does) and each op calls through it once per op,
/// never per tile.
package struct KernelTable: Sendable {
    /// `avx512`, `avx2` or `portable` (what `VIDLABEL_ISA` names).
    package let name: String
    /// Columns of the GEMM register tile: the panel width filters are packed in.
    package let nr: Int

    /// NHWC convolution as an indirect GEMM (see Kernels/Conv.swift).
    package let conv: @Sendable (_ x: UnsafePointer<Float>, _ s: ConvShape, _ filters: FilterPanels, _ e: Epilogue,
                                 _ zeros: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ threads: Int) -> Void
    /// Depthwise conv, weights [kh*kw][C].
    package let depthwise: @Sendable (_ x: UnsafePointer<Float>, _ s: ConvShape, _ weights: UnsafePointer<Float>, _ e: Epilogue,
                                      _ y: UnsafeMutablePointer<Float>, _ threads: Int) -> Void
    package let pool: @Sendable (_ x: UnsafePointer<Float>, _ s: ConvShape, _ isMax: Bool, _ countIncludePad: Bool,
                                 _ y: UnsafeMutablePointer<Float>, _ threads: Int) -> Void
    package let globalAverage: @Sendable (_ x: UnsafePointer<Float>, _ batch: Int, _ pixels: Int, _ c: Int,
                                          _ y: UnsafeMutablePointer<Float>) -> Void
    package let convertLayout: @Sendable (_ x: UnsafePointer<Float>, _ batch: Int, _ c: Int, _ pixels: Int, _ toNHWC: Bool,
                                          _ y: UnsafeMutablePointer<Float>) -> Void
    package let invertedResidual: @Sendable (_ x: UnsafePointer<Float>, _ b: InvertedResidual, _ y: UnsafeMutablePointer<Float>,
                                             _ threads: Int) -> Void
    package let clamp: @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ lo: Float, _ hi: Float) -> Void
    package let sigmoid: @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    /// PRelu with element i's slope at slope[(i / inner) % channels].
    package let prelu: @Sendable (_ x: UnsafePointer<Float>, _ slope: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                  _ count: Int, _ channels: Int, _ inner: Int) -> Void
    /// Same-shape add or multiply, then clamp.
    package let binary: @Sendable (_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                                   _ multiply: Bool, _ lo: Float, _ hi: Float) -> Void
    package let broadcast: @Sendable (_ a: UnsafePointer<Float>, _ sa: [Int], _ b: UnsafePointer<Float>, _ sb: [Int],
                                      _ y: UnsafeMutablePointer<Float>, _ shape: [Int], _ multiply: Bool) -> Void
    package let softmax: @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ outer: Int, _ len: Int, _ inner: Int) -> Void
    package let transpose: @Sendable (_ x: UnsafePointer<Float>, _ inShape: [Int], _ perm: [Int], _ y: UnsafeMutablePointer<Float>) -> Void

    package init(name: String, nr: Int,
                 conv: @escaping @Sendable (UnsafePointer<Float>, ConvShape, FilterPanels, Epilogue, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                 depthwise: @escaping @Sendable (UnsafePointer<Float>, ConvShape, UnsafePointer<Float>, Epilogue, UnsafeMutablePointer<Float>, Int) -> Void,
                 pool: @escaping @Sendable (UnsafePointer<Float>, ConvShape, Bool, Bool, UnsafeMutablePointer<Float>, Int) -> Void,
                 globalAverage: @escaping @Sendable (UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                 convertLayout: @escaping @Sendable (UnsafePointer<Float>, Int, Int, Int, Bool, UnsafeMutablePointer<Float>) -> Void,
                 invertedResidual: @escaping @Sendable (UnsafePointer<Float>, InvertedResidual, UnsafeMutablePointer<Float>, Int) -> Void,
                 clamp: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Float) -> Void,
                 sigmoid: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                 prelu: @escaping @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int, Int) -> Void,
                 binary: @escaping @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Bool, Float, Float) -> Void,
                 broadcast: @escaping @Sendable (UnsafePointer<Float>, [Int], UnsafePointer<Float>, [Int], UnsafeMutablePointer<Float>, [Int], Bool) -> Void,
                 softmax: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int, Int) -> Void,
                 transpose: @escaping @Sendable (UnsafePointer<Float>, [Int], [Int], UnsafeMutablePointer<Float>) -> Void) {
        self.name = name
        self.nr = nr
        self.conv = conv
        self.depthwise = depthwise
        self.pool = pool
        self.globalAverage = globalAverage
        self.convertLayout = convertLayout
        self.invertedResidual = invertedResidual
        self.clamp = clamp
        self.sigmoid = sigmoid
        self.prelu = prelu
        self.binary = binary
        self.broadcast = broadcast
        self.softmax = softmax
        self.transpose = transpose
    }
}
