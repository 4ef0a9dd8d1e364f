/// What a tensor's elements are. Activations and weights are float32; int64 and
/// bool values exist for the shape arithmetic of exported graphs (Shape -> Gather
/// -> Concat -> Reshape, Range, ConstantOfShape), which a plan folds away for its
/// input shape: no kernel ever sees them.
public enum ElementType: String, Sendable, Equatable {
    case float32, int64, bool
}

/// A dense tensor in row-major order: float32 in `data`, or int64/bool in `integers`.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first (e.g. [N, C, H, W]).
    public var shape: [Int]
    /// Layout: row-major over `shape`; count == shape.product. Empty unless float32.
    public var data: [Float]
    /// Layout: row-major over `shape` (bool as 0/1). Empty for float32. Swift's Int
    /// is ONNX's int64 here; arithmetic on it wraps or clamps, never traps.
    public var integers: [Int]
    public let elementType: ElementType

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(data.count == shape.reduce(1, *), "tensor data count \(data.count) != product of \(shape)")
        self.shape = shape
        self.data = data
        integers = []
        elementType = .float32
    }

    /// An int64 (or, with `type: .bool`, a bool) tensor.
    public init(shape: [Int], integers: [Int], type: ElementType = .int64) {
        precondition(type != .float32, "integer storage for a float tensor")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(integers.count == shape.reduce(1, *), "tensor data count \(integers.count) != product of \(shape)")
        self.shape = shape
        data = []
        self.integers = type == .bool ? integers.map { $0 != 0 ? 1 : 0 } : integers
        elementType = type
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { elementType == .float32 ? data.count : integers.count }
    public var rank: Int { shape.count }
    public var isFloat: Bool { elementType == .float32 }

    /// Element i as a Double, whatever the type (for ops that accept either).
    func number(_ i: Int) -> Double { isFloat ? Double(data[i]) : Double(integers[i]) }

    /// The same values as `type` (ONNX Cast: float to int truncates toward zero and
    /// saturates at the int64 range; NaN becomes 0; anything non-zero is true).
    func cast(to type: ElementType) -> Tensor {
        if type == elementType { return self }
        switch type {
        case .float32:
            return Tensor(shape: shape, data: integers.map { Float($0) })
        case .int64, .bool:
            let ints = isFloat ? data.map(Tensor.saturatingInt) : integers
            return Tensor(shape: shape, integers: ints, type: type)
        }
    }

    /// Float to Int toward zero, clamped to Int's range (a plain conversion traps).
    static func saturatingInt(_ v: Float) -> Int {
        if v.isNaN { return 0 }
        if v >= 9.2e18 { return Int.max }
        if v <= -9.2e18 { return Int.min }
        return Int(v.rounded(.towardZero))
    }
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
