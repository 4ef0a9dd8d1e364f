import KernelSupport

/// Weights re-laid out once at load for the kernels (built by the ops' `prepare`).
final class PreparedWeights {
    enum Kind {
        /// Filters [M, Cg, kh, kw] packed as GEMM panels for `convNHWC` (all groups).
        case conv(PackedFilters)
        /// Depthwise filters as [kh*kw][C]: a tap's weights are contiguous across channels.
        case depthwise(UnsafeMutablePointer<Float>)
        /// Fully connected: W [K, N] packed as the filters of a 1x1 conv with K input
        /// channels and N filters (alpha folded in).
        case dense(PackedFilters)
    }
    let kind: Kind
    /// Layout: [M] output channels / units (beta folded in); nil: no bias.
    let bias: UnsafeMutablePointer<Float>?
    /// The weights' shape as the model gives them ([M, Cg, kh, kw] for a conv, [K, N] dense).
    let weightShape: [Int]
    /// Layout: [kw * Cg] zeros, the row that padding taps of a conv read. nil: not a conv.
    let zeros: UnsafeMutablePointer<Float>?

    init(kind: Kind, bias: [Float]?, weightShape: [Int], zeros: [Float]?) {
        self.kind = kind
        self.bias = bias.map(PreparedWeights.copy)
        self.weightShape = weightShape
        self.zeros = zeros.map(PreparedWeights.copy)
    }

    /// A dense layer y = x @ (alpha * B) + bias, B [K, N] (or [N, K] when `transposed`).
    static func dense(_ b: Tensor, k: Int, n: Int, transposed: Bool, alpha: Float, bias: [Float]?, kernels: KernelTable) -> PreparedWeights {
        let filters = b.data.withUnsafeBufferPointer { bp in
            kernels.packFilters(groups: 1, mg: n, cg: k, taps: 1) { unit, q, _ in alpha * (transposed ? bp[unit * k + q] : bp[q * n + unit]) }
        }
        return PreparedWeights(kind: .dense(filters), bias: bias, weightShape: [k, n], zeros: nil)
    }

    /// `values` in a cache-line aligned buffer this object owns.
    static func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let p = allocateFloats(max(values.count, 1))
        p.initialize(from: values, count: values.count)
        return p
    }

    deinit {
        bias?.deallocate()
        zeros?.deallocate()
        if case .depthwise(let p) = kind { p.deallocate() }
    }
}
