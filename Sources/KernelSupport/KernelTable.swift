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
    /// Width of a last panel of nr/2 < columns <= tail packed narrower than nr (0: none; see FilterPanels).
    package let tail: Int

    /// NHWC convolution as an indirect GEMM (see Kernels/Conv.swift).
    package var conv: @Sendable (_ x: UnsafePointer<Float>, _ s: ConvShape, _ filters: FilterPanels, _ e: Epilogue,
                                 _ zeros: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ threads: Int) -> Void
    /// Depthwise conv, weights [kh*kw][C].
    package var depthwise: @Sendable (_ x: UnsafePointer<Float>, _ s: ConvShape, _ weights: UnsafePointer<Float>, _ e: Epilogue,
                                      _ y: UnsafeMutablePointer<Float>, _ threads: Int) -> Void
    package var pool: @Sendable (_ x: UnsafePointer<Float>, _ s: ConvShape, _ isMax: Bool, _ countIncludePad: Bool,
                                 _ y: UnsafeMutablePointer<Float>, _ threads: Int) -> Void
    package var globalAverage: @Sendable (_ x: UnsafePointer<Float>, _ batch: Int, _ pixels: Int, _ c: Int,
                                          _ y: UnsafeMutablePointer<Float>) -> Void
    package var convertLayout: @Sendable (_ x: UnsafePointer<Float>, _ batch: Int, _ c: Int, _ pixels: Int, _ toNHWC: Bool,
                                          _ y: UnsafeMutablePointer<Float>) -> Void
    package var invertedResidual: @Sendable (_ x: UnsafePointer<Float>, _ b: InvertedResidual, _ y: UnsafeMutablePointer<Float>,
                                             _ threads: Int) -> Void
    /// y = act(clamp(x, lo, hi)) element by element; x and y may alias.
    package var activate: @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ lo: Float, _ hi: Float,
                                     _ activation: Activation) -> Void
    /// PRelu with element i's slope at slope[(i / inner) % channels].
    package var prelu: @Sendable (_ x: UnsafePointer<Float>, _ slope: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                  _ count: Int, _ channels: Int, _ inner: Int) -> Void
    /// Same-shape a op b.
    package var binary: @Sendable (_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                                   _ op: BinaryOp) -> Void
    /// a op b over an output `shape`, each input read through its own per-dimension strides.
    package var broadcast: @Sendable (_ a: UnsafePointer<Float>, _ sa: [Int], _ b: UnsafePointer<Float>, _ sb: [Int],
                                      _ y: UnsafeMutablePointer<Float>, _ shape: [Int], _ op: BinaryOp) -> Void
    package var softmax: @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ outer: Int, _ len: Int, _ inner: Int) -> Void
    /// x [outer, len, inner] -> y [outer, inner], summed or averaged over len.
    package var reduce: @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ outer: Int, _ len: Int, _ inner: Int,
                                   _ mean: Bool) -> Void
    /// Rows of `len` normalised: (x - mean) / sqrt(var + eps) * gamma (+ beta).
    package var layerNorm: @Sendable (_ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>?,
                                      _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ len: Int, _ epsilon: Float) -> Void
    /// Images [H, W, C] resized to [OH, OW, C] by per-axis taps.
    package var resize: @Sendable (_ x: UnsafePointer<Float>, _ images: Int, _ h: Int, _ w: Int, _ c: Int, _ ys: [ResizeTap],
                                   _ xs: [ResizeTap], _ y: UnsafeMutablePointer<Float>) -> Void
    /// A transposed convolution's scatter: GEMM rows of input rows `rows` (pixelFloats
    /// a pixel: its taps x filters, maybe zero-padded) added into y (NHWC), or with
    /// `overwrite` written once plus the bias (windows that tile the output).
    package var col2im: @Sendable (_ cols: UnsafePointer<Float>, _ pixelFloats: Int, _ s: ConvShape, _ groups: Int, _ rows: Range<Int>, _ overwrite: Bool,
                                   _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) -> Void
    /// y [pixels][m] = pattern (zeros when nil).
    package var fillRows: @Sendable (_ pattern: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ pixels: Int, _ m: Int) -> Void
    package var transpose: @Sendable (_ x: UnsafePointer<Float>, _ inShape: [Int], _ perm: [Int], _ y: UnsafeMutablePointer<Float>) -> Void

    /// A table named `name` with GEMM tiles `nr` wide (and `tail`-wide last panels);
    /// `fill` sets every kernel (each set's Table.swift does, so none is left out).
    package init(name: String, nr: Int, tail: Int, fill: (inout KernelTable) -> Void) {
        self.name = name
        self.nr = nr
        self.tail = tail
        @Sendable func missing(_ kernel: String) -> Never { fatalError("a kernel set has no \(kernel) kernel") }
        conv = { _, _, _, _, _, _, _ in missing("conv") }
        depthwise = { _, _, _, _, _, _ in missing("depthwise") }
        pool = { _, _, _, _, _, _ in missing("pool") }
        globalAverage = { _, _, _, _, _ in missing("globalAverage") }
        convertLayout = { _, _, _, _, _, _ in missing("convertLayout") }
        invertedResidual = { _, _, _, _ in missing("invertedResidual") }
        activate = { _, _, _, _, _, _ in missing("activate") }
        prelu = { _, _, _, _, _, _ in missing("prelu") }
        binary = { _, _, _, _, _ in missing("binary") }
        broadcast = { _, _, _, _, _, _, _ in missing("broadcast") }
        softmax = { _, _, _, _, _ in missing("softmax") }
        reduce = { _, _, _, _, _, _ in missing("reduce") }
        layerNorm = { _, _, _, _, _, _, _ in missing("layerNorm") }
        resize = { _, _, _, _, _, _, _, _ in missing("resize") }
        col2im = { _, _, _, _, _, _, _, _ in missing("col2im") }
        fillRows = { _, _, _, _ in missing("fillRows") }
        transpose = { _, _, _, _ in missing("transpose") }
        fill(&self)
    }

    /// Filters packed in this set's panels (see `FilterPanels.pack`).
    package func packFilters(groups: Int, mg: Int, cg: Int, taps: Int, _ value: (Int, Int, Int) -> Float) -> PackedFilters {
        PackedFilters(nr: nr, tail: tail, groups: groups, mg: mg, cg: cg, taps: taps, value)
    }
}
