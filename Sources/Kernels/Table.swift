import KernelSupport

/// This build's kernel set (the ISA, vector type and tile width come from the
/// target's own ISA.swift; everything else is the shared source).
package let kernelTable = KernelTable(name: isaName, nr: NR, tail: tailNR) { t in
    t.conv = { precondition($2.nr == NR && $2.tail == tailNR, "filters packed for another kernel set"); convNHWC($0, $1, filters: $2, epilogue: $3, zeros: $4, y: $5, threads: $6) }
    t.depthwise = { depthwiseNHWC($0, $1, weights: $2, epilogue: $3, y: $4, threads: $5) }
    t.pool = { poolNHWC($0, $1, isMax: $2, countIncludePad: $3, y: $4, threads: $5) }
    t.globalAverage = { globalAverageNHWC($0, batch: $1, pixels: $2, c: $3, y: $4) }
    t.convertLayout = { convertLayout($0, batch: $1, c: $2, pixels: $3, toNHWC: $4, y: $5) }
    t.invertedResidual = {
        precondition($1.expand.nr == NR && $1.project.nr == NR && $1.expand.tail == tailNR && $1.project.tail == tailNR, "filters packed for another kernel set")
        invertedResidualNHWC($0, $1, y: $2, threads: $3)
    }
    t.activate = { activateKernel($0, $1, count: $2, lo: $3, hi: $4, activation: $5) }
    t.prelu = { preluKernel($0, $1, $2, count: $3, channels: $4, inner: $5) }
    t.binary = { binaryKernel($0, $1, $2, count: $3, op: $4) }
    t.broadcast = { broadcastKernel($0, $1, $2, $3, $4, shape: $5, op: $6) }
    t.softmax = { softmaxKernel($0, $1, outer: $2, len: $3, inner: $4) }
    t.reduce = { reduceKernel($0, $1, outer: $2, len: $3, inner: $4, mean: $5) }
    t.layerNorm = { layerNormKernel($0, $1, $2, $3, rows: $4, len: $5, epsilon: $6) }
    t.resize = { resizeKernel($0, images: $1, h: $2, w: $3, c: $4, ys: $5, xs: $6, $7) }
    t.col2im = { col2imKernel($0, pixelFloats: $1, $2, groups: $3, rows: $4, overwrite: $5, bias: $6, $7) }
    t.fillRows = { fillRowsKernel($0, $1, pixels: $2, m: $3) }
    t.transpose = { transposeKernel($0, inShape: $1, perm: $2, $3) }
}
