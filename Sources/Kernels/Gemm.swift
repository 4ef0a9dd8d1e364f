import KernelSupport

/// Register tile of the GEMM microkernel: 6 rows (pixels) x 16 columns (filters,
/// two SIMD8 vectors): 12 accumulators, fits the 16 AVX2 registers.
let MR = 6
package let NR = 16
/// K block of big-K convs: a 256 x 16 filter micro-panel is 16 KB, half of L1.
let KC = 256

typealias V8 = SIMD8<Float>

/// 16 zeros: the bias of a tile whose layer has none.
let zeroBias: UnsafePointer<Float> = {
    let p = allocateFloats(NR)
    p.initialize(repeating: 0, count: NR)
    return UnsafePointer(p)
}()

/// The right-hand GEMM operand (filters) in 16-column panels.
/// Layout of `data`: [groups][panels][taps][cg][16]: panel p holds columns
/// 16p..16p+15 of its group side by side for every K index (tap, input channel);
/// columns past the end are zero.
package struct FilterPanels {
    package let data: UnsafePointer<Float>
    package let groups: Int
    /// Columns (filters) per group.
    package let mg: Int
    /// Input channels per group.
    package let cg: Int
    /// Window taps (kh * kw); 1 for a plain matrix product.
    package let taps: Int

    /// 16-column panels per group.
    package var panels: Int { (mg + NR - 1) / NR }
    /// Floats in one panel: K (= taps * cg) rows of 16.
    package var panelSize: Int { taps * cg * NR }
    /// Floats in all panels.
    package var count: Int { groups * panels * panelSize }

    package func panel(group: Int, _ p: Int) -> UnsafePointer<Float> { data + (group * panels + p) * panelSize }

    /// Fills `dst` (`count` floats) with `value(f, ci, tap)`: column f (0..<groups*mg),
    /// input channel ci of its group, tap.
    package static func pack(into dst: UnsafeMutablePointer<Float>, groups: Int, mg: Int, cg: Int, taps: Int,
                     _ value: (Int, Int, Int) -> Float) -> FilterPanels {
        let view = FilterPanels(data: dst, groups: groups, mg: mg, cg: cg, taps: taps)
        dst.update(repeating: 0, count: view.count)
        for g in 0..<groups {
            for p in 0..<view.panels {
                let panel = dst + (g * view.panels + p) * view.panelSize
                for j in 0..<min(NR, mg - p * NR) {
                    let f = g * mg + p * NR + j
                    for t in 0..<taps { for ci in 0..<cg { panel[(t * cg + ci) * NR + j] = value(f, ci, t) } }
                }
            }
        }
        return view
    }
}

/// Filter panels packed once at model load, owning their memory.
package final class PackedFilters: @unchecked Sendable {
    package let panels: FilterPanels

    package init(groups: Int, mg: Int, cg: Int, taps: Int, _ value: (Int, Int, Int) -> Float) {
        let size = groups * ((mg + NR - 1) / NR) * taps * cg * NR
        let data = allocateFloats(max(size, 1))
        panels = FilterPanels.pack(into: data, groups: groups, mg: mg, cg: cg, taps: taps, value)
    }

    deinit { UnsafeMutablePointer(mutating: panels.data).deallocate() }
}

/// The 12 accumulators of a 6x16 register tile: row r, columns 0-7 (cr0) and 8-15 (cr1).
struct Tile6x16 {
    var c00 = V8(), c01 = V8(), c10 = V8(), c11 = V8(), c20 = V8(), c21 = V8()
    var c30 = V8(), c31 = V8(), c40 = V8(), c41 = V8(), c50 = V8(), c51 = V8()

    /// The FMA loop shared by every 6x16 kernel: tile += A[6, k] @ B[k, 16], A's
    /// rows at a0...a5 (k floats each), B packed [k][16] from `b`. Returns B's
    /// pointer past the k rows read.
    /// Four k steps per iteration: per step 2 B loads, 6 broadcasts and 12 FMAs,
    /// and the loop control once per four steps (per step it was 4-8 more
    /// instructions, 20-30% of the loop: seen with callgrind and objdump).
    @inline(__always)
    mutating func accumulate(_ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>, _ a2: UnsafePointer<Float>,
                             _ a3: UnsafePointer<Float>, _ a4: UnsafePointer<Float>, _ a5: UnsafePointer<Float>,
                             k: Int, b: UnsafeRawPointer) -> UnsafeRawPointer {
        var bp = b
        @inline(__always) func step(_ q: Int, _ offset: Int) {
            let b0 = bp.load(fromByteOffset: offset, as: V8.self), b1 = bp.load(fromByteOffset: offset + 32, as: V8.self)
            var av = V8(repeating: a0[q]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
            av = V8(repeating: a1[q]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
            av = V8(repeating: a2[q]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
            av = V8(repeating: a3[q]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
            av = V8(repeating: a4[q]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
            av = V8(repeating: a5[q]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
        }
        // (A down-counter or byte offsets made the compiler keep six pointer
        // increments or spill two accumulators in the indirect conv: objdump.)
        var q = 0
        while q + 4 <= k {
            step(q, 0); step(q + 1, NR * 4); step(q + 2, 2 * NR * 4); step(q + 3, 3 * NR * 4)
            bp += 4 * NR * 4
            q += 4
        }
        while q < k {
            step(q, 0)
            bp += NR * 4
            q += 1
        }
        return bp
    }
}

/// The microkernel: C[6, 16] = sum over taps and input channels of
/// A[tap][r][q] (broadcast from the row's pointer) x B panel row (16 columns),
/// then the epilogue. Edge tiles compute the full tile and store what exists.
/// a: [taps][6] row pointers, each to `cin` floats; b: [taps*cin][16];
/// c: `rows` rows of `cols` floats, row stride ldc; epilogue bias/residual
/// already offset to this tile.
///
/// K-blocked use (big K): `aOffset` is added to every row pointer (the channel
/// range's start), `accumulate` adds to what C holds, and only the `final` block
/// applies the epilogue; earlier blocks store raw sums.
// Forced inline (`@_transparent`): `@inline(__always)` stopped being honoured once
// convNHWC's caller grew past the optimiser's size limit, and an out-of-line call
// per 6x16 tile is a real cost at small K.
@_transparent
func convTile(_ a: UnsafePointer<UnsafePointer<Float>>, taps: Int, cin: Int, b: UnsafePointer<Float>,
              c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, epilogue e: Epilogue,
              aOffset: Int = 0, accumulate: Bool = false, final: Bool = true) {
    var acc = Tile6x16()
    if accumulate {
        // Rows past `rows` stay zero (never stored).
        (acc.c00, acc.c01) = loadRow(c, cols: cols)
        if rows > 1 { (acc.c10, acc.c11) = loadRow(c + ldc, cols: cols) }
        if rows > 2 { (acc.c20, acc.c21) = loadRow(c + 2 * ldc, cols: cols) }
        if rows > 3 { (acc.c30, acc.c31) = loadRow(c + 3 * ldc, cols: cols) }
        if rows > 4 { (acc.c40, acc.c41) = loadRow(c + 4 * ldc, cols: cols) }
        if rows > 5 { (acc.c50, acc.c51) = loadRow(c + 5 * ldc, cols: cols) }
    }
    var bp = UnsafeRawPointer(b)
    // An edge panel of at most 8 filters (24-, 40-channel layers): half the FMAs.
    if cols <= 8 {
        for t in 0..<taps {
            let rowp = a + t * MR
            let a0 = rowp[0] + aOffset, a1 = rowp[1] + aOffset, a2 = rowp[2] + aOffset
            let a3 = rowp[3] + aOffset, a4 = rowp[4] + aOffset, a5 = rowp[5] + aOffset
            for q in 0..<cin {
                let b0 = bp.load(as: V8.self)
                acc.c00 = acc.c00.addingProduct(V8(repeating: a0[q]), b0); acc.c10 = acc.c10.addingProduct(V8(repeating: a1[q]), b0)
                acc.c20 = acc.c20.addingProduct(V8(repeating: a2[q]), b0); acc.c30 = acc.c30.addingProduct(V8(repeating: a3[q]), b0)
                acc.c40 = acc.c40.addingProduct(V8(repeating: a4[q]), b0); acc.c50 = acc.c50.addingProduct(V8(repeating: a5[q]), b0)
                bp += NR * 4
            }
        }
    } else {
        for t in 0..<taps {
            let rowp = a + t * MR
            bp = acc.accumulate(rowp[0] + aOffset, rowp[1] + aOffset, rowp[2] + aOffset, rowp[3] + aOffset,
                                rowp[4] + aOffset, rowp[5] + aOffset, k: cin, b: bp)
        }
    }
    // Straight from registers: rows past `rows` are never stored.
    @inline(__always) func emit(_ r: Int, _ v0: V8, _ v1: V8) {
        guard r < rows else { return }
        if final {
            storeRow(v0, v1, c + r * ldc, cols: cols, bias: e.bias, residual: e.residual.map { $0 + r * ldc }, lo: e.lo, hi: e.hi)
        } else {
            storeRow(v0, v1, c + r * ldc, cols: cols, bias: nil, residual: nil, lo: -.infinity, hi: .infinity)
        }
    }
    emit(0, acc.c00, acc.c01); emit(1, acc.c10, acc.c11); emit(2, acc.c20, acc.c21)
    emit(3, acc.c30, acc.c31); emit(4, acc.c40, acc.c41); emit(5, acc.c50, acc.c51)
}

/// The full-tile microkernel for whole rows of K floats (1x1 convs, plain GEMMs,
/// gathered stem rows): C[6, 16] = clamp(bias + A[6, k] @ B[k, 16] (+ residual), lo, hi).
/// a: the 6 row pointers of A; b: [k][16]; c: rows `ldc` apart;
/// bias: 16 floats; residual: like c. No edge handling exists here: at small K
/// (expand layers, K = 16..32) the general tile's row-pointer table and edge
/// branches cost as much as its FMAs.
@_transparent
func pointwiseTile(_ a: UnsafePointer<UnsafePointer<Float>>, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                   bias: UnsafePointer<Float>, residual: UnsafePointer<Float>?, lo: V8, hi: V8) {
    var acc = Tile6x16()
    _ = acc.accumulate(a[0], a[1], a[2], a[3], a[4], a[5], k: k, b: UnsafeRawPointer(b))
    var (c00, c01, c10, c11, c20, c21) = (acc.c00, acc.c01, acc.c10, acc.c11, acc.c20, acc.c21)
    var (c30, c31, c40, c41, c50, c51) = (acc.c30, acc.c31, acc.c40, acc.c41, acc.c50, acc.c51)
    // Sum, then bias, then residual: the general tile's order, so a row's result does
    // not depend on which kernel its tile took (batch size and thread count move the
    // tile edges; scans stay byte-identical across them).
    let bias0 = UnsafeRawPointer(bias).loadUnaligned(as: V8.self), bias1 = UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 32, as: V8.self)
    c00 += bias0; c01 += bias1; c10 += bias0; c11 += bias1; c20 += bias0; c21 += bias1
    c30 += bias0; c31 += bias1; c40 += bias0; c41 += bias1; c50 += bias0; c51 += bias1
    if let residual {
        @inline(__always) func add(_ r: Int, _ v0: inout V8, _ v1: inout V8) {
            let p = UnsafeRawPointer(residual + r * ldc)
            v0 += p.loadUnaligned(as: V8.self); v1 += p.loadUnaligned(fromByteOffset: 32, as: V8.self)
        }
        add(0, &c00, &c01); add(1, &c10, &c11); add(2, &c20, &c21)
        add(3, &c30, &c31); add(4, &c40, &c41); add(5, &c50, &c51)
    }
    @inline(__always) func put(_ r: Int, _ v0: V8, _ v1: V8) {
        let p = UnsafeMutableRawPointer(c + r * ldc)
        p.storeBytes(of: clamp8(v0, lo, hi), as: V8.self); p.storeBytes(of: clamp8(v1, lo, hi), toByteOffset: 32, as: V8.self)
    }
    put(0, c00, c01); put(1, c10, c11); put(2, c20, c21)
    put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)
}

/// Reads one row of up to 16 columns (zeros past `cols`).
@inline(__always)
func loadRow(_ p: UnsafePointer<Float>, cols: Int) -> (V8, V8) {
    if cols == NR { return (UnsafeRawPointer(p).loadUnaligned(as: V8.self), UnsafeRawPointer(p).loadUnaligned(fromByteOffset: 32, as: V8.self)) }
    var lanes = (V8(), V8())
    withUnsafeMutableBytes(of: &lanes) { raw in
        let d = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for j in 0..<cols { d[j] = p[j] }
    }
    return lanes
}

/// Writes one output row of up to 16 columns: clamp(v + bias + residual, lo, hi).
@inline(__always)
func storeRow(_ v0: V8, _ v1: V8, _ out: UnsafeMutablePointer<Float>, cols: Int, bias: UnsafePointer<Float>?,
              residual: UnsafePointer<Float>?, lo: Float, hi: Float) {
    if cols == NR {
        var v0 = v0, v1 = v1
        if let bias {
            v0 += UnsafeRawPointer(bias).loadUnaligned(as: V8.self)
            v1 += UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 32, as: V8.self)
        }
        if let residual {
            v0 += UnsafeRawPointer(residual).loadUnaligned(as: V8.self)
            v1 += UnsafeRawPointer(residual).loadUnaligned(fromByteOffset: 32, as: V8.self)
        }
        let l = V8(repeating: lo), h = V8(repeating: hi)
        UnsafeMutableRawPointer(out).storeBytes(of: clamp8(v0, l, h), as: V8.self)
        UnsafeMutableRawPointer(out).storeBytes(of: clamp8(v1, l, h), toByteOffset: 32, as: V8.self)
    } else {
        // 8 or more columns: the first vector stores whole (24-, 40-channel layers end in 8).
        var j = 0
        if cols >= 8 {
            var v = v0
            if let bias { v += UnsafeRawPointer(bias).loadUnaligned(as: V8.self) }
            if let residual { v += UnsafeRawPointer(residual).loadUnaligned(as: V8.self) }
            UnsafeMutableRawPointer(out).storeBytes(of: clamp8(v, V8(repeating: lo), V8(repeating: hi)), as: V8.self)
            j = 8
        }
        var lanes = (v0, v1)
        withUnsafeBytes(of: &lanes) { raw in
            let s = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            while j < cols {
                var v = s[j]
                if let bias { v += bias[j] }
                if let residual { v += residual[j] }
                out[j] = min(max(v, lo), hi)
                j += 1
            }
        }
    }
}

/// One output row (a fully connected layer at batch 1): c[16] = a[k] @ b [k][16].
/// The weights stream once from memory: four k steps per iteration keep eight
/// independent loads and FMA chains in flight.
@inline(__always)
func rowTile(_ a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, cols: Int,
             epilogue e: Epilogue) {
    var s0 = V8(), s1 = V8(), t0 = V8(), t1 = V8(), u0 = V8(), u1 = V8(), w0 = V8(), w1 = V8()
    var bp = UnsafeRawPointer(b)
    var q = 0
    while q + 4 <= k {
        let x0 = V8(repeating: a[q]), x1 = V8(repeating: a[q + 1]), x2 = V8(repeating: a[q + 2]), x3 = V8(repeating: a[q + 3])
        s0 = s0.addingProduct(x0, bp.load(as: V8.self)); s1 = s1.addingProduct(x0, bp.load(fromByteOffset: 32, as: V8.self))
        t0 = t0.addingProduct(x1, bp.load(fromByteOffset: 64, as: V8.self)); t1 = t1.addingProduct(x1, bp.load(fromByteOffset: 96, as: V8.self))
        u0 = u0.addingProduct(x2, bp.load(fromByteOffset: 128, as: V8.self)); u1 = u1.addingProduct(x2, bp.load(fromByteOffset: 160, as: V8.self))
        w0 = w0.addingProduct(x3, bp.load(fromByteOffset: 192, as: V8.self)); w1 = w1.addingProduct(x3, bp.load(fromByteOffset: 224, as: V8.self))
        bp += 4 * NR * 4
        q += 4
    }
    while q < k {
        let x0 = V8(repeating: a[q])
        s0 = s0.addingProduct(x0, bp.load(as: V8.self)); s1 = s1.addingProduct(x0, bp.load(fromByteOffset: 32, as: V8.self))
        bp += NR * 4
        q += 1
    }
    s0 += u0; s1 += u1; t0 += w0; t1 += w1
    storeRow(s0 + t0, s1 + t1, c, cols: cols, bias: e.bias, residual: e.residual, lo: e.lo, hi: e.hi)
}
