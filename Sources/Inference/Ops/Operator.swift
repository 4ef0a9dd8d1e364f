import KernelSupport

/// One ONNX operator: everything the engine knows about it, in one place (as
/// tract keeps one file per op). Adding an op is one file and one registry line.
///
/// Model files are untrusted: `init(node:opset:)` checks the node's input and
/// output counts and every attribute's type and range, and `outputShape` checks
/// the shapes it is given, with checked arithmetic and size limits, so nothing
/// that reaches a kernel can index outside its buffers.
protocol Operator {
    /// The ONNX op type, e.g. "Conv".
    static var opType: String { get }
    /// The lowest default-domain opset whose definition this follows.
    static var sinceOpset: Int { get }
    /// How many inputs the node may have (omitted optional inputs count).
    static var inputCount: ClosedRange<Int> { get }
    /// Which layout the op reads and writes.
    static var layout: LayoutRule { get }

    /// The node and its attribute reader (messages name the node through it).
    var attrs: Attributes { get }

    /// Reads and checks `node`. - Throws: `InferenceError` naming the node and the problem.
    init(node: Node, opset: Int) throws

    /// The element type of each output for these input types (nil: an omitted
    /// optional input). Default: float32 inputs, one float32 output; any other
    /// input type is the node's error, so no kernel ever reads integers as floats.
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType]

    /// The output shape for these input shapes (nil: an omitted optional input);
    /// `constants` holds the values of inputs that are constants (nil otherwise).
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int]

    /// Every output's shape. Default: `outputShape`'s one (Split has several).
    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]]

    /// The scalar reference: what the kernels must compute (tests compare the two;
    /// constant folding uses it).
    func reference(_ inputs: [Tensor?]) throws -> Tensor

    /// Every output's reference. Default: `reference`'s one.
    func references(_ inputs: [Tensor?]) throws -> [Tensor]

    /// The outputs' values when the input shapes alone decide them (Shape), so a
    /// plan folds them for its input shape however the inputs are computed. Default nil.
    func valuesFromShapes(_ shapes: [[Int]?]) throws -> [Tensor]?

    /// Which layout each input is read in and the output written in, given where
    /// the inputs are. Default: from `layout`.
    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice

    /// The step that runs the op in a plan, and its FLOPs. nil step: nothing to run
    /// (an alias of its input's storage).
    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double)

    /// Weights laid out once at load for the kernels, or nil when the op keeps none.
    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights?
}

extension Operator {
    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights? { nil }
    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]] { [try outputShape(shapes, constants: constants)] }
    func references(_ inputs: [Tensor?]) throws -> [Tensor] { [try reference(inputs)] }
    func valuesFromShapes(_ shapes: [[Int]?]) throws -> [Tensor]? { nil }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        try requireFloat(types)
        return [.float32]
    }

    /// Checks that every given input is float32. - Throws: naming the first that is not.
    func requireFloat(_ types: [ElementType?], _ which: Range<Int>? = nil) throws {
        for (i, t) in types.enumerated() where which?.contains(i) ?? true {
            if let t, t != .float32 {
                throw attrs.fail("input \(i) is \(t.rawValue); this op takes float32 only")
            }
        }
    }

    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice { Self.layout.choice(q) }
}

/// The layouts an op works in (activations between convs stay channels-last).
enum LayoutRule {
    /// Reads and writes the ONNX layout (NCHW).
    case onnx
    /// Reads its first input channels-last and writes channels-last (Conv, pooling).
    case channelsLast
    /// Reads channels-last, writes [N, C, 1, 1] (the same memory in either layout).
    case reducesToChannels
    /// Element by element in whatever layout its first input has (unary ops).
    case followsInput
    /// Element by element; channels-last only when both inputs are and their shapes match.
    case followsSameShapeInputs
    /// The op decides (`layoutChoice`): it reads its inputs in whatever layout they are.
    case flexible

    func choice(_ q: LayoutQuery) -> LayoutChoice {
        let n = q.channelsLast.count
        let first = q.channelsLast.first ?? false
        switch self {
        case .onnx, .flexible:
            return LayoutChoice(inputs: [Bool](repeating: false, count: n), output: false)
        case .channelsLast:
            return LayoutChoice(inputs: [true] + [Bool](repeating: false, count: max(n - 1, 0)), output: true)
        case .reducesToChannels:
            return LayoutChoice(inputs: [true] + [Bool](repeating: false, count: max(n - 1, 0)), output: false)
        case .followsInput:
            return LayoutChoice(inputs: [first] + [Bool](repeating: false, count: max(n - 1, 0)), output: first)
        case .followsSameShapeInputs:
            let both = n == 2 && q.shapes[0] == q.shapes[1] && first && q.channelsLast[1]
            return LayoutChoice(inputs: [both, both], output: both)
        }
    }
}

/// Where a node's inputs are: their shapes (as ONNX states them) and whether each
/// is held channels-last. Constants are always in the ONNX layout.
struct LayoutQuery {
    let shapes: [[Int]]
    let channelsLast: [Bool]
    let isConstant: [Bool]
}

/// How a node reads its inputs and writes its output: per input, true for
/// channels-last, false for the ONNX layout, nil for as it is (the op reads
/// either); `output` true for channels-last.
struct LayoutChoice {
    var inputs: [Bool?]
    var output: Bool
}

/// What lowering one node needs from the plan.
struct Lowering {
    let node: Node
    /// Where each input lives; nil for an omitted input or weights packed at load.
    let inputs: [Location?]
    /// Input shapes as ONNX states them (NCHW), [] for omitted inputs.
    let inputShapes: [[Int]]
    /// Values of constant inputs (the graph's, and those folded for this plan's shapes).
    let constants: [Tensor?]
    let outputs: [Location]
    let outputShapes: [[Int]]
    let prepared: PreparedWeights?
    /// Fused into the write-back: a residual input (the last of `inputs`), a clamp, an activation.
    let fused: FusedEpilogue
    let opset: Int
    /// Per input: read channels-last (NHWC memory for an NCHW shape).
    let inputChannelsLast: [Bool]
    /// The output is written channels-last.
    let outputChannelsLast: Bool
    let threads: Int
    /// The kernel set the plan runs (and the weights were packed for).
    let kernels: KernelTable

    var output: Location { outputs[0] }
    var outputShape: [Int] { outputShapes[0] }
    /// True when input 0 is read channels-last.
    var channelsLast: Bool { inputChannelsLast.first ?? false }

    /// Input i's location. - Throws: when the plan did not give one (an internal error).
    func input(_ i: Int) throws -> Location {
        guard i < inputs.count, let l = inputs[i] else { throw InferenceError("node '\(node.name)': internal error: input \(i) has no storage") }
        return l
    }
}

/// Size limits for anything a model file asks for: a plan never allocates more,
/// whatever the file says.
enum Limits {
    /// Largest tensor, in elements (512 MiB of floats).
    static let maxElements = 1 << 27
    /// Largest activation arena of one plan, in floats (1 GiB).
    static let maxArenaFloats = 1 << 28
    /// Largest dimension an attribute may give (kernel sizes, strides, dilations, pads).
    static let maxWindow = 1 << 16
    /// Largest rank.
    static let maxRank = 8
}

/// Reads a node's attributes with the types and ranges they must have.
struct Attributes {
    let node: Node

    func fail(_ why: String) -> InferenceError { InferenceError("node '\(node.name)' (\(node.opType)): \(why)") }

    /// An int attribute, or `fallback` when absent. - Throws: wrong type or out of `range`.
    func int(_ key: String, _ fallback: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let a = node.attributes[key] else { return fallback }
        guard case .int(let v) = a else { throw fail("attribute '\(key)' must be an int") }
        guard range.contains(v) else { throw fail("attribute '\(key)' must be from \(range.lowerBound) to \(range.upperBound), got \(v)") }
        return v
    }

    func float(_ key: String, _ fallback: Float) throws -> Float {
        guard let a = node.attributes[key] else { return fallback }
        switch a {
        case .float(let v) where v.isFinite: return v
        case .int(let v): return Float(v)
        default: throw fail("attribute '\(key)' must be a finite float")
        }
    }

    /// An ints attribute of `count` values (any count when nil), each in `range`.
    func ints(_ key: String, count: Int? = nil, in range: ClosedRange<Int> = Int.min...Int.max) throws -> [Int]? {
        guard let a = node.attributes[key] else { return nil }
        guard case .ints(let v) = a else { throw fail("attribute '\(key)' must be a list of ints") }
        if let count, v.count != count { throw fail("attribute '\(key)' must have \(count) values, got \(v.count)") }
        if let bad = v.first(where: { !range.contains($0) }) {
            throw fail("attribute '\(key)' values must be from \(range.lowerBound) to \(range.upperBound), got \(bad)")
        }
        return v
    }

    func string(_ key: String, _ fallback: String, oneOf allowed: [String]) throws -> String {
        guard let a = node.attributes[key] else { return fallback }
        guard case .string(let v) = a else { throw fail("attribute '\(key)' must be a string") }
        guard allowed.contains(v) else { throw fail("attribute '\(key)' must be one of \(allowed.joined(separator: ", ")), got '\(v)'") }
        return v
    }

    /// Checks the node's input count against `range` and that it has `outputs` named
    /// outputs (exactly one unless told).
    func checkArity(_ range: ClosedRange<Int>, outputs: ClosedRange<Int> = 1...1) throws {
        guard range.contains(node.inputs.count) else {
            throw fail(range.lowerBound == range.upperBound ? "needs \(range.lowerBound) inputs, has \(node.inputs.count)"
                       : "needs \(range.lowerBound) to \(range.upperBound) inputs, has \(node.inputs.count)")
        }
        guard outputs.contains(node.outputs.count), node.outputs.allSatisfy({ !$0.isEmpty }) else {
            let named = node.outputs.filter { !$0.isEmpty }.count
            throw fail(outputs.count == 1 ? "must have exactly \(outputs.lowerBound) output\(outputs.lowerBound == 1 ? "" : "s"), has \(named)"
                       : "must have \(outputs.lowerBound) to \(outputs.upperBound) outputs, has \(named)")
        }
    }

    /// Constant input `i` as a list of integers (axes, sizes, starts), or nil when
    /// the node omits it. - Throws: when it is not constant, not int64, or not 1-D (or a scalar).
    func integerList(_ constants: [Tensor?], _ i: Int, what: String, maxCount: Int = Limits.maxRank) throws -> [Int]? {
        guard i < node.inputs.count, !node.inputs[i].isEmpty else { return nil }
        guard i < constants.count, let t = constants[i] else { throw fail("the \(what) input must be constant (or computed from shapes alone)") }
        guard t.elementType == .int64, t.rank <= 1, t.count <= maxCount else {
            throw fail("the \(what) input must be a list of at most \(maxCount) int64 values, got \(t.elementType.rawValue) \(t.shape)")
        }
        return t.integers
    }

    /// Input `i` must be given (not omitted).
    func required(_ i: Int) throws {
        guard i < node.inputs.count, !node.inputs[i].isEmpty else { throw fail("input \(i) is required") }
    }
}

/// Element count of `shape`, checked: every dimension non-negative and the product
/// within `Limits.maxElements`. - Throws: `InferenceError` naming `what`.
func elementCount(_ shape: [Int], _ what: @autoclosure () -> String) throws -> Int {
    var n = 1
    for d in shape {
        guard d >= 0 else { throw InferenceError("\(what()): negative dimension in \(shape)") }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow, p <= Limits.maxElements else {
            throw InferenceError("\(what()): shape \(shape) has more than \(Limits.maxElements) elements")
        }
        n = p
    }
    return n
}

/// An axis attribute resolved against `rank` (negative counts from the end).
/// - Throws: when it is outside -rank..<rank (or -rank...rank when `inclusive`).
func resolveAxis(_ axis: Int, rank: Int, inclusive: Bool = false, _ attrs: Attributes) throws -> Int {
    let hi = inclusive ? rank : rank - 1
    guard axis >= -rank, axis <= hi else { throw attrs.fail("axis \(axis) is out of range for rank \(rank)") }
    return axis < 0 ? axis + rank : axis
}

/// Input `i`'s shape, which must be present. - Throws: when it is omitted.
func shape(_ shapes: [[Int]?], _ i: Int, _ attrs: Attributes) throws -> [Int] {
    guard i < shapes.count, let s = shapes[i] else { throw attrs.fail("input \(i) is missing") }
    return s
}

/// Input `i`'s tensor, which must be present. - Throws: when it is omitted.
func tensor(_ inputs: [Tensor?], _ i: Int, _ attrs: Attributes) throws -> Tensor {
    guard i < inputs.count, let t = inputs[i] else { throw attrs.fail("input \(i) is missing") }
    return t
}
