import KernelSupport

// The GEMM microkernels, written once for every kernel set: `V` (the tile's
// vector), `VW` (its lanes), `VB` (its bytes), `NR` (= 2 VW tile columns) and
// `V.madd`/`V.clamp` come from the target's ISA.swift.

/// Register tile of the GEMM microkernel: 6 rows (pixels) x NR columns (filters,
/// two vectors): 12 accumulators, which fit the 16 registers of AVX2 and SSE
/// (NR 16 and 8) and leave 20 of AVX-512's 32 for loads (NR 32).
let MR = 6
/// K block of big-K convs: a 256 x NR filter micro-panel is 16 KB (NR 16) or 32 KB (NR 32).
let KC = 256

/// Depthwise convs, pools and elementwise ops run 8 lanes at a time in every set.
typealias V8 = SIMD8<Float>

/// NR zeros: the bias of a tile whose layer has none.
let zeroBias: UnsafePointer<Float> = {
    let p = allocateFloats(NR)
    p.initialize(repeating: 0, count: NR)
    return UnsafePointer(p)
}()

extension Optional where Wrapped == UnsafePointer<Float> {
    /// The pointer moved by n floats (nil stays nil). Not `map { $0 + n }`: inside
    /// convNHWC such closures were compiled as calls, and a call in a tile's store
    /// path spills its accumulators around it (objdump).
    @_transparent func advanced(by n: Int) -> UnsafePointer<Float>? {
        switch self {
        case .some(let p): return p + n
        case .none: return nil
        }
    }
}

/// min(a, b) for the tile loops: Swift's `min` stayed a call inside convNHWC (objdump).
@_transparent func least(_ a: Int, _ b: Int) -> Int { a < b ? a : b }

/// Where panel p of group g of `f` starts: `FilterPanels.panel`, from its stored
/// sizes, here because that method (another module's) stayed a call in convNHWC.
@_transparent func panelStart(_ f: FilterPanels, group g: Int, _ p: Int) -> UnsafePointer<Float> {
    f.data + g * f.groupSize + p * f.panelSize
}

/// The vector at p + offset, or nil without p (as `advanced(by:)`, no closure).
@_transparent func loadIfAny<T: KernelVector>(_ p: UnsafePointer<Float>?, _ offset: Int = 0) -> T? {
    switch p {
    case .some(let q): return T.load(q + offset)
    case .none: return nil
    }
}

/// The 6 x NR register tile of every set.
typealias Tile = GemmTile<V>

/// The 12 accumulators of a 6-row register tile whose row is a V and a W: row r,
/// columns 0..<VW (cr0) and VW..<VW+W's lanes (cr1). W is V for full NR-wide
/// panels, V8 for the AVX-512 set's `tailNR`-wide ones (one source for both).
struct GemmTile<W: KernelVector> {
    var c00 = V(), c01 = W(), c10 = V(), c11 = W(), c20 = V(), c21 = W()
    var c30 = V(), c31 = W(), c40 = V(), c41 = W(), c50 = V(), c51 = W()

    /// Bytes in one K row of the panel this tile reads: NR * 4 for Tile.
    static var rowBytes: Int { VB + MemoryLayout<W>.stride }

    /// The tile's rows from C (K-blocked convs add to earlier blocks' sums): rows
    /// past `rows` stay zero (never stored).
    @_transparent
    mutating func load(_ c: UnsafePointer<Float>, ldc: Int, rows: Int, cols: Int) {
        (c00, c01) = loadRow(c, cols: cols)
        if rows > 1 { (c10, c11) = loadRow(c + ldc, cols: cols) }
        if rows > 2 { (c20, c21) = loadRow(c + 2 * ldc, cols: cols) }
        if rows > 3 { (c30, c31) = loadRow(c + 3 * ldc, cols: cols) }
        if rows > 4 { (c40, c41) = loadRow(c + 4 * ldc, cols: cols) }
        if rows > 5 { (c50, c51) = loadRow(c + 5 * ldc, cols: cols) }
    }

    /// The FMA loop shared by every 6-row kernel: tile += A[6, k] @ B[k, VW + W's lanes],
    /// A's rows at a0...a5 (k floats each), B packed [k][rowBytes / 4] from `b`.
    /// Returns B's pointer past the k rows read.
    /// Four k steps per iteration: per step 2 B loads, 6 broadcasts and 12 FMAs,
    /// and the loop control once per four steps (per step it was 4-8 more
    /// instructions, 20-30% of the loop: seen with callgrind and objdump).
    @inline(__always)
    mutating func accumulate(_ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>, _ a2: UnsafePointer<Float>,
                             _ a3: UnsafePointer<Float>, _ a4: UnsafePointer<Float>, _ a5: UnsafePointer<Float>,
                             k: Int, b: UnsafeRawPointer) -> UnsafeRawPointer {
        var bp = b
        let rowBytes = Self.rowBytes
        @inline(__always) func step(_ q: Int, _ offset: Int) {
            let b0 = bp.load(fromByteOffset: offset, as: V.self), b1 = bp.load(fromByteOffset: offset + VB, as: W.self)
            // W's broadcast is V's own when W is V (one register after specialisation).
            var av = V(repeating: a0[q]); c00 = V.madd(c00, av, b0); c01 = W.madd(c01, W(repeating: a0[q]), b1)
            av = V(repeating: a1[q]); c10 = V.madd(c10, av, b0); c11 = W.madd(c11, W(repeating: a1[q]), b1)
            av = V(repeating: a2[q]); c20 = V.madd(c20, av, b0); c21 = W.madd(c21, W(repeating: a2[q]), b1)
            av = V(repeating: a3[q]); c30 = V.madd(c30, av, b0); c31 = W.madd(c31, W(repeating: a3[q]), b1)
            av = V(repeating: a4[q]); c40 = V.madd(c40, av, b0); c41 = W.madd(c41, W(repeating: a4[q]), b1)
            av = V(repeating: a5[q]); c50 = V.madd(c50, av, b0); c51 = W.madd(c51, W(repeating: a5[q]), b1)
        }
        // (A down-counter or byte offsets made the compiler keep six pointer
        // increments or spill two accumulators in the indirect conv: objdump.)
        var q = 0
        while q + 4 <= k {
            step(q, 0); step(q + 1, rowBytes); step(q + 2, 2 * rowBytes); step(q + 3, 3 * rowBytes)
            bp += 4 * rowBytes
            q += 4
        }
        while q < k {
            step(q, 0)
            bp += rowBytes
            q += 1
        }
        return bp
    }

    /// `accumulate` over every tap: a is [taps][6] row pointers, each moved by `aOffset`
    /// floats (a K block's first channel), cin floats per tap.
    @_transparent
    mutating func accumulate(taps a: UnsafePointer<UnsafePointer<Float>>, _ taps: Int, cin: Int, aOffset: Int,
                             b: UnsafeRawPointer) {
        var bp = b
        for t in 0..<taps {
            let rowp = a + t * MR
            bp = accumulate(rowp[0] + aOffset, rowp[1] + aOffset, rowp[2] + aOffset, rowp[3] + aOffset,
                            rowp[4] + aOffset, rowp[5] + aOffset, k: cin, b: bp)
        }
    }

    /// Stores the tile's rows (`rows` of them): see `tileRow`.
    @_transparent
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, final: Bool, _ e: Epilogue) {
        // Straight from registers: rows past `rows` are never stored.
        tileRow(0, c00, c01, rows: rows, c: c, ldc: ldc, cols: cols, final: final, e)
        tileRow(1, c10, c11, rows: rows, c: c, ldc: ldc, cols: cols, final: final, e)
        tileRow(2, c20, c21, rows: rows, c: c, ldc: ldc, cols: cols, final: final, e)
        tileRow(3, c30, c31, rows: rows, c: c, ldc: ldc, cols: cols, final: final, e)
        tileRow(4, c40, c41, rows: rows, c: c, ldc: ldc, cols: cols, final: final, e)
        tileRow(5, c50, c51, rows: rows, c: c, ldc: ldc, cols: cols, final: final, e)
    }
}

/// The microkernel: C[6, NR] = sum over taps and input channels of
/// A[tap][r][q] (broadcast from the row's pointer) x B panel row (NR columns),
/// then the epilogue. Edge tiles compute the full tile and store what exists.
/// a: [taps][6] row pointers, each to `cin` floats; b: [taps*cin][NR];
/// c: `rows` rows of `cols` floats, row stride ldc; epilogue bias/residual
/// already offset to this tile.
///
/// K-blocked use (big K): `aOffset` is added to every row pointer (the channel
/// range's start), `accumulate` adds to what C holds, and only the `final` block
/// applies the epilogue; earlier blocks store raw sums.
// Forced inline (`@_transparent`): `@inline(__always)` stopped being honoured once
// convNHWC's caller grew past the optimiser's size limit, and an out-of-line call
// per tile is a real cost at small K.
@_transparent
func convTile(_ a: UnsafePointer<UnsafePointer<Float>>, taps: Int, cin: Int, b: UnsafePointer<Float>,
              c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, epilogue e: Epilogue,
              aOffset: Int = 0, accumulate: Bool = false, final: Bool = true) {
    if tailNR > 0 && cols > VW && cols <= tailNR {
        // A `tailNR`-wide last panel (AVX-512: 17-24 filters, a zmm and a ymm a row):
        // where zmm FMAs run as two halves (Zen 4) the ymm costs half, so a 24-filter
        // layer does 3/4 of a 32-wide panel's work. Sums in the same order as below.
        var acc = GemmTile<V8>()
        if accumulate { acc.load(c, ldc: ldc, rows: rows, cols: cols) }
        acc.accumulate(taps: a, taps, cin: cin, aOffset: aOffset, b: UnsafeRawPointer(b))
        acc.store(c, ldc: ldc, rows: rows, cols: cols, final: final, e)
        return
    }
    var acc = Tile()
    if accumulate { acc.load(c, ldc: ldc, rows: rows, cols: cols) }
    var bp = UnsafeRawPointer(b)
    // An edge panel of at most VW filters (24-, 40-channel layers with NR 16), packed
    // VW wide (FilterPanels): half the FMAs. One chain per output, K in order, as in
    // `wideTile`, which runs this panel together with the full one before it: a
    // layer's outputs must not depend on which of the two ran (the thread count
    // decides). (Even and odd K steps in two sets of accumulators ran an 8-filter
    // panel alone ~10% faster, but `wideTile` has no registers left for them.)
    if cols <= VW {
        for t in 0..<taps {
            let rowp = a + t * MR
            let a0 = rowp[0] + aOffset, a1 = rowp[1] + aOffset, a2 = rowp[2] + aOffset
            let a3 = rowp[3] + aOffset, a4 = rowp[4] + aOffset, a5 = rowp[5] + aOffset
            for q in 0..<cin {
                let b0 = bp.load(as: V.self)
                acc.c00 = V.madd(acc.c00, V(repeating: a0[q]), b0); acc.c10 = V.madd(acc.c10, V(repeating: a1[q]), b0)
                acc.c20 = V.madd(acc.c20, V(repeating: a2[q]), b0); acc.c30 = V.madd(acc.c30, V(repeating: a3[q]), b0)
                acc.c40 = V.madd(acc.c40, V(repeating: a4[q]), b0); acc.c50 = V.madd(acc.c50, V(repeating: a5[q]), b0)
                bp += VB
            }
        }
    } else {
        acc.accumulate(taps: a, taps, cin: cin, aOffset: aOffset, b: bp)
    }
    acc.store(c, ldc: ldc, rows: rows, cols: cols, final: final, e)
}

/// Stores row r of a register tile (when r < rows): the epilogue for the `final`
/// K block, raw sums before it. A free `@_transparent` function, not a local one:
/// the kernels' local `emit` functions were compiled out of line inside convNHWC
/// (their `@inline(__always)` not honoured there), and each call spilled the
/// tile's other accumulators around it (objdump: vzeroupper, call, reloads).
@_transparent
func tileRow<W: KernelVector>(_ r: Int, _ v0: V, _ v1: W, rows: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, final: Bool,
             _ e: Epilogue) {
    guard r < rows else { return }
    if final {
        storeRow(v0, v1, c + r * ldc, cols: cols, bias: e.bias, residual: e.residual.advanced(by: r * ldc), e)
    } else {
        // Raw sums: e without its clamp, activation and residual (set field by field:
        // `Epilogue()`, another module's initialiser, was a call per row).
        var raw = e
        raw.lo = -.infinity
        raw.hi = .infinity
        raw.activation.kind = .none
        storeRow(v0, v1, c + r * ldc, cols: cols, bias: nil, residual: nil, raw)
    }
}

/// Three rows (row0..<row0+3 of a tile's six) of a full panel and the narrow edge
/// panel after it (24-filter layers with NR 16, 48 with NR 32), NR + VW columns at
/// once in 9 accumulators. Each input value is broadcast once for all the columns:
/// as two panels every input was read twice, and on PP-OCR det's 24-filter 3x3
/// convs those reads missing L1 were where the time went (perf annotate). Per
/// output the sums run in `convTile`'s order (taps, then channels, one chain), so
/// a layer's outputs are the same whichever of the two ran its columns.
/// (12 accumulators, to keep the narrow columns' even and odd K steps apart, left
/// the compiler shuffling registers every step: 25-55% slower than two panels.)
/// a: [taps][6] row pointers; b: the full panel [taps*cin][NR]; bn: the narrow one
/// [taps*cin][VW]; c: `rows` (1...3) rows of `cols` (NR < cols <= NR + VW) floats,
/// ldc apart; the epilogue's bias and residual already offset to c's first column.
@_transparent
func wideTile(_ a: UnsafePointer<UnsafePointer<Float>>, row0: Int, taps: Int, cin: Int, b: UnsafePointer<Float>,
              bn: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, epilogue e: Epilogue) {
    var c00 = V(), c01 = V(), n0 = V(), c10 = V(), c11 = V(), n1 = V(), c20 = V(), c21 = V(), n2 = V()
    var bp = UnsafeRawPointer(b), np = UnsafeRawPointer(bn)
    for t in 0..<taps {
        let rowp = a + t * MR + row0
        let a0 = rowp[0], a1 = rowp[1], a2 = rowp[2]
        @inline(__always) func step(_ q: Int, _ i: Int) {
            let b0 = bp.load(fromByteOffset: 2 * i * VB, as: V.self), b1 = bp.load(fromByteOffset: (2 * i + 1) * VB, as: V.self)
            let bv = np.load(fromByteOffset: i * VB, as: V.self)
            var av = V(repeating: a0[q]); c00 = V.madd(c00, av, b0); c01 = V.madd(c01, av, b1); n0 = V.madd(n0, av, bv)
            av = V(repeating: a1[q]); c10 = V.madd(c10, av, b0); c11 = V.madd(c11, av, b1); n1 = V.madd(n1, av, bv)
            av = V(repeating: a2[q]); c20 = V.madd(c20, av, b0); c21 = V.madd(c21, av, b1); n2 = V.madd(n2, av, bv)
        }
        // Two K steps per iteration: the loop control once per 18 FMAs.
        var q = 0
        while q + 2 <= cin {
            step(q, 0); step(q + 1, 1)
            bp += 4 * VB
            np += 2 * VB
            q += 2
        }
        if q < cin {
            step(q, 0)
            bp += 2 * VB
            np += VB
        }
    }
    wideRow(0, c00, c01, n0, rows: rows, c: c, ldc: ldc, cols: cols, e)
    wideRow(1, c10, c11, n1, rows: rows, c: c, ldc: ldc, cols: cols, e)
    wideRow(2, c20, c21, n2, rows: rows, c: c, ldc: ldc, cols: cols, e)
}

/// Stores row r of a `wideTile` (when r < rows): NR columns, then the narrow rest.
/// Free and `@_transparent` for the reason given at `tileRow`.
@_transparent
func wideRow(_ r: Int, _ v0: V, _ v1: V, _ v2: V, rows: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, _ e: Epilogue) {
    guard r < rows else { return }
    let out = c + r * ldc, res = e.residual.advanced(by: r * ldc)
    storeRow(v0, v1, out, cols: NR, bias: e.bias, residual: res, e)
    storeRow(v2, V(), out + NR, cols: cols - NR, bias: e.bias.advanced(by: NR), residual: res.advanced(by: NR), e)
}

/// The full-tile microkernel for whole rows of K floats (1x1 convs, plain GEMMs,
/// gathered stem rows): C[6, NR] = epilogue(A[6, k] @ B[k, NR] + bias (, residual)).
/// a: the 6 row pointers of A; b: [k][NR]; c: rows `ldc` apart;
/// bias: NR floats; residual: like c. No edge handling exists here: at small K
/// (expand layers, K = 16..32) the general tile's row-pointer table and edge
/// branches cost as much as its FMAs.
@_transparent
func pointwiseTile(_ a: UnsafePointer<UnsafePointer<Float>>, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                   bias: UnsafePointer<Float>, residual: UnsafePointer<Float>?, epilogue e: Epilogue) {
    var acc = Tile()
    _ = acc.accumulate(a[0], a[1], a[2], a[3], a[4], a[5], k: k, b: UnsafeRawPointer(b))
    var (c00, c01, c10, c11, c20, c21) = (acc.c00, acc.c01, acc.c10, acc.c11, acc.c20, acc.c21)
    var (c30, c31, c40, c41, c50, c51) = (acc.c30, acc.c31, acc.c40, acc.c41, acc.c50, acc.c51)
    // Sum, then bias, then the rest of the epilogue: the general tile's order, so a
    // row's result does not depend on which kernel its tile took (batch size and
    // thread count move the tile edges; scans stay byte-identical across them).
    let bias0 = V.load(bias), bias1 = V.load(bias + VW)
    c00 += bias0; c01 += bias1; c10 += bias0; c11 += bias1; c20 += bias0; c21 += bias1
    c30 += bias0; c31 += bias1; c40 += bias0; c41 += bias1; c50 += bias0; c51 += bias1
    @inline(__always) func put(_ r: Int, _ v0: V, _ v1: V) {
        let p = c + r * ldc
        let res = residual.advanced(by: r * ldc)
        finish(v0, residual: loadIfAny(res), e).store(p)
        finish(v1, residual: loadIfAny(res, VW), e).store(p + VW)
    }
    put(0, c00, c01); put(1, c10, c11); put(2, c20, c21)
    put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)

}

/// The epilogue's activation over a stored tile of `rows` rows of `cols` outputs,
/// `ldc` apart (the residual, when it comes after the activation, at the same offsets).
@inline(never)
func activateTile(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, _ e: Epilogue) {
    // Whole rows are one contiguous run: one loop, one tail.
    if cols == ldc {
        activateRun(c, rows * cols, e, residual: e.residual)
        return
    }
    for r in 0..<rows { activateRun(c + r * ldc, cols, e, residual: e.residual.advanced(by: r * ldc)) }
}

/// Reads one row of up to VW + W's lanes columns (zeros past `cols`).
@inline(__always)
func loadRow<W: KernelVector>(_ p: UnsafePointer<Float>, cols: Int) -> (V, W) {
    if cols == VW + W.scalarCount { return (V.load(p), W.load(p + VW)) }
    let n0 = min(cols, VW)
    return (V.load(p, count: n0), cols > VW ? W.loadPartial(p + VW, cols - VW) : W())
}

/// Writes one output row of up to VW + W's lanes columns (NR for W = V): the
/// epilogue of v + bias (with the residual), all but the activation (`activateTile`
/// once the tile's rows are stored, by the conv's loop). A partial row's last vector
/// goes through the same vector code, loaded and stored partially.
/// `@_transparent` like `tileRow`: inside convNHWC `@inline(__always)` left it a call.
@_transparent
func storeRow<W: KernelVector>(_ v0: V, _ v1: W, _ out: UnsafeMutablePointer<Float>, cols: Int, bias: UnsafePointer<Float>?,
                               residual: UnsafePointer<Float>?, _ e: Epilogue) {
    if cols == VW + W.scalarCount {
        var a = v0, b = v1
        if let bias { a += V.load(bias); b += W.load(bias + VW) }
        finish(a, residual: loadIfAny(residual), e).store(out)
        finish(b, residual: loadIfAny(residual, VW), e).store(out + VW)
        return
    }
    guard cols >= VW else {
        storePartialRow(v0, out, cols, bias: bias, residual: residual, e)
        return
    }
    // VW or more columns: the first vector stores whole (24-, 40-channel layers end in 8 with NR 16).
    var v = v0
    if let bias { v += V.load(bias) }
    finish(v, residual: loadIfAny(residual), e).store(out)
    guard cols > VW else { return }
    storePartialRow(v1, out + VW, cols - VW, bias: bias.advanced(by: VW), residual: residual.advanced(by: VW), e)
}

/// The first n (fewer than T's lanes) columns of a row through the same vector
/// epilogue as whole vectors, loaded and stored partially (masked where the set has
/// it: lane by lane, this was a fifth of a 12-filter conv's time).
@_transparent
func storePartialRow<T: KernelVector>(_ v: T, _ out: UnsafeMutablePointer<Float>, _ n: Int, bias: UnsafePointer<Float>?,
                                      residual: UnsafePointer<Float>?, _ e: Epilogue) {
    var v = v
    if let bias { v += T.loadPartial(bias, n) }
    var r: T? = nil
    if let residual { r = T.loadPartial(residual, n) }
    finish(v, residual: r, e).storePartial(out, n)
}

/// One output row (a fully connected layer at batch 1): c[NR] = a[k] @ b [k][NR]
/// (b [k][VW] for a narrow edge panel of at most VW columns, [k][tailNR] for a tail one).
/// The weights stream once from memory: four k steps per iteration keep eight
/// independent loads and FMA chains in flight.
@inline(__always)
func rowTile(_ a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, cols: Int,
             epilogue e: Epilogue) {
    if cols <= VW {
        var s0 = V(), t0 = V(), u0 = V(), w0 = V()
        var bp = UnsafeRawPointer(b)
        var q = 0
        // A narrow edge panel, [k][VW]: the same four chains (k mod 4), one vector each.
        while q + 4 <= k {
            s0 = V.madd(s0, V(repeating: a[q]), bp.load(as: V.self))
            t0 = V.madd(t0, V(repeating: a[q + 1]), bp.load(fromByteOffset: VB, as: V.self))
            u0 = V.madd(u0, V(repeating: a[q + 2]), bp.load(fromByteOffset: 2 * VB, as: V.self))
            w0 = V.madd(w0, V(repeating: a[q + 3]), bp.load(fromByteOffset: 3 * VB, as: V.self))
            bp += 4 * VB
            q += 4
        }
        while q < k {
            s0 = V.madd(s0, V(repeating: a[q]), bp.load(as: V.self))
            bp += VB
            q += 1
        }
        s0 += u0; t0 += w0
        storeRow(s0 + t0, V(), c, cols: cols, bias: e.bias, residual: e.residual, e)
        return
    }
    if tailNR > 0 && cols <= tailNR {
        rowTileColumns(V8.self, a, k: k, b: b, c: c, cols: cols, epilogue: e)
    } else {
        rowTileColumns(V.self, a, k: k, b: b, c: c, cols: cols, epilogue: e)
    }
}

/// `rowTile` over a panel whose K row is a V and a W (NR columns; `tailNR` with W = V8).
@inline(__always)
func rowTileColumns<W: KernelVector>(_: W.Type, _ a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                     cols: Int, epilogue e: Epilogue) {
    var s0 = V(), s1 = W(), t0 = V(), t1 = W(), u0 = V(), u1 = W(), w0 = V(), w1 = W()
    var bp = UnsafeRawPointer(b)
    let rowBytes = GemmTile<W>.rowBytes
    var q = 0
    while q + 4 <= k {
        let x0 = V(repeating: a[q]), x1 = V(repeating: a[q + 1]), x2 = V(repeating: a[q + 2]), x3 = V(repeating: a[q + 3])
        let y0 = W(repeating: a[q]), y1 = W(repeating: a[q + 1]), y2 = W(repeating: a[q + 2]), y3 = W(repeating: a[q + 3])
        s0 = V.madd(s0, x0, bp.load(as: V.self)); s1 = W.madd(s1, y0, bp.load(fromByteOffset: VB, as: W.self))
        t0 = V.madd(t0, x1, bp.load(fromByteOffset: rowBytes, as: V.self))
        t1 = W.madd(t1, y1, bp.load(fromByteOffset: rowBytes + VB, as: W.self))
        u0 = V.madd(u0, x2, bp.load(fromByteOffset: 2 * rowBytes, as: V.self))
        u1 = W.madd(u1, y2, bp.load(fromByteOffset: 2 * rowBytes + VB, as: W.self))
        w0 = V.madd(w0, x3, bp.load(fromByteOffset: 3 * rowBytes, as: V.self))
        w1 = W.madd(w1, y3, bp.load(fromByteOffset: 3 * rowBytes + VB, as: W.self))
        bp += 4 * rowBytes
        q += 4
    }
    while q < k {
        s0 = V.madd(s0, V(repeating: a[q]), bp.load(as: V.self))
        s1 = W.madd(s1, W(repeating: a[q]), bp.load(fromByteOffset: VB, as: W.self))
        bp += rowBytes
        q += 1
    }
    s0 += u0; s1 += u1; t0 += w0; t1 += w1
    storeRow(s0 + t0, s1 + t1, c, cols: cols, bias: e.bias, residual: e.residual, e)
}
