import KernelSupport

/// This build's kernel set (the ISA, vector type and tile width come from the
/// target's own ISA.swift; everything else is the shared source).
package let kernelTable = KernelTable(
    name: isaName, nr: NR,
    conv: { precondition($2.nr == NR, "filters packed for another kernel set"); convNHWC($0, $1, filters: $2, epilogue: $3, zeros: $4, y: $5, threads: $6) },
    depthwise: { depthwiseNHWC($0, $1, weights: $2, epilogue: $3, y: $4, threads: $5) },
    pool: { poolNHWC($0, $1, isMax: $2, countIncludePad: $3, y: $4, threads: $5) },
    globalAverage: { globalAverageNHWC($0, batch: $1, pixels: $2, c: $3, y: $4) },
    convertLayout: { convertLayout($0, batch: $1, c: $2, pixels: $3, toNHWC: $4, y: $5) },
    invertedResidual: {
        precondition($1.expand.nr == NR && $1.project.nr == NR, "filters packed for another kernel set")
        invertedResidualNHWC($0, $1, y: $2, threads: $3)
    },
    clamp: { clampKernel($0, $1, count: $2, lo: $3, hi: $4) },
    sigmoid: { sigmoidKernel($0, $1, count: $2) },
    prelu: { preluKernel($0, $1, $2, count: $3, channels: $4, inner: $5) },
    binary: { binaryKernel($0, $1, $2, count: $3, multiply: $4, lo: $5, hi: $6) },
    broadcast: { broadcastKernel($0, $1, $2, $3, $4, shape: $5, multiply: $6) },
    softmax: { softmaxKernel($0, $1, outer: $2, len: $3, inner: $4) },
    transpose: { transposeKernel($0, inShape: $1, perm: $2, $3) })
