import KernelSupport

// Vector math for every kernel set: exp, erf and the activations, written once
// over any float vector of the set (its ISA.swift makes V and V8 `KernelVector`s,
// with the set's own multiply-add, clamp and partial loads and stores). Everything here is inlined into
// the kernels and specialised per vector type: no libm call per element (Sigmoid
// called Foundation's exp per element before: a tenth of YOLOv8n's time).

/// A float vector a kernel set computes with: its multiply-add (an FMA where the
/// set has one, `c + a * b` in the portable set), clamp (vmaxps + vminps) and
/// partial loads and stores (masked where the set has masks, else lane by lane).
/// Generic code must not use `replacing(with:where:)` or `pointwiseMin`: once
/// generic they compile to a loop over lanes (seen with objdump).
protocol KernelVector: SIMD where Scalar == Float, MaskStorage.Scalar == Int32 {
    /// c + a * b.
    static func madd(_ c: Self, _ a: Self, _ b: Self) -> Self
    /// min(max(v, lo), hi) per lane.
    static func clamp(_ v: Self, _ lo: Self, _ hi: Self) -> Self
    /// The first `count` (< lanes) floats at p, the other lanes zero, reading nothing past them.
    static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Self
    /// Stores the first `count` (< lanes) lanes at p, writing nothing past them.
    func storePartial(_ p: UnsafeMutablePointer<Float>, _ count: Int)
}

extension KernelVector {
    @inline(__always) static func splat(_ v: Float) -> Self { Self(repeating: v) }

    /// The lanes' bits as 32-bit integers, and back.
    @inline(__always) var bits: MaskStorage { unsafeBitCast(self, to: MaskStorage.self) }
    @inline(__always) init(bits: MaskStorage) { self = unsafeBitCast(bits, to: Self.self) }

    /// `loadPartial` lane by lane, for a set without masked loads (the portable one):
    /// a row's tail goes through the same vector code as its body, so every element
    /// is computed alike.
    @inline(__always) static func loadLanes(_ p: UnsafePointer<Float>, _ count: Int) -> Self {
        var v = Self()
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    /// `storePartial` lane by lane.
    @inline(__always) func storeLanes(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { p[i] = self[i] }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }

    /// `count` (1 to all lanes) floats: one whole-vector load when they fill it, else
    /// `loadPartial`, for loops that step over a row a vector or its tail at a time.
    @inline(__always) static func load(_ p: UnsafePointer<Float>, count: Int) -> Self {
        count == scalarCount ? load(p) : loadPartial(p, count)
    }

    /// Stores the first `count` (1 to all) lanes, as `load(_:count:)` reads them.
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count == scalarCount { store(p) } else { storePartial(p, count) }
    }
}

/// exp(x) (relative error ~1.2e-7 in float): x = n ln 2 + r with |r| <= ln 2 / 2,
/// exp(r) by Cephes' degree-6 polynomial, 2^n added to the exponent bits. Inputs
/// are clamped to +-88.38: the result saturates at FLT_MAX-ish and ~1e-38.
@inline(__always)
func vexp<T: KernelVector>(_ x0: T) -> T {
    let x = T.clamp(x0, .splat(-88.3762626647949), .splat(88.3762626647949))
    // Round x / ln 2 to an integer by adding 1.5 * 2^23: n sits in the low mantissa bits.
    let magic = T.splat(12582912)
    let t = T.madd(magic, x, .splat(1.44269504088896341))
    let n = t - magic
    // r = x - n ln 2, ln 2 in two parts so r keeps its low bits.
    var r = T.madd(x, n, .splat(-0.693359375))
    r = T.madd(r, n, .splat(2.12194440e-4))
    var p = T.splat(1.9875691500e-4)
    p = T.madd(.splat(1.3981999507e-3), p, r)
    p = T.madd(.splat(8.3334519073e-3), p, r)
    p = T.madd(.splat(4.1665795894e-2), p, r)
    p = T.madd(.splat(1.6666665459e-1), p, r)
    p = T.madd(.splat(5.0000001201e-1), p, r)
    p = T.madd(r + 1, p, r * r)
    let scale = T(bits: ((t.bits &- magic.bits) &+ 127) &<< 23)
    return p * scale
}

/// erf(x) as Eigen's and XNNPACK's fast float erf: x clamped to [-4, 4] (where
/// erf is within 2e-8 of +-1), then x P(x^2) / Q(x^2), degrees 13 and 8: no exp,
/// one division (GELU's cost in PP-OCR's convs went from ~3 to ~1 ns an element).
@inline(__always)
func verf<T: KernelVector>(_ x0: T) -> T {
    let x = T.clamp(x0, .splat(-4), .splat(4))
    let x2 = x * x
    var p = T.splat(-2.72614225801306e-10)
    p = T.madd(.splat(2.77068142495902e-08), p, x2)
    p = T.madd(.splat(-2.10102402082508e-06), p, x2)
    p = T.madd(.splat(-5.69250639462346e-05), p, x2)
    p = T.madd(.splat(-7.34990630326855e-04), p, x2)
    p = T.madd(.splat(-2.95459980854025e-03), p, x2)
    p = T.madd(.splat(-1.60960333262415e-02), p, x2)
    var q = T.splat(-1.45660718464996e-05)
    q = T.madd(.splat(-2.13374055278905e-04), q, x2)
    q = T.madd(.splat(-1.68282697438203e-03), q, x2)
    q = T.madd(.splat(-7.37332916720468e-03), q, x2)
    q = T.madd(.splat(-1.42647390514189e-02), q, x2)
    return x * p / q
}

/// 1 / (1 + exp(-x)) as Eigen's fast logistic (onnxruntime's MLAS uses the same):
/// x clamped to [-18, 18], then 1/2 + x P(x^2) / Q(x^2), degrees 9 and 10: no exp.
/// Absolute error below 1.5e-7 (so SiLU's x * sigmoid(x) is within |x| 1.5e-7);
/// the result loses relative precision where it is tiny (x < -10), as onnxruntime's
/// does. 0.46 against 0.74 ns an element for the exp form (SiLU, AVX2, Zen 4):
/// YOLOv8n's SiLUs took a tenth of its time.
@inline(__always)
func vsigmoid<T: KernelVector>(_ x0: T) -> T {
    let x = T.clamp(x0, .splat(-18), .splat(18))
    let x2 = x * x
    var p = T.madd(.splat(1.15627324459942e-07), x2, .splat(4.37031012579801e-11))
    p = T.madd(.splat(6.08574864600143e-05), p, x2)
    p = T.madd(.splat(8.51377133304701e-03), p, x2)
    p = T.madd(.splat(2.48287947061529e-01), p, x2)
    var q = T.madd(.splat(5.76102136993427e-09), x2, .splat(6.10247389755681e-13))
    q = T.madd(.splat(6.29106785017040e-06), q, x2)
    q = T.madd(.splat(1.70198817374094e-03), q, x2)
    q = T.madd(.splat(1.16817656904453e-01), q, x2)
    q = T.madd(.splat(9.93151921023180e-01), q, x2)
    // Clamped to [0, 1]: at x = -18 the rational is -6e-8, and a probability must not
    // come out negative.
    return T.clamp(x * p / q + .splat(0.5), .splat(0), .splat(1))
}

/// The activation `a` on every lane.
@inline(__always)
func activate<T: KernelVector>(_ v: T, _ a: Activation) -> T {
    switch a.kind {
    case .none: return v
    case .sigmoid: return vsigmoid(v)
    case .silu: return v * vsigmoid(v)
    case .hardSigmoid: return T.clamp(T.madd(.splat(a.beta), v, .splat(a.alpha)), .splat(0), .splat(1))
    case .hardSwish: return v * T.clamp(T.madd(.splat(a.beta), v, .splat(a.alpha)), .splat(0), .splat(1))
    case .gelu: return .splat(0.5) * v * (1 + verf(v * .splat(0.70710678118654752)))
    case .erf: return verf(v)
    case .sqrt: return v.squareRoot()
    case .exp: return vexp(v)
    }
}

/// An epilogue's work on one vector of outputs whose bias is already added: the
/// residual (when it comes before the activation, or when there is none), then
/// the clamp. The activation is applied by `activateStored`/`activateTile` once a
/// chunk of rows is stored: inlined here, its polynomials made every store site of
/// the conv kernels large enough to slow the plain bias+clamp epilogues 1.3-2.5x
/// (measured on MobileNetV2), and per tile its call cost as much as a GELU.
@inline(__always)
func finish<T: KernelVector>(_ v: T, residual: T?, _ e: Epilogue) -> T {
    var v = v
    if let r = residual, !e.residualAfter { v += r }
    v = T.clamp(v, .splat(e.lo), .splat(e.hi))
    if let r = residual, e.residualAfter, e.activation.isNone { v += r }
    return v
}

extension Activation {
    /// No activation. A case match: `kind != .none` on a type from another module
    /// became a call to Equatable's witness per stored vector (seen in perf), and
    /// `kind.rawValue` a call to the raw-value getter (194 calls in convNHWC:
    /// objdump); a call in a kernel's store path spills its accumulators.
    @inline(__always) var isNone: Bool {
        if case .none = kind { return true }
        return false
    }
}

/// The epilogue's activation on `n` stored outputs at p, then the residual when it
/// comes after the activation (its outputs at `residual`). Kernels call it (or
/// `activateTile`) after storing a chunk of rows when `e.activation` is not none.
@inline(never)
func activateStored(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ e: Epilogue, residual: UnsafePointer<Float>?) {
    activateRun(p, n, e, residual: residual)
}

/// The body of `activateStored`, inlined into the callers that loop over rows.
@inline(__always)
func activateRun(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ e: Epilogue, residual: UnsafePointer<Float>?) {
    let r = e.residualAfter ? residual : nil
    var i = 0
    while i + VW <= n {
        var v = activate(V.load(p + i), e.activation)
        if let r { v += V.load(r + i) }
        v.store(p + i)
        i += VW
    }
    if i < n {
        var v = activate(V.loadPartial(p + i, n - i), e.activation)
        if let r { v += V.loadPartial(r + i, n - i) }
        v.storePartial(p + i, n - i)
    }
}
