/// A dense float32 tensor in row-major order.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first (e.g. [N, C, H, W]).
    public var shape: [Int]
    /// Layout: row-major over `shape`; count == shape.product.
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(data.count == shape.reduce(1, *), "tensor data count \(data.count) != product of \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
}

/// Deterministic pseudo-random numbers for tests and benchmarks (SplitMix64).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    public mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
}

extension Tensor {
    /// A tensor of uniform random values from a fixed seed.
    public static func random(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { _ in rng.float(range.lowerBound, range.upperBound) })
    }
}
