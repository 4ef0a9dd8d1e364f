import KernelSupport

// An inverted residual block (MobileNetV2, EfficientNet-Lite) is three convs:
// a 1x1 "expand" to E = 4..6x the channels, a depthwise conv on that wide
// tensor, and a 1x1 "project" back down (plus the block input as residual).
// Run as three ops, the two wide tensors travel to memory and back (4.8 MB
// each at 112x112x96); run here band by band, the expanded rows live in a small
// ring buffer and the depthwise rows in a band buffer, both in L2, and only the
// block's input and output touch memory.

extension InvertedResidual {
    /// Input rows a band of output rows o0..<o1 reads (clipped to the image).
    func inputRows(_ o0: Int, _ o1: Int) -> Range<Int> {
        let win = depthwise.win
        let lo = max(0, o0 * win.stride.h - win.pads.t)
        let hi = min(depthwise.h, (o1 - 1) * win.stride.h - win.pads.t + (win.kernel.h - 1) * win.dilation.h + 1)
        return lo..<max(lo, hi)
    }
}

/// Runs an inverted residual block: x [N, H, W, C] -> y [N, OH, OW, M].
/// Threads split each image's output rows; each task keeps its own ring of
/// expanded rows (a task's first band expands its halo rows again: a few rows
/// per task).
package func invertedResidualNHWC(_ x: UnsafePointer<Float>, _ b: InvertedResidual, y: UnsafeMutablePointer<Float>, threads: Int) {
    let d = b.depthwise, win = d.win, e = d.c, cin = b.expand.cg, m = b.project.mg
    let eRow = d.w * e, dRow = d.ow * e
    // Rows the ring must hold for a band of `band` output rows.
    func ringRows(_ band: Int) -> Int { min(d.h, (band - 1) * win.stride.h + (win.kernel.h - 1) * win.dilation.h + 1) }
    // Band height: ring + band buffer within ~512 KB (half of L2) so the weights,
    // the block input rows and the output rows stay in L2 beside them.
    let budget = 128 * 1024
    var band = 1
    while band < d.oh && ringRows(band + 1) * eRow + (band + 1) * dRow <= budget { band += 1 }
    let ring = ringRows(band)
    let flops = 2 * d.batch * (d.h * d.w * cin * e + d.oh * d.ow * e * (win.kernel.h * win.kernel.w + m))
    let tasks = min(threadsWorth(flops: flops, threads: threads), d.oh)
    let pointwise = Window2D(kernel: (1, 1))
    // zero: one expanded row of zeros [W, E], read by tap rows in the vertical padding.
    Scratch.with(eRow) { zero in
        zero.initialize(repeating: 0, count: eRow)
        let (xAddr, yAddr, zeroAddr) = (Int(bitPattern: x), Int(bitPattern: y), Int(bitPattern: zero))
        let work = { (task: Int) in
            let x = UnsafePointer<Float>(bitPattern: xAddr)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddr)!
            let zero = UnsafePointer<Float>(bitPattern: zeroAddr)!
            // expanded: ring of expanded rows [ring][W, E], input row r in slot r % ring;
            // dw: the band's depthwise output [band][OW, E].
            Scratch.with(ring * eRow + band * dRow) { expanded in
                let dw = expanded + ring * eRow
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: win.kernel.h) { rowBuf in
                    let rows = rowBuf.baseAddress!
                    let (oLo, oHi) = (d.oh * task / tasks, d.oh * (task + 1) / tasks)
                    for img in 0..<d.batch {
                        var next = 0  // input rows below `next` have been expanded (the ring holds the last `ring`)
                        var o0 = oLo
                        while o0 < oHi {
                            let o1 = min(oHi, o0 + band)
                            let need = b.inputRows(o0, o1)
                            // Expand the rows this band adds, in runs that do not wrap the ring.
                            var r = max(next, need.lowerBound)
                            while r < need.upperBound {
                                let slot = r % ring, r1 = min(need.upperBound, r + ring - slot)
                                let shape = ConvShape(batch: 1, h: r1 - r, w: d.w, c: cin, oh: r1 - r, ow: d.w, m: e, win: pointwise)
                                convNHWC(x + (img * d.h + r) * d.w * cin, shape, filters: b.expand, epilogue: b.expandEpilogue,
                                         zeros: zero, y: expanded + slot * eRow, threads: 1)
                                r = r1
                            }
                            next = max(next, need.upperBound)
                            for oy in o0..<o1 {
                                for ky in 0..<win.kernel.h {
                                    let iy = oy * win.stride.h - win.pads.t + ky * win.dilation.h
                                    rows[ky] = iy >= 0 && iy < d.h ? UnsafePointer(expanded + (iy % ring) * eRow) : zero
                                }
                                depthwiseOutputRow(rows, d, weights: b.depthwiseWeights, epilogue: b.depthwiseEpilogue,
                                                   y: dw + (oy - o0) * dRow)
                            }
                            let off = (img * d.oh + o0) * d.ow * m
                            var pe = b.projectEpilogue
                            pe.residual = pe.residual.map { $0 + off }
                            let shape = ConvShape(batch: 1, h: o1 - o0, w: d.ow, c: e, oh: o1 - o0, ow: d.ow, m: m, win: pointwise)
                            convNHWC(dw, shape, filters: b.project, epilogue: pe, zeros: zero, y: y + off, threads: 1)
                            o0 = o1
                        }
                    }
                }
            }
        }
        if tasks <= 1 { work(0) } else { Workers.shared.run(tasks, work) }
    }
}
