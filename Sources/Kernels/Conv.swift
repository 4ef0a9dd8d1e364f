import Dispatch
import CSIMD
import KernelSupport

// Convolutions run on NHWC activations: a pixel's channels are contiguous, so
// every Conv is a GEMM of pixels (rows) by filters (columns) whose left
// operand is read in place through per-tap row pointers (an "indirect GEMM",
// as in XNNPACK): no im2col matrix is ever built, padding points at a row of
// zeros, 1x1 convs and fully connected layers are the same kernel with one tap,
// and a batch simply adds rows. Depthwise convs and pools vectorise across
// channels. Measured against the previous NCHW im2col engine: see README (Speed).

/// NHWC convolution (any kernel, stride, dilation, pads, groups) as an indirect GEMM:
/// y [N*OH*OW, M] = rows of x gathered per tap [N*OH*OW, taps*Cg] @ filters [taps*Cg, M] per group.
/// `zeros` holds at least Cg zeros (the row padding taps point at), kw*Cg for ungrouped convs.
package func convNHWC(_ x: UnsafePointer<Float>, _ s: ConvShape, filters f: FilterPanels, epilogue e: Epilogue,
              zeros: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, threads: Int) {
    let rows = s.batch * s.oh * s.ow
    let tiles = (rows + MR - 1) / MR
    // Panels per block: a block of packed filters (taps*Cg x NR*block) stays in L2
    // while every row tile of the task streams past it.
    let block = max(1, min(f.panels, (192 * 1024) / (f.panelSize * 4)))
    // Few row tiles (small images, fully connected layers): split filters across threads
    // instead, also whenever the panels divide more evenly than the tiles (a 7x7 map is 9
    // tiles, 5 + 4 over two threads; its 8 or 16 panels split 4 + 4: measured 1.5x -> 1.9x).
    func unevenness(_ n: Int) -> Int { (n + threads - 1) / threads * threads - n }
    let byPanels = threads > 1 && f.panels >= threads
        && (tiles < 4 * threads || (tiles < 16 * threads && unevenness(f.panels) * tiles < unevenness(tiles) * f.panels))
    let useful = threadsWorth(flops: 2 * rows * f.taps * f.cg * f.mg * f.groups, threads: threads)
    // Several tasks per thread when splitting rows: threads claim them as they come
    // free, so one woken late (or slowed by the VM) does not hold the op for half of it.
    let tasks = useful <= 1 ? 1 : byPanels ? min(useful, f.panels) : min(4 * useful, tiles)
    let win = s.win, taps = f.taps, cg = f.cg
    let pointwise = taps == 1 && win.stride == (1, 1) && win.pads == (0, 0, 0, 0)
    let k = taps * cg
    // Few channels: window rows read in place (or gathered) per tile, instead of a
    // tap of cg channels at a time. Also 16-31 channels on big images: YOLOv8n's
    // 16-channel 3x3s at 160x160 and 80x80 (NudeNet 320n -10..12%) and PP-OCR det's
    // 2x2 24->12 at 272x480 (8.2 -> 7.1 ms) ran faster so; R-Net's 28-channel 3x3 at
    // 9x9 ran 40% slower (same-binary A/B). The sums come out alike either way.
    let gather = taps > 1 && (cg < 16 || (cg < 32 && rows >= 4096))
    // `zeros` holds kw*Cg zeros for ungrouped convs (PreparedWeights): a whole window row of padding.
    let rowTaps = gather && f.groups == 1 && win.dilation.w == 1
    let (xAddr, yAddr) = (Int(bitPattern: x), Int(bitPattern: y))
    // Big K (deep 3x3 and 1x1 layers), where the set blocks K (`kBlockedAbove`): K
    // in blocks of at most KC, so one filter micro-panel (KC x NR) stays in L1 while
    // all the task's row tiles pass it; partial sums wait in y between blocks.
    let chunks = !gather && k > kBlockedAbove ? kBlocks(taps: taps, cg: cg) : []
    // An input larger than L2 (2 MB here; PP-OCR det's 48 channels at 272x480 are 25 MB)
    // comes from memory as the tiles reach it, and the FMAs wait: such convs prefetch.
    let inputOutgrowsL2 = s.batch * s.h * s.w * s.c > (1 << 19)
    // Windowed, ungrouped: each tile asks L2 for the input rows the next output row
    // adds under its columns (`prefetchNextOutputRow`).
    let prefetchInput = f.groups == 1 && inputOutgrowsL2
    let work = { (task: Int) in
        let x = UnsafePointer<Float>(bitPattern: xAddr)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddr)!
        let (tLo, tHi) = byPanels ? (0, tiles) : (tiles * task / tasks, tiles * (task + 1) / tasks)
        let (pLo, pHi) = byPanels ? (f.panels * task / tasks, f.panels * (task + 1) / tasks) : (0, f.panels)
        // This task has the group's last full panel and the narrow one after it: the two
        // run together (`wideTilePair`).
        let narrowPair = pHi == f.panels && pHi - pLo >= 2 && f.width(pHi - 1) == VW
        /// The epilogue's activation over output rows `r` of group g, this task's
        /// columns only, once their sums (and bias, residual) are stored.
        func activate(_ y: UnsafeMutablePointer<Float>, group g: Int, rows r: Range<Int>) {
            guard !e.activation.isNone else { return }
            let c0Col = g * f.mg + pLo * NR, c1Col = g * f.mg + min(pHi * NR, f.mg)
            var te = e
            te.residual = e.residual.advanced(by: r.lowerBound * s.m + c0Col)
            activateTile(y + r.lowerBound * s.m + c0Col, ldc: s.m, rows: r.count, cols: c1Col - c0Col, te)
        }
        if !pointwise && !gather {
            // Indirect GEMM over chunks of row tiles: the chunk's row pointers (all taps)
            // are computed once, then each filter panel (or K block of it) stays in L1
            // while the chunk's tiles pass it, and the chunk's input rows stay in L2
            // across panels. K blocks accumulate in y, which the chunk keeps in cache.
            let blocks = chunks.isEmpty ? [(taps: 0..<taps, channels: 0..<cg)] : chunks
            let chunkTiles = 16, perTile = taps * MR
            // Not with K blocks: `wideTile` sums the whole K.
            let wide = narrowPair && blocks.count == 1
            // Row pointers of a chunk's tiles: [tile][tap][6]. From the scratch pool: the
            // table outgrows the stack for big windows, and steady state allocates nothing.
            Scratch.with(chunkTiles * perTile * 2) { floats in
                UnsafeMutableRawPointer(floats).withMemoryRebound(to: UnsafePointer<Float>.self, capacity: chunkTiles * perTile) { table in
                    for g in 0..<f.groups {
                        var c0 = tLo
                        while c0 < tHi {
                            let c1 = min(tHi, c0 + chunkTiles)
                            for t in c0..<c1 {
                                tilePointers(x, s, tile: t, rows: rows, channel0: g * cg, zeros: zeros, into: table + (t - c0) * perTile)
                                if prefetchInput { prefetchNextOutputRow(x, s, m0: t * MR) }
                            }
                            for (bi, blk) in blocks.enumerated() {
                                let kOffset = blk.taps.lowerBound * cg + blk.channels.lowerBound
                                if wide {
                                    // The last full panel and the narrow one together (`wideTile`).
                                    for t in c0..<c1 {
                                        wideTilePair(table + (t - c0) * perTile, taps: taps, cin: cg, f, group: g, e, y: y, ldc: s.m,
                                                     row0: t * MR, rows: least(MR, rows - t * MR))
                                    }
                                }
                                for p in pLo..<(wide ? pHi - 2 : pHi) {
                                    let bOffset = kOffset * f.width(p)
                                    let col = g * f.mg + p * NR
                                    var te = e
                                    te.bias = e.bias.advanced(by: col)
                                    let panel = panelStart(f, group: g, p) + bOffset
                                    for t in c0..<c1 {
                                        let off = t * MR * s.m + col
                                        te.residual = e.residual.advanced(by: off)
                                        convTile(table + (t - c0) * perTile + blk.taps.lowerBound * MR, taps: blk.taps.count,
                                                 cin: blk.channels.count, b: panel, c: y + off, ldc: s.m, rows: least(MR, rows - t * MR),
                                                 cols: least(NR, f.mg - p * NR), epilogue: te, aOffset: blk.channels.lowerBound,
                                                 accumulate: bi > 0, final: bi == blocks.count - 1)
                                    }
                                }
                            }
                            // The activation once per chunk (per tile it cost a call and a
                            // switch for every 6 x 16 outputs).
                            activate(y, group: g, rows: c0 * MR..<least(c1 * MR, rows))
                            c0 = c1
                        }
                    }
                }
            }
            return
        }
        // 1x1 convs (rows read in place at stride C) and few-channel convs (stems: per-tap
        // loops would be a handful of FMAs each), one row tile at a time. ptrs: the
        // tile's row pointers, [6], or for row taps [kh][6]; rowsBuf: a gathered tile's
        // rows copied contiguous, [6][taps*cg].
        let noBias = zeroBias
        // A 1x1 conv over an input larger than L2 reads each tile's rows from memory, and
        // the FMAs waited on them (perf: the stalls sat on the first broadcast of each new
        // line): each tile asks for the rows two tiles ahead. (PP-OCR det's 1x1 96->48 at
        // 136x240: 6.0-7.4 -> 4.8-6.4 ms; det -5%, the classifiers, whose inputs are
        // smaller, unchanged: same-binary A/B.)
        let prefetchRows = pointwise && cg == s.c && inputOutgrowsL2
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps * MR + MR) { buf in
        // Gathered rows: [6][k] plus 8 floats of slack for whole-vector copies.
        let segmentVectors = (win.kernel.w * cg + 7) / 8
        Scratch.with(gather ? MR * k + 8 : 0) { rowsBuf in
            let ptrs = buf.baseAddress!, gathered = buf.baseAddress! + taps * MR
            for r in 0..<MR { gathered[r] = UnsafePointer(rowsBuf + r * k) }
            for g in 0..<f.groups {
                var b0 = pLo
                while b0 < pHi {
                    let b1 = min(pHi, b0 + block)
                    var activateFrom = tLo * MR
                    for t in tLo..<tHi {
                        let m0 = t * MR
                        // Rows past the end repeat the last row: computed, never stored.
                        if pointwise { for r in 0..<MR { ptrs[r] = x + least(m0 + r, rows - 1) * s.c + g * cg } }
                        if prefetchRows && b0 == pLo {
                            let ahead = (m0 + 2 * MR) * s.c, end = least(rows * s.c, ahead + MR * s.c)
                            prefetchFloats(x + ahead, count: end - ahead)
                        }
                        // Row taps: when every row's window lies inside the image columns, each
                        // window row is kw*C contiguous floats, read in place as one tap of kw*C
                        // channels (the packed K order, tap-major then channel, is the same).
                        var byRows = rowTaps
                        var inOneRow = false
                        if rowTaps {
                            // The common case: six outputs along one output row, every window
                            // row inside the image: pointers a fixed step apart, no branches
                            // (the per-row loop below was a fifth of a 3x3 stem's time:
                            // YOLOv8n's 3->16 at 320x320 0.59 -> 0.44 ms, 16->32 s2 -4%).
                            let at = OutputCursor(m0, s)
                            let (iy0, ix0) = at.origin(win)
                            let ixLast = ix0 + (MR - 1) * win.stride.w + win.kernel.w
                            if m0 + MR <= rows && at.ox + MR <= s.ow && ix0 >= 0 && ixLast <= s.w
                                && iy0 >= 0 && iy0 + (win.kernel.h - 1) * win.dilation.h < s.h {
                                let first = x + ((at.img * s.h + iy0) * s.w + ix0) * s.c
                                let rowStep = win.dilation.h * s.w * s.c, colStep = win.stride.w * s.c
                                for ky in 0..<win.kernel.h {
                                    for r in 0..<MR { ptrs[ky * MR + r] = first + ky * rowStep + r * colStep }
                                }
                                inOneRow = true
                            }
                        }
                        if rowTaps && !inOneRow {
                            var at = OutputCursor(m0, s)
                            for r in 0..<MR {
                                if m0 + r >= rows {
                                    for ky in 0..<win.kernel.h { ptrs[ky * MR + r] = ptrs[ky * MR + r - 1] }
                                    continue
                                }
                                let (iy0, ix0) = at.origin(win)
                                guard ix0 >= 0 && ix0 + win.kernel.w <= s.w else { byRows = false; break }
                                let base = x + (at.img * s.h * s.w + ix0) * s.c
                                for ky in 0..<win.kernel.h {
                                    let iy = iy0 + ky * win.dilation.h
                                    ptrs[ky * MR + r] = iy >= 0 && iy < s.h ? base + iy * s.w * s.c : zeros
                                }
                                at.advance(s)
                            }
                        }
                        var at = gather && !byRows ? OutputCursor(m0, s) : OutputCursor()
                        for r in 0..<MR where gather && !byRows {
                            if m0 + r >= rows {
                                copyFloats(rowsBuf + (r - 1) * k, rowsBuf + r * k, k)
                                continue
                            }
                            let (iy0, ix0) = at.origin(win)
                            let base = x + at.img * s.h * s.w * s.c + g * cg
                            at.advance(s)
                            for ky in 0..<win.kernel.h {
                                let iy = iy0 + ky * win.dilation.h
                                let rowInside = iy >= 0 && iy < s.h
                                let line = base + iy * s.w * s.c
                                // One window row of NHWC input is kw*C contiguous floats
                                // when it lies inside the image (dense channels, no dilation).
                                let dst = rowsBuf + r * k + ky * win.kernel.w * cg
                                if rowInside && cg == s.c && win.dilation.w == 1 && ix0 >= 0 && ix0 + win.kernel.w <= s.w {
                                    // Whole vectors when the image row has them: the few floats
                                    // past the window land where the next segment (or row) is
                                    // written next, or in the buffer's slack.
                                    if (ix0 * s.c + segmentVectors * 8) <= s.w * s.c {
                                        copyVectors(line + ix0 * s.c, dst, segmentVectors)
                                    } else {
                                        copyFloats(line + ix0 * s.c, dst, win.kernel.w * cg)
                                    }
                                    continue
                                }
                                for kx in 0..<win.kernel.w {
                                    let ix = ix0 + kx * win.dilation.w
                                    let inside = rowInside && ix >= 0 && ix < s.w
                                    copyFloats(inside ? line + ix * s.c : zeros, dst + kx * cg, cg)
                                }
                            }
                        }
                        let tileRows = least(MR, rows - m0)
                        // Whole tiles whose rows sit at a fixed stride (1x1 convs: the input's
                        // rows; gathered rows: the tile buffer) take the lean microkernel for
                        // whole NR-column panels.
                        let strided = (pointwise || (gather && !byRows)) && tileRows == MR
                        // The tile's A operand: row pointers, their taps and floats per tap.
                        let (a, aTaps, aCin) = byRows ? (UnsafePointer(ptrs), win.kernel.h, win.kernel.w * cg)
                            : gather ? (UnsafePointer(gathered), 1, k) : (UnsafePointer(ptrs), 1, cg)
                        // The last full panel and the narrow one together (`wideTile`), in the
                        // block that holds both: 1x1 96->24 at 136x240 -23..28%, the stem 3->24
                        // -12%, 2x2 12->24 -10% (A/B).
                        let wideHere = narrowPair && b0 <= pHi - 2 && b1 == pHi && tileRows > 1
                        if wideHere {
                            wideTilePair(a, taps: aTaps, cin: aCin, f, group: g, e, y: y, ldc: s.m, row0: m0, rows: tileRows)
                        }
                        let bEnd = wideHere ? pHi - 2 : b1
                        if strided {
                            // Row pointers, not a base and a stride: with a stride the compiler
                            // rebuilds the six row addresses from one register in the loop.
                            for p in b0..<bEnd where f.mg - p * NR >= NR {
                                let col = g * f.mg + p * NR
                                pointwiseTile(a, k: k, b: panelStart(f, group: g, p), c: y + m0 * s.m + col, ldc: s.m,
                                              bias: (e.bias ?? noBias) + (e.bias == nil ? 0 : col), residual: e.residual.advanced(by: m0 * s.m + col),
                                              epilogue: e)
                            }
                        }
                        for p in b0..<bEnd where !(strided && f.mg - p * NR >= NR) {
                            let col = g * f.mg + p * NR
                            let off = m0 * s.m + col
                            var te = e
                            te.bias = e.bias.advanced(by: col)
                            te.residual = e.residual.advanced(by: off)
                            let cols = least(NR, f.mg - p * NR)
                            if tileRows == 1 && taps == 1 {
                                rowTile(ptrs[0], k: k, b: panelStart(f, group: g, p), c: y + off, cols: cols, epilogue: te)
                            } else if byRows && aTaps == 3 && aCin == 9 {
                                // The 3x3 stem over RGB (three window rows of 3 pixels x 3
                                // channels) with constant sizes: its K loops unroll, and the
                                // run-time loops spilled the accumulators around each window
                                // row (YOLOv8n's 3->16 at 320x320: 0.69 -> 0.59 ms).
                                convTile(a, taps: 3, cin: 9, b: panelStart(f, group: g, p), c: y + off, ldc: s.m,
                                         rows: tileRows, cols: cols, epilogue: te)
                            } else {
                                convTile(a, taps: aTaps, cin: aCin, b: panelStart(f, group: g, p), c: y + off, ldc: s.m,
                                         rows: tileRows, cols: cols, epilogue: te)
                            }
                        }
                        // The activation once the last panel block is done, every 4 tiles
                        // (per tile it was a call and a row loop for each 6 rows; 24 rows
                        // of outputs are still in L1 or L2).
                        if b1 == pHi && ((t - tLo) % 4 == 3 || t == tHi - 1) {
                            activate(y, group: g, rows: activateFrom..<m0 + tileRows)
                            activateFrom = m0 + tileRows
                        }
                    }
                    b0 = b1
                }
            }
        }
        }
    }
    if tasks == 1 { work(0) } else { Workers.shared.run(tasks, work) }
}

/// One row tile of a conv through `wideTile`, its rows 0-2 and 3-5: group g's last
/// full panel and the narrow one after it. a: the tile's row pointers ([taps][6]);
/// row0: the tile's first output row; y: the conv's output, ldc floats a row; e: the
/// conv's epilogue (offset here to the tile and the panel's columns).
@_transparent
func wideTilePair(_ a: UnsafePointer<UnsafePointer<Float>>, taps: Int, cin: Int, _ f: FilterPanels, group g: Int, _ e: Epilogue,
                  y: UnsafeMutablePointer<Float>, ldc: Int, row0: Int, rows: Int) {
    let p = f.panels - 2, col = g * f.mg + p * NR
    var te = e
    te.bias = e.bias.advanced(by: col)
    for half in 0..<2 where rows > 3 * half {
        let off = (row0 + 3 * half) * ldc + col
        te.residual = e.residual.advanced(by: off)
        wideTile(a, row0: 3 * half, taps: taps, cin: cin, b: panelStart(f, group: g, p), bn: panelStart(f, group: g, p + 1), c: y + off, ldc: ldc,
                 rows: least(3, rows - 3 * half), cols: f.mg - p * NR, epilogue: te)
    }
}

/// Asks L2 for the input a conv's next output row adds under the columns of the
/// row tile at output row m0: the window rows below the current window's last, from
/// the tile's first window column to its last, all channels (ungrouped convs). The
/// sweep reaches them one output row later, long enough for memory to answer.
@inline(__always)
func prefetchNextOutputRow(_ x: UnsafePointer<Float>, _ s: ConvShape, m0: Int) {
    let win = s.win, at = OutputCursor(m0, s)
    guard at.oy + 1 < s.oh else { return }
    let lastNow = at.oy * win.stride.h - win.pads.t + (win.kernel.h - 1) * win.dilation.h
    let ix0 = max(0, at.ox * win.stride.w - win.pads.l)
    let ix1 = min(s.w, (at.ox + MR - 1) * win.stride.w - win.pads.l + (win.kernel.w - 1) * win.dilation.w + 1)
    guard ix1 > ix0 else { return }
    for ky in 0..<win.kernel.h {
        let iy = (at.oy + 1) * win.stride.h - win.pads.t + ky * win.dilation.h
        guard iy > lastNow && iy >= 0 && iy < s.h else { continue }
        prefetchFloats(x + ((at.img * s.h + iy) * s.w + ix0) * s.c, count: (ix1 - ix0) * s.c, intoL2: true)
    }
}

/// Asks the cache for the floats p..<p+count, a 64-byte line at a time: into L1
/// for data a few tiles ahead, into L2 (`intoL2`) for data a whole output row ahead.
@inline(__always)
func prefetchFloats(_ p: UnsafePointer<Float>, count: Int, intoL2: Bool = false) {
    var i = 0
    while i < count {
        if intoL2 { vl_prefetch_l2(p + i) } else { vl_prefetch(p + i) }
        i += 16
    }
}

/// K blocks of a conv's K = taps x Cg for `convNHWC`: whole taps while a tap has
/// fewer than KC channels, else each tap's channels in near-equal runs of at most KC.
func kBlocks(taps: Int, cg: Int) -> [(taps: Range<Int>, channels: Range<Int>)] {
    if cg < KC {
        let per = KC / cg
        return stride(from: 0, to: taps, by: per).map { ($0..<min(taps, $0 + per), 0..<cg) }
    }
    let n = (cg + KC - 1) / KC
    return (0..<taps).flatMap { t in (0..<n).map { i in (t..<(t + 1), (cg * i / n)..<(cg * (i + 1) / n)) } }
}

/// Where output row m of a conv (a pixel: image, row, column) is, stepped along
/// a tile's rows instead of divided out per row.
struct OutputCursor {
    var img = 0, oy = 0, ox = 0

    init() {}

    @inline(__always)
    init(_ m: Int, _ s: ConvShape) {
        img = m / (s.oh * s.ow)
        oy = (m % (s.oh * s.ow)) / s.ow
        ox = m % s.ow
    }

    /// The input row and column of the window's first tap (negative in the padding).
    @inline(__always)
    func origin(_ win: Window2D) -> (iy: Int, ix: Int) {
        (oy * win.stride.h - win.pads.t, ox * win.stride.w - win.pads.l)
    }

    /// Moves to output row m + 1.
    @inline(__always)
    mutating func advance(_ s: ConvShape) {
        ox += 1
        if ox == s.ow { ox = 0; oy += 1; if oy == s.oh { oy = 0; img += 1 } }
    }
}

/// Row pointers of row tile t for every tap, tap-major [taps][6]: where each of the
/// tile's output pixels reads that tap (from input channel `channel0`), or `zeros`
/// in the padding. Rows past the end repeat the last row (computed, never stored).
@inline(__always)
func tilePointers(_ x: UnsafePointer<Float>, _ s: ConvShape, tile t: Int, rows: Int, channel0: Int,
                  zeros: UnsafePointer<Float>, into ptrs: UnsafeMutablePointer<UnsafePointer<Float>>) {
    let win = s.win, taps = win.kernel.h * win.kernel.w, m0 = t * MR
    var at = OutputCursor(m0, s)
    for r in 0..<MR {
        if m0 + r >= rows {
            for tap in 0..<taps { ptrs[tap * MR + r] = ptrs[tap * MR + r - 1] }
            continue
        }
        let (iy0, ix0) = at.origin(win)
        let base = x + at.img * s.h * s.w * s.c + channel0
        at.advance(s)
        for ky in 0..<win.kernel.h {
            let iy = iy0 + ky * win.dilation.h
            let rowInside = iy >= 0 && iy < s.h
            let line = base + iy * s.w * s.c
            for kx in 0..<win.kernel.w {
                let ix = ix0 + kx * win.dilation.w
                ptrs[(ky * win.kernel.w + kx) * MR + r] = rowInside && ix >= 0 && ix < s.w ? line + ix * s.c : zeros
            }
        }
    }
}

/// Copies a short run of floats (a few pixels' channels) without a memmove call.
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: V8.self), as: V8.self)
        i += 8
    }
    while i < n { dst[i] = src[i]; i += 1 }
}

/// Copies `vectors` x 8 floats (a rounded-up run: the caller owns the overshoot).
@inline(__always)
func copyVectors(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ vectors: Int) {
    for i in 0..<vectors {
        UnsafeMutableRawPointer(dst + 8 * i).storeBytes(of: UnsafeRawPointer(src + 8 * i).loadUnaligned(as: V8.self), as: V8.self)
    }
}

/// The input positions a window covers for one output coordinate: taps lo..<hi are
/// inside [0, size). `o * stride - pad + t * dilation` is the position of tap t.
@inline(__always)
func windowRange(_ o: Int, stride: Int, pad: Int, dilation: Int, kernel: Int, size: Int) -> (start: Int, lo: Int, hi: Int) {
    let start = o * stride - pad
    let lo = start >= 0 ? 0 : min(kernel, (-start + dilation - 1) / dilation)
    let hi = size - start > 0 ? min(kernel, (size - start + dilation - 1) / dilation) : 0
    return (start, lo, max(lo, hi))
}

/// Threads worth waking for an op of `flops`: a hand-over costs several
/// microseconds, so small ops (7x7 maps, depthwise, pools) stay on one thread.
@inline(__always)
func threadsWorth(flops: Int, threads: Int) -> Int {
    min(threads, max(1, flops / 1_000_000))
}

/// Splits `count` items over up to `threads` tasks and runs body(lo..<hi) for each.
@inline(__always)
func parallelRanges(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let tasks = min(max(threads, 1), count)
    if tasks <= 1 { body(0..<count); return }
    Workers.shared.run(tasks) { t in body((count * t / tasks)..<(count * (t + 1) / tasks)) }
}

/// Depthwise conv (one filter per channel) on NHWC, SIMD across channels.
/// x [N, H, W, C] -> y [N, OH, OW, C]; weights [kh*kw][C]; epilogue bias [C].
package func depthwiseNHWC(_ x: UnsafePointer<Float>, _ s: ConvShape, weights: UnsafePointer<Float>, epilogue e: Epilogue,
                   y: UnsafeMutablePointer<Float>, threads: Int) {
    let win = s.win, c = s.c, kh = win.kernel.h
    let useful = threadsWorth(flops: 2 * s.batch * s.oh * s.ow * c * kh * win.kernel.w, threads: threads)
    // zero: one input row of zeros [W, C], read by tap rows in the vertical padding.
    Scratch.with(s.w * c) { zero in
        zero.initialize(repeating: 0, count: s.w * c)
        let (xAddr, yAddr, zeroAddr) = (Int(bitPattern: x), Int(bitPattern: y), Int(bitPattern: zero))
        parallelRanges(s.batch * s.oh, threads: useful) { range in
            let x = UnsafePointer<Float>(bitPattern: xAddr)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddr)!
            let zero = UnsafePointer<Float>(bitPattern: zeroAddr)!
            // rows: the input row [W, C] each tap row reads.
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: kh) { rowBuf in
                let rows = rowBuf.baseAddress!
                for row in range {
                    let img = row / s.oh, oy = row % s.oh
                    for ky in 0..<kh {
                        let iy = oy * win.stride.h - win.pads.t + ky * win.dilation.h
                        rows[ky] = iy >= 0 && iy < s.h ? x + (img * s.h + iy) * s.w * c : zero
                    }
                    var eRow = e
                    eRow.residual = e.residual.map { $0 + row * s.ow * c }
                    depthwiseOutputRow(rows, s, weights: weights, epilogue: eRow, y: y + row * s.ow * c)
                }
            }
        }
    }
}

/// One output row of a depthwise conv. rows: the input row [W, C] of each of the
/// kh tap rows (a row of zeros where the window leaves the image vertically);
/// y and the epilogue's residual: the output row [OW, C]. Only the shape's
/// width, channels and window are used.
@inline(never)
func depthwiseOutputRow(_ rows: UnsafePointer<UnsafePointer<Float>>, _ s: ConvShape, weights: UnsafePointer<Float>,
                        epilogue e: Epilogue, y: UnsafeMutablePointer<Float>) {
    let win = s.win, c = s.c
    // Output columns whose window lies inside the image columns: interiorLo..<interiorHi,
    // through `depthwiseRow`; edge columns, and channel counts that are not a multiple
    // of 8, take the one-pixel path.
    let interiorLo = min(s.ow, (win.pads.l + win.stride.w - 1) / win.stride.w)
    let lastStart = s.w - 1 - (win.kernel.w - 1) * win.dilation.w + win.pads.l  // the largest ox * stride inside
    let interiorHi = c % 8 != 0 || lastStart < 0 ? interiorLo : max(interiorLo, min(s.ow, lastStart / win.stride.w + 1))
    if interiorHi > interiorLo {
        depthwiseRow(rows, interiorLo..<interiorHi, win, c: c, weights: weights, epilogue: e, y: y)
    }
    // taps of one edge pixel: (input pointer, weight offset).
    withUnsafeTemporaryAllocation(of: (UnsafePointer<Float>, Int).self, capacity: win.kernel.h * win.kernel.w) { tapBuf in
        let taps = tapBuf.baseAddress!
        for ox in 0..<s.ow where ox < interiorLo || ox >= interiorHi {
            let rx = windowRange(ox, stride: win.stride.w, pad: win.pads.l, dilation: win.dilation.w, kernel: win.kernel.w, size: s.w)
            var n = 0
            for ky in 0..<win.kernel.h {
                for kx in rx.lo..<rx.hi {
                    taps[n] = (rows[ky] + (rx.start + kx * win.dilation.w) * c, (ky * win.kernel.w + kx) * c)
                    n += 1
                }
            }
            depthwisePixel(taps, n, c: c, weights: weights, epilogue: e, out: ox * c, y: y)
        }
    }
    // The activation over the whole row, once it is stored.
    if !e.activation.isNone { activateStored(y, s.ow * c, e, residual: e.residual) }
}

/// One output pixel of a depthwise conv from an explicit tap list (edge pixels, any
/// channel count): y[out + ch] = bias + sum over taps of tap.0[ch] * w[tap.1 + ch].
/// Four vectors of channels at a time, then one, then 8 lanes, then single channels:
/// each lane sums its taps in order on one chain, so four independent chains hide
/// the FMA latency without changing any result (one chain of 25 taps per vector ran
/// at FMA latency).
@inline(__always)
func depthwisePixel(_ taps: UnsafePointer<(UnsafePointer<Float>, Int)>, _ n: Int, c: Int, weights: UnsafePointer<Float>,
                    epilogue e: Epilogue, out: Int, y: UnsafeMutablePointer<Float>) {
    var ch = 0
    while ch + 4 * VW <= c {
        depthwiseTaps(V.self, 4, taps, n, ch: ch, lanes: VW, weights: weights, epilogue: e, out: out, y: y)
        ch += 4 * VW
    }
    while ch + VW <= c {
        depthwiseTaps(V.self, 1, taps, n, ch: ch, lanes: VW, weights: weights, epilogue: e, out: out, y: y)
        ch += VW
    }
    while ch + 8 <= c {
        depthwiseTaps(V8.self, 1, taps, n, ch: ch, lanes: 8, weights: weights, epilogue: e, out: out, y: y)
        ch += 8
    }
    // The last few channels: a partial vector, computed as the others are.
    if ch < c { depthwiseTaps(V8.self, 1, taps, n, ch: ch, lanes: c - ch, weights: weights, epilogue: e, out: out, y: y) }
}

/// `k` (1 or 4) consecutive vectors of channels from ch of one edge pixel; with
/// `lanes` below the vector's width (k 1), only those channels are read and written.
@inline(__always)
func depthwiseTaps<T: KernelVector>(_: T.Type, _ k: Int, _ taps: UnsafePointer<(UnsafePointer<Float>, Int)>, _ n: Int, ch: Int,
                                    lanes: Int, weights: UnsafePointer<Float>, epilogue e: Epilogue, out: Int,
                                    y: UnsafeMutablePointer<Float>) {
    let w = T.scalarCount
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> T { T.load(p, count: lanes) }
    func bias(_ j: Int) -> T { e.bias.map { load($0 + ch + j * w) } ?? T() }
    var a0 = bias(0), a1 = k > 1 ? bias(1) : T(), a2 = k > 1 ? bias(2) : T(), a3 = k > 1 ? bias(3) : T()
    for i in 0..<n {
        let x = taps[i].0 + ch, wt = weights + taps[i].1 + ch
        a0 = T.madd(a0, load(x), load(wt))
        if k > 1 {
            a1 = T.madd(a1, load(x + w), load(wt + w))
            a2 = T.madd(a2, load(x + 2 * w), load(wt + 2 * w))
            a3 = T.madd(a3, load(x + 3 * w), load(wt + 3 * w))
        }
    }
    @inline(__always) func put(_ j: Int, _ v: T) {
        let at = out + ch + j * w
        let r = finish(v, residual: e.residual.map { load($0 + at) }, e)
        r.store(y + at, count: lanes)
    }
    put(0, a0)
    if k > 1 { put(1, a1); put(2, a2); put(3, a3) }
}

/// The interior pixels `span` of one depthwise output row (C a multiple of 8).
/// rows: the input row [W, C] of each tap row; y and the epilogue's residual: the
/// output row [OW, C]. The common kernels (3x3 and 5x5, stride 1 and 2; PP-OCR's
/// 7x7 and 1x7) are instantiated with constant sizes: their tap loops unroll and
/// the loads that neighbouring pixels share are issued once (measured: the
/// runtime-sized loops spent more instructions on loop control than on FMAs; a
/// 7x7 over 96 channels at 136x240 went from ~19 ms to 13-17, and to 8-11 once
/// each window type got its own specialised span).
func depthwiseRow(_ rows: UnsafePointer<UnsafePointer<Float>>, _ span: Range<Int>, _ win: Window2D, c: Int,
                  weights: UnsafePointer<Float>, epilogue e: Epilogue, y: UnsafeMutablePointer<Float>) {
    let padL = win.pads.l
    switch (win.kernel.h, win.kernel.w, win.stride.w, win.dilation.w) {
    case (3, 3, 1, 1): depthwiseSpan(Window3x3s1(), rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    case (3, 3, 2, 1): depthwiseSpan(Window3x3s2(), rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    case (5, 5, 1, 1): depthwiseSpan(Window5x5s1(), rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    case (5, 5, 2, 1): depthwiseSpan(Window5x5s2(), rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    // PP-OCR's large-kernel blocks (7x7) and its text recogniser's 1x7.
    case (7, 7, 1, 1): depthwiseSpan(Window7x7s1(), rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    case (1, 7, 1, 1): depthwiseSpan(Window1x7s1(), rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    default:
        let any = AnyWindow(kh: win.kernel.h, kw: win.kernel.w, sx: win.stride.w, dx: win.dilation.w)
        depthwiseSpan(any, rows, span, padL: padL, c: c, weights: weights, epilogue: e, y: y)
    }
}

/// A depthwise window's sizes (kernel height and width, horizontal stride and
/// dilation). The fixed ones are types whose sizes are constants: `depthwiseSpan`
/// is specialised for each, so its tap loops unroll. (As constant arguments to an
/// inlined function they did too, until the 7x7 instance grew past the inliner's
/// limit and ran the run-time loops: 17 ms where onnxruntime takes 7.)
protocol DepthwiseWindow {
    var kh: Int { get }
    var kw: Int { get }
    var sx: Int { get }
    var dx: Int { get }
}
struct Window3x3s1: DepthwiseWindow { var kh: Int { 3 }; var kw: Int { 3 }; var sx: Int { 1 }; var dx: Int { 1 } }
struct Window3x3s2: DepthwiseWindow { var kh: Int { 3 }; var kw: Int { 3 }; var sx: Int { 2 }; var dx: Int { 1 } }
struct Window5x5s1: DepthwiseWindow { var kh: Int { 5 }; var kw: Int { 5 }; var sx: Int { 1 }; var dx: Int { 1 } }
struct Window5x5s2: DepthwiseWindow { var kh: Int { 5 }; var kw: Int { 5 }; var sx: Int { 2 }; var dx: Int { 1 } }
struct Window7x7s1: DepthwiseWindow { var kh: Int { 7 }; var kw: Int { 7 }; var sx: Int { 1 }; var dx: Int { 1 } }
struct Window1x7s1: DepthwiseWindow { var kh: Int { 1 }; var kw: Int { 7 }; var sx: Int { 1 }; var dx: Int { 1 } }
/// Any other window, its sizes read at run time.
struct AnyWindow: DepthwiseWindow { let kh: Int, kw: Int, sx: Int, dx: Int }

/// The interior pixels `span` of a row, eight, then four, then one at a time, for
/// one window type. Eight pixels are eight independent FMA chains: with four, the
/// FMA latency (4 cycles) bounded the loop at one FMA per cycle (PP-OCR det's 7x7
/// at 136x240: 9.4 -> 8.2 ms, 1 thread, Zen 4).
@inline(never)
func depthwiseSpan<W: DepthwiseWindow>(_ w: W, _ rows: UnsafePointer<UnsafePointer<Float>>, _ span: Range<Int>, padL: Int,
                                       c: Int, weights: UnsafePointer<Float>, epilogue e: Epilogue, y: UnsafeMutablePointer<Float>) {
    let (kh, kw, sx, dx) = (w.kh, w.kw, w.sx, w.dx)
    var ox = span.lowerBound
    while ox + 8 <= span.upperBound {
        depthwisePixels(8, rows, ox: ox, kh: kh, kw: kw, sx: sx, dx: dx, padL: padL, c: c, weights: weights, epilogue: e, y: y)
        ox += 8
    }
    while ox + 4 <= span.upperBound {
        depthwisePixels(4, rows, ox: ox, kh: kh, kw: kw, sx: sx, dx: dx, padL: padL, c: c, weights: weights, epilogue: e, y: y)
        ox += 4
    }
    while ox < span.upperBound {
        depthwisePixels(1, rows, ox: ox, kh: kh, kw: kw, sx: sx, dx: dx, padL: padL, c: c, weights: weights, epilogue: e, y: y)
        ox += 1
    }
}

/// `n` (1, 4 or 8) neighbouring interior output pixels from ox, a vector of channels
/// at a time (VW lanes, then 8 for the rest: C is a multiple of 8 here): one
/// weight load feeds n independent FMA chains.
@inline(__always)
func depthwisePixels(_ n: Int, _ rows: UnsafePointer<UnsafePointer<Float>>, ox: Int, kh: Int, kw: Int, sx: Int, dx: Int,
                     padL: Int, c: Int, weights: UnsafePointer<Float>, epilogue e: Epilogue, y: UnsafeMutablePointer<Float>) {
    var ch = 0
    while ch + VW <= c {
        depthwiseChunk(V.self, n, rows, ox: ox, ch: ch, kh: kh, kw: kw, sx: sx, dx: dx, padL: padL, c: c, weights: weights,
                       epilogue: e, y: y)
        ch += VW
    }
    while ch < c {
        depthwiseChunk(V8.self, n, rows, ox: ox, ch: ch, kh: kh, kw: kw, sx: sx, dx: dx, padL: padL, c: c, weights: weights,
                       epilogue: e, y: y)
        ch += 8
    }
}

/// Channels ch..<ch+T.scalarCount of `depthwisePixels`: one source for the VW-lane
/// and the 8-lane vectors.
@inline(__always)
func depthwiseChunk<T: KernelVector>(_: T.Type, _ n: Int, _ rows: UnsafePointer<UnsafePointer<Float>>, ox: Int, ch: Int, kh: Int, kw: Int,
                                     sx: Int, dx: Int, padL: Int, c: Int, weights: UnsafePointer<Float>, epilogue e: Epilogue,
                                     y: UnsafeMutablePointer<Float>) {
    let first = (ox * sx - padL) * c, pixelBytes = sx * c * 4, tapBytes = dx * c * 4, rowBytes = c * 4
    let b = e.bias.map { UnsafeRawPointer($0 + ch).loadUnaligned(as: T.self) } ?? T()
    var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
    if VW >= 16 && n == 8 && sx == 1 && dx == 1 && kw >= 5 {
        // Stride 1: pixel p's input at tap kx + 1 is pixel p + 1's at tap kx, so the
        // eight inputs slide along one column per tap and only the newest is loaded:
        // two loads per eight FMAs, not nine (PP-OCR det's 7x7 over 96 channels at
        // 136x240 was load-bound: 4.4 -> 3.3 ms alone, Zen 4, AVX-512). A 3x3 ran
        // ~10% slower this way: its eight loads per row, before any FMA, outweigh
        // the six saved. Eight sums, eight inputs and a weight need 17 vector
        // registers: AVX-512 has 32; AVX2 and SSE have 16, spilled, and ran no
        // faster (portable 5% slower), so they keep the loop below.
        for ky in 0..<kh {
            let line = UnsafeRawPointer(rows[ky] + first + ch)
            let wRow = UnsafeRawPointer(weights + ky * kw * c + ch)
            @inline(__always) func column(_ i: Int) -> T { line.loadUnaligned(fromByteOffset: i * rowBytes, as: T.self) }
            var x0 = column(0), x1 = column(1), x2 = column(2), x3 = column(3)
            var x4 = column(4), x5 = column(5), x6 = column(6), x7 = column(7)
            for kx in 0..<kw {
                let wv = wRow.loadUnaligned(fromByteOffset: kx * rowBytes, as: T.self)
                a0 = T.madd(a0, x0, wv); a1 = T.madd(a1, x1, wv); a2 = T.madd(a2, x2, wv); a3 = T.madd(a3, x3, wv)
                a4 = T.madd(a4, x4, wv); a5 = T.madd(a5, x5, wv); a6 = T.madd(a6, x6, wv); a7 = T.madd(a7, x7, wv)
                if kx + 1 < kw {
                    (x0, x1, x2, x3, x4, x5, x6) = (x1, x2, x3, x4, x5, x6, x7)
                    x7 = column(kx + 8)
                }
            }
        }
    } else {
        for ky in 0..<kh {
            let line = UnsafeRawPointer(rows[ky] + first + ch)
            let wRow = UnsafeRawPointer(weights + ky * kw * c + ch)
            for kx in 0..<kw {
                let wv = wRow.loadUnaligned(fromByteOffset: kx * rowBytes, as: T.self)
                let t = kx * tapBytes
                a0 = T.madd(a0, line.loadUnaligned(fromByteOffset: t, as: T.self), wv)
                if n > 1 {
                    a1 = T.madd(a1, line.loadUnaligned(fromByteOffset: t + pixelBytes, as: T.self), wv)
                    a2 = T.madd(a2, line.loadUnaligned(fromByteOffset: t + 2 * pixelBytes, as: T.self), wv)
                    a3 = T.madd(a3, line.loadUnaligned(fromByteOffset: t + 3 * pixelBytes, as: T.self), wv)
                }
                if n > 4 {
                    a4 = T.madd(a4, line.loadUnaligned(fromByteOffset: t + 4 * pixelBytes, as: T.self), wv)
                    a5 = T.madd(a5, line.loadUnaligned(fromByteOffset: t + 5 * pixelBytes, as: T.self), wv)
                    a6 = T.madd(a6, line.loadUnaligned(fromByteOffset: t + 6 * pixelBytes, as: T.self), wv)
                    a7 = T.madd(a7, line.loadUnaligned(fromByteOffset: t + 7 * pixelBytes, as: T.self), wv)
                }
            }
        }
    }
    let at = ox * c + ch
    @inline(__always) func put(_ j: Int, _ v: T) {
        let r = e.residual.map { T.load($0 + at + j * c) }
        finish(v, residual: r, e).store(y + at + j * c)
    }
    put(0, a0)
    if n > 1 { put(1, a1); put(2, a2); put(3, a3) }
    if n > 4 { put(4, a4); put(5, a5); put(6, a6); put(7, a7) }
}

/// Max or average pooling on NHWC, SIMD across channels (the set's vectors).
/// x [N, H, W, C] -> y [N, OH, OW, C]. Average: the divisor counts the cells
/// inside the image, or with `countIncludePad` those inside the explicit padding.
/// Each output column's window is worked out once per call, not per pixel (a 2x2
/// stride-1 pool over 24 channels spent most of its time there).
package func poolNHWC(_ x: UnsafePointer<Float>, _ s: ConvShape, isMax: Bool, countIncludePad: Bool,
              y: UnsafeMutablePointer<Float>, threads: Int) {
    let win = s.win, c = s.c
    let (xAddr, yAddr) = (Int(bitPattern: x), Int(bitPattern: y))
    // Cells of a window inside the padded input (ceil_mode windows may pass the end padding).
    func padded(_ o: Int, _ st: Int, _ d: Int, _ k: Int, _ p0: Int, _ p1: Int, _ size: Int) -> Int {
        (0..<k).filter { o * st - p0 + $0 * d < size + p1 }.count
    }
    let columns = (0..<s.ow).map { ox in
        windowRange(ox, stride: win.stride.w, pad: win.pads.l, dilation: win.dilation.w, kernel: win.kernel.w, size: s.w)
    }
    let paddedColumns = (0..<s.ow).map { padded($0, win.stride.w, win.dilation.w, win.kernel.w, win.pads.l, win.pads.r, s.w) }
    let fill = V(repeating: isMax ? -.infinity : 0), inf = V(repeating: .infinity)
    // A pool reads each input about kh*kw/stride^2 times and does one op per read:
    // worth splitting at a quarter of the work a conv needs (open_nsfw's 112x112 max
    // pool stayed on one thread, 0.3 ms of a 6.7 ms two-thread run).
    let useful = threadsWorth(flops: 4 * s.batch * s.oh * s.ow * c * win.kernel.h * win.kernel.w, threads: threads)
    parallelRanges(s.batch * s.oh, threads: useful) { range in
        let x = UnsafePointer<Float>(bitPattern: xAddr)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddr)!
        var taps: [UnsafePointer<Float>] = []
        for row in range {
            let img = row / s.oh, oy = row % s.oh
            let ry = windowRange(oy, stride: win.stride.h, pad: win.pads.t, dilation: win.dilation.h, kernel: win.kernel.h, size: s.h)
            let paddedRows = padded(oy, win.stride.h, win.dilation.h, win.kernel.h, win.pads.t, win.pads.b, s.h)
            let rowStep = win.dilation.h * s.w * c, colStep = win.dilation.w * c
            // Stride 1: the columns whose windows lie inside the row are one run of
            // floats, the tap's input shifted by a pixel per kx, pooled SIMD across
            // pixels and channels at once (the per-pixel path below worked C = 24 as
            // three part-filled passes: PP-OCR's 2x2 pool took 4x onnxruntime's time).
            var inner = 0..<0
            if win.stride.w == 1 && win.dilation.w == 1 && ry.hi > ry.lo {
                // Possibly none: a window wider than the padded row has no inner column.
                let lo = max(0, win.pads.l), hi = min(s.ow, s.w - win.kernel.w + win.pads.l + 1)
                if lo < hi { inner = lo..<hi }
            }
            if !inner.isEmpty {
                taps.removeAll(keepingCapacity: true)
                for ky in ry.lo..<ry.hi {
                    for kx in 0..<win.kernel.w {
                        taps.append(x + ((img * s.h + ry.start) * s.w + inner.lowerBound - win.pads.l + kx) * c + ky * rowStep)
                    }
                }
                let cells = countIncludePad ? paddedRows * win.kernel.w : (ry.hi - ry.lo) * win.kernel.w
                taps.withUnsafeBufferPointer { t in
                    poolRun(t, count: inner.count * c, isMax: isMax, scale: 1 / Float(max(cells, 1)),
                            y + (row * s.ow + inner.lowerBound) * c)
                }
            }
            for ox in 0..<s.ow where !inner.contains(ox) {
                let rx = columns[ox]
                let cells = countIncludePad ? paddedRows * paddedColumns[ox] : (ry.hi - ry.lo) * (rx.hi - rx.lo)
                let scale = V(repeating: 1 / Float(max(cells, 1)))
                let out = y + (row * s.ow + ox) * c
                let first = x + ((img * s.h + ry.start) * s.w + rx.start) * c
                @inline(__always) func combine(_ a: V, _ v: V) -> V { isMax ? V.clamp(a, v, inf) : a + v }
                var ch = 0
                // Four vectors per pass: four independent max/add chains over the taps.
                while ch + 4 * VW <= c {
                    var a0 = fill, a1 = fill, a2 = fill, a3 = fill
                    for ky in ry.lo..<ry.hi {
                        for kx in rx.lo..<rx.hi {
                            let p = first + ky * rowStep + kx * colStep + ch
                            a0 = combine(a0, V.load(p)); a1 = combine(a1, V.load(p + VW))
                            a2 = combine(a2, V.load(p + 2 * VW)); a3 = combine(a3, V.load(p + 3 * VW))
                        }
                    }
                    if !isMax { a0 *= scale; a1 *= scale; a2 *= scale; a3 *= scale }
                    a0.store(out + ch); a1.store(out + ch + VW); a2.store(out + ch + 2 * VW); a3.store(out + ch + 3 * VW)
                    ch += 4 * VW
                }
                while ch < c {
                    let n = min(VW, c - ch)
                    var acc = fill
                    for ky in ry.lo..<ry.hi {
                        for kx in rx.lo..<rx.hi {
                            let p = first + ky * rowStep + kx * colStep + ch
                            acc = combine(acc, V.load(p, count: n))
                        }
                    }
                    if !isMax { acc *= scale }
                    acc.store(out + ch, count: n)
                    ch += n
                }
            }
        }
    }
}

/// y [count] = the max (or the scaled sum) of the runs taps[i] [count]: a stride-1
/// pool's interior, where each tap's run is the input row shifted by its offset.
@inline(never)
func poolRun(_ taps: UnsafeBufferPointer<UnsafePointer<Float>>, count: Int, isMax: Bool, scale: Float,
             _ y: UnsafeMutablePointer<Float>) {
    @inline(__always) func combine(_ a: V, _ v: V) -> V { isMax ? V.clamp(a, v, V(repeating: .infinity)) : a + v }
    let first = taps[0], s = V(repeating: scale)
    var i = 0
    // Four vectors per pass: four independent max/add chains over the taps.
    while i + 4 * VW <= count {
        var a0 = V.load(first + i), a1 = V.load(first + i + VW), a2 = V.load(first + i + 2 * VW), a3 = V.load(first + i + 3 * VW)
        for t in taps.dropFirst() {
            a0 = combine(a0, V.load(t + i)); a1 = combine(a1, V.load(t + i + VW))
            a2 = combine(a2, V.load(t + i + 2 * VW)); a3 = combine(a3, V.load(t + i + 3 * VW))
        }
        if !isMax { a0 *= s; a1 *= s; a2 *= s; a3 *= s }
        a0.store(y + i); a1.store(y + i + VW); a2.store(y + i + 2 * VW); a3.store(y + i + 3 * VW)
        i += 4 * VW
    }
    while i < count {
        let n = min(VW, count - i)
        var a = V.load(first + i, count: n)
        for t in taps.dropFirst() { a = combine(a, V.load(t + i, count: n)) }
        if !isMax { a *= s }
        a.store(y + i, count: n)
        i += n
    }
}

/// GlobalAveragePool on NHWC: x [N, P, C] (P = H*W pixels) -> y [N, C].
package func globalAverageNHWC(_ x: UnsafePointer<Float>, batch: Int, pixels: Int, c: Int, y: UnsafeMutablePointer<Float>) {
    let scale = 1 / Float(pixels)
    for b in 0..<batch {
        let out = y + b * c
        out.update(repeating: 0, count: c)
        for p in 0..<pixels {
            let src = x + (b * pixels + p) * c
            var ch = 0
            while ch + 8 <= c {
                let o = UnsafeMutableRawPointer(out + ch)
                o.storeBytes(of: o.loadUnaligned(as: V8.self) + UnsafeRawPointer(src + ch).loadUnaligned(as: V8.self), as: V8.self)
                ch += 8
            }
            while ch < c { out[ch] += src[ch]; ch += 1 }
        }
        for ch in 0..<c { out[ch] *= scale }
    }
}

/// Layout change between NCHW and NHWC of `batch` images of `c` channels x `pixels`:
/// toNHWC: x [N, C, P] -> y [N, P, C]; otherwise x [N, P, C] -> y [N, C, P].
package func convertLayout(_ x: UnsafePointer<Float>, batch: Int, c: Int, pixels: Int, toNHWC: Bool, y: UnsafeMutablePointer<Float>) {
    for b in 0..<batch {
        let src = x + b * c * pixels, dst = y + b * c * pixels
        // An RGB picture into the stem: four pixels a step (element by element, PP-OCR
        // det's 960x544 input took 0.59 ms).
        if toNHWC && c == 3 {
            var p = 0
            while p + 4 <= pixels {
                vl_interleave3x4(src + p, src + pixels + p, src + 2 * pixels + p, dst + 3 * p)
                p += 4
            }
            for q in p..<pixels { for ch in 0..<3 { dst[q * 3 + ch] = src[ch * pixels + q] } }
            continue
        }
        // Blocks of 8 channels x 64 pixels keep both sides' lines in L1.
        var p0 = 0
        while p0 < pixels {
            let p1 = min(pixels, p0 + 64)
            var c0 = 0
            while c0 < c {
                let c1 = min(c, c0 + 8)
                // 4 x 4 blocks through SSE shuffles, the block's edges element by element
                // (element by element throughout, 48 channels at 136x240 took 3.8-5.3 ms
                // to NHWC and back; now 1.8-3.1, onnxruntime's reorders 1.3-1.8).
                let (from, fromStride, to, toStride, across, along) = toNHWC
                    ? (src + c0 * pixels + p0, pixels, dst + p0 * c + c0, c, c1 - c0, p1 - p0)
                    : (src + p0 * c + c0, c, dst + c0 * pixels + p0, pixels, p1 - p0, c1 - c0)
                // from: `across` rows of `along` floats, fromStride apart; to: their transpose.
                var i = 0
                while i + 4 <= across {
                    var j = 0
                    while j + 4 <= along {
                        vl_transpose4x4(from + i * fromStride + j, fromStride, to + j * toStride + i, toStride)
                        j += 4
                    }
                    for jj in j..<along { for ii in i..<(i + 4) { to[jj * toStride + ii] = from[ii * fromStride + jj] } }
                    i += 4
                }
                for ii in i..<across { for jj in 0..<along { to[jj * toStride + ii] = from[ii * fromStride + jj] } }
                c0 = c1
            }
            p0 = p1
        }
    }
}
