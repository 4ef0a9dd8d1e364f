import Dispatch

/// im2col view of one image's input channels as the GEMM B operand:
/// B[(c, ky, kx), (oy, ox)] = x[c, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw] (0 outside).
/// Packed straight into GEMM panels: the im2col matrix is never built.
struct Im2ColB: BSource {
    /// Layout: [C, H, W] for this image (and group).
    let x: UnsafePointer<Float>
    let h: Int
    let w: Int
    let win: Window2D
    let ow: Int

    func pack(k0: Int, kc: Int, n0: Int, nc: Int, into dst: UnsafeMutablePointer<Float>) {
        let kh = win.kernel.h, kw = win.kernel.w
        let sh = win.stride.h, sw = win.stride.w, dh = win.dilation.h, dw = win.dilation.w
        var out = dst
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * NR) { tmp in
            let iy0 = tmp.baseAddress!, ix0 = tmp.baseAddress! + NR
            var j = 0
            while j < nc {
                let cols = min(NR, nc - j)
                for col in 0..<NR {
                    let p = n0 + j + min(col, cols - 1)
                    iy0[col] = (p / ow) * sh - win.pads.t
                    ix0[col] = (p % ow) * sw - win.pads.l
                }
                // All 16 columns on one output row at stride 1: rows of the input are contiguous.
                let sameRow = cols == NR && sw == 1 && iy0[0] == iy0[NR - 1]
                var c = k0 / (kh * kw), r = k0 % (kh * kw)
                for _ in 0..<kc {
                    let ky = r / kw, kx = r % kw
                    let plane = x + c * h * w
                    let iy = iy0[0] + ky * dh, ixs = ix0[0] + kx * dw
                    if sameRow && iy >= 0 && iy < h && ixs >= 0 && ixs + NR <= w {
                        let src = UnsafeRawPointer(plane + iy * w + ixs)
                        UnsafeMutableRawPointer(out).storeBytes(of: src.loadUnaligned(as: V8.self), as: V8.self)
                        UnsafeMutableRawPointer(out + 8).storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: V8.self), as: V8.self)
                    } else {
                        for col in 0..<NR {
                            let yy = iy0[col] + ky * dh, xx = ix0[col] + kx * dw
                            out[col] = col < cols && yy >= 0 && yy < h && xx >= 0 && xx < w ? plane[yy * w + xx] : 0
                        }
                    }
                    out += NR
                    r += 1
                    if r == kh * kw { r = 0; c += 1 }
                }
                j += NR
            }
        }
    }
}

/// Copies one [H, W] plane into a zero- (or `fill`-) padded plane
/// [H + pt + pb + extra, W + pl + pr + extra]; `extra` lets SIMD loads run past the edge.
@inline(__always)
func padPlane(_ src: UnsafePointer<Float>, h: Int, w: Int, pads: (t: Int, l: Int, b: Int, r: Int), extra: Int,
              fill: Float, into dst: UnsafeMutablePointer<Float>) -> Int {
    let pw = w + pads.l + pads.r + extra
    let ph = h + pads.t + pads.b + extra
    dst.update(repeating: fill, count: pw * ph)
    for y in 0..<h { (dst + (y + pads.t) * pw + pads.l).update(from: src + y * w, count: w) }
    return pw
}

/// Loads 8 values spaced `stride` apart (stride 1 or 2 fast, others gathered).
@inline(__always)
func loadStrided(_ p: UnsafePointer<Float>, _ stride: Int) -> V8 {
    switch stride {
    case 1: return UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    case 2: return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self).evenHalf
    default:
        var v = V8()
        for i in 0..<8 { v[i] = p[i * stride] }
        return v
    }
}

/// Depthwise conv (group == C == M, one filter per channel), direct over a padded
/// copy of each plane, 8 output columns per SIMD step.
/// x [C, H, W] -> y [C, OH, OW]; weights [C, kh, kw]; bias [C].
func depthwiseConv(x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, weights: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>?, win: Window2D, lo: Float, hi: Float,
                   y: UnsafeMutablePointer<Float>, threads: Int) {
    let (oh, ow) = win.output(h, w)
    let kh = win.kernel.h, kw = win.kernel.w, sh = win.stride.h, sw = win.stride.w
    let dh = win.dilation.h, dw = win.dilation.w
    let extra = 16 * max(sw, 1) + kw * dw
    let planeSize = (h + win.pads.t + win.pads.b + extra) * (w + win.pads.l + win.pads.r + extra)
    let xAddr = Int(bitPattern: x), yAddr = Int(bitPattern: y)
    let tasks = min(max(threads, 1), channels)
    let work = { (task: Int) in
        let x = UnsafePointer<Float>(bitPattern: xAddr)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddr)!
        Scratch.with(planeSize) { padded in
        let loV = V8(repeating: lo), hiV = V8(repeating: hi)
        for ch in (channels * task / tasks)..<(channels * (task + 1) / tasks) {
            let pw = padPlane(x + ch * h * w, h: h, w: w, pads: win.pads, extra: extra, fill: 0, into: padded)
            let wk = weights + ch * kh * kw
            let b = bias?[ch] ?? 0
            let out = y + ch * oh * ow
            for oy in 0..<oh {
                let rowBase = padded + oy * sh * pw
                var ox = 0
                while ox < ow {
                    var acc = V8(repeating: b)
                    for ky in 0..<kh {
                        let src = rowBase + ky * dh * pw + ox * sw
                        for kx in 0..<kw {
                            acc = acc.addingProduct(loadStrided(src + kx * dw, sw), V8(repeating: wk[ky * kw + kx]))
                        }
                    }
                    acc = clamp8(acc, loV, hiV)
                    let n = min(8, ow - ox)
                    if n == 8 { UnsafeMutableRawPointer(out + oy * ow + ox).storeBytes(of: acc, as: V8.self) }
                    else { for i in 0..<n { out[oy * ow + ox + i] = acc[i] } }
                    ox += 8
                }
            }
        }
        }
    }
    if tasks == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: tasks, execute: work) }
}

/// Max or average pooling of [P, H, W] planes (P = N*C), SIMD over output columns.
/// Average: divisor is the count of real cells, or with `countIncludePad` of cells
/// inside the explicitly padded input (both separable in y and x).
func pool2D(x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, win: Window2D, isMax: Bool, countIncludePad: Bool,
            y: UnsafeMutablePointer<Float>) {
    let (oh, ow) = win.output(h, w)
    let kh = win.kernel.h, kw = win.kernel.w, sh = win.stride.h, sw = win.stride.w
    let dh = win.dilation.h, dw = win.dilation.w
    // ceil_mode windows may reach past the end padding: pad further.
    let extra = 16 * max(sw, 1) + kw * dw + kh * dh + sh
    let pw0 = w + win.pads.l + win.pads.r + extra
    Scratch.with((h + win.pads.t + win.pads.b + extra) * pw0) { padded in
    // Per-row and per-column cell counts for the average divisor.
    func counts(_ o: Int, _ size: Int, _ k: Int, _ s: Int, _ d: Int, _ p0: Int, _ p1: Int) -> [Float] {
        (0..<o).map { i in
            var n = 0
            for t in 0..<k {
                let pos = i * s - p0 + t * d
                if countIncludePad ? pos < size + p1 : (pos >= 0 && pos < size) { n += 1 }
            }
            return Float(n)
        }
    }
    let rowCount = counts(oh, h, kh, sh, dh, win.pads.t, win.pads.b)
    let colCount = counts(ow, w, kw, sw, dw, win.pads.l, win.pads.r)
    for p in 0..<planes {
        let pw = padPlane(x + p * h * w, h: h, w: w, pads: win.pads, extra: extra, fill: isMax ? -.infinity : 0, into: padded)
        let out = y + p * oh * ow
        for oy in 0..<oh {
            var ox = 0
            while ox < ow {
                var acc = V8(repeating: isMax ? -.infinity : 0)
                for ky in 0..<kh {
                    let src = padded + (oy * sh + ky * dh) * pw + ox * sw
                    for kx in 0..<kw {
                        let v = loadStrided(src + kx * dw, sw)
                        acc = isMax ? max8(acc, v) : acc + v
                    }
                }
                let n = min(8, ow - ox)
                for i in 0..<n {
                    out[oy * ow + ox + i] = isMax ? acc[i] : acc[i] / (rowCount[oy] * colCount[ox + i])
                }
                ox += 8
            }
        }
    }
}
}

/// Builds the im2col matrix of one image: rows (c, ky, kx), columns (oy, ox).
/// x [C, H, W] -> dst [C*kh*kw, OH*OW], zero where the window is in the padding.
/// Each row is filled in runs along ox (contiguous at stride 1), so this is
/// copy speed; the GEMM then packs it with vector loads.
func im2col(_ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, win: Window2D, oh: Int, ow: Int,
            into dst: UnsafeMutablePointer<Float>) {
    let kh = win.kernel.h, kw = win.kernel.w, sh = win.stride.h, sw = win.stride.w
    let dh = win.dilation.h, dw = win.dilation.w
    var row = dst
    for c in 0..<channels {
        let plane = x + c * h * w
        for ky in 0..<kh {
            for kx in 0..<kw {
                // Output columns whose input column is inside the image: lo..<hi.
                let off = kx * dw - win.pads.l
                let lo = off >= 0 ? 0 : min(ow, (-off + sw - 1) / sw)
                let hi = max(lo, min(ow, w - off > 0 ? (w - off + sw - 1) / sw : 0))
                for oy in 0..<oh {
                    let out = row + oy * ow
                    let iy = oy * sh - win.pads.t + ky * dh
                    if iy < 0 || iy >= h {
                        out.update(repeating: 0, count: ow)
                        continue
                    }
                    if lo > 0 { out.update(repeating: 0, count: lo) }
                    let src = plane + iy * w + off
                    if sw == 1 {
                        (out + lo).update(from: src + lo, count: hi - lo)
                    } else {
                        for ox in lo..<hi { out[ox] = src[ox * sw] }
                    }
                    if hi < ow { (out + hi).update(repeating: 0, count: ow - hi) }
                }
                row += oh * ow
            }
        }
    }
}
