import Foundation

/// A loaded model: the optimised graph, its weights packed for the kernels, and
/// execution plans built per input shape (e.g. per batch size) on first use.
///
/// `run` is safe to call from several threads at once: plans are immutable and
/// each call takes its own scratch arena.
public final class Model: @unchecked Sendable {
    public let graph: Graph
    /// Threads each kernel may use (1 = run on the calling thread).
    public let threads: Int
    private let prepared: [Int: PreparedWeights]
    private var plans: [[Int]: Plan] = [:]
    private let lock = NSLock()

    /// Loads and optimises an ONNX file.
    public convenience init(contentsOf url: URL, threads: Int = 1) throws {
        try self.init(graph: ONNXImporter.load(contentsOf: url), threads: threads)
    }

    public init(graph: Graph, threads: Int = 1) throws {
        self.graph = try Optimizer.optimize(graph)
        self.threads = max(1, threads)
        guard self.graph.inputs.count >= 1 else { throw InferenceError("model has no inputs") }
        var prepared: [Int: PreparedWeights] = [:]
        for (i, n) in self.graph.nodes.enumerated() {
            if let p = try PreparedWeights(node: n, constants: self.graph.constants) { prepared[i] = p }
        }
        self.prepared = prepared
    }

    public var inputs: [ValueInfo] { graph.inputs }
    public var outputNames: [String] { graph.outputs }

    /// Number of weights (all constant tensors).
    public var parameterCount: Int { graph.constants.values.reduce(0) { $0 + $1.count } }

    /// Multiply-adds x 2 of the Conv/Gemm/MatMul ops for one input of batch 1, in GFLOP.
    public func gflopsPerImage() throws -> Double {
        try plan(for: graph.inputs.map { $0.shape.map { $0 ?? 1 } }, threads: threads).flops / 1e9
    }

    /// The steps a run at batch 1 executes, one line each ("Conv name [in] -> [out]",
    /// "Block expand > depthwise > project ...", layout conversions): shows what the
    /// plan fused.
    public func planSteps() throws -> [String] {
        try plan(for: graph.inputs.map { $0.shape.map { $0 ?? 1 } }, threads: threads).stepNames
    }

    /// Runs the model. Inputs by name; every graph input must be given, with
    /// its declared shape (dynamic dimensions may take any size). `threads`
    /// overrides the model's thread count for this call.
    public func run(_ feeds: [String: Tensor], threads: Int? = nil) throws -> [String: Tensor] {
        let threads = max(1, threads ?? self.threads)
        var shapes: [[Int]] = []
        for info in graph.inputs {
            guard let t = feeds[info.name] else {
                throw InferenceError("missing input '\(info.name)' (expected shape \(describe(info.shape)))")
            }
            guard t.rank == info.shape.count, zip(t.shape, info.shape).allSatisfy({ $1 == nil || $0 == $1! }),
                  t.shape.allSatisfy({ $0 > 0 }) else {
                throw InferenceError("input '\(info.name)' has shape \(t.shape), expected \(describe(info.shape))")
            }
            shapes.append(t.shape)
        }
        let inputs = graph.inputs.map { feeds[$0.name]! }
        // A batch of several images on several threads: each thread runs a
        // single-threaded plan on its share of the images. Whole-network work per
        // thread scales better than splitting every (often small) op.
        let batch = shapes[0].first ?? 1
        if threads > 1, batch > 1, graph.inputs.count == 1, graph.inputs[0].shape.first.map({ $0 == nil }) == true {
            let parts = min(threads, batch)
            var sub = shapes[0]
            let bounds = (0...parts).map { batch * $0 / parts }
            var plans: [Plan] = []
            for i in 0..<parts {
                sub[0] = bounds[i + 1] - bounds[i]
                plans.append(try plan(for: [sub], threads: 1))
            }
            if plans.indices.allSatisfy({ plans[$0].outputsFollowBatch(bounds[$0 + 1] - bounds[$0]) }) {
                return splitRun(inputs[0], bounds: bounds, plans: plans)
            }
        }
        let p = try plan(for: shapes, threads: threads)
        return p.execute(inputs)
    }

    /// Runs `plans[i]` on images bounds[i]..<bounds[i+1] of `input` concurrently and
    /// concatenates the outputs along the batch dimension.
    private func splitRun(_ input: Tensor, bounds: [Int], plans: [Plan]) -> [String: Tensor] {
        let perImage = input.count / bounds.last!
        let parts = plans.count
        let results = UnsafeMutablePointer<[String: Tensor]>.allocate(capacity: parts)
        results.initialize(repeating: [:], count: parts)
        defer { results.deinitialize(count: parts); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            var shape = input.shape
            shape[0] = bounds[i + 1] - bounds[i]
            let slice = Array(input.data[(bounds[i] * perImage)..<(bounds[i + 1] * perImage)])
            results[i] = plans[i].execute([Tensor(shape: shape, data: slice)])
        }
        var out: [String: Tensor] = [:]
        for name in results[0].keys {
            var shape = results[0][name]!.shape
            shape[0] = bounds.last!
            out[name] = Tensor(shape: shape, data: (0..<parts).flatMap { results[$0][name]!.data })
        }
        return out
    }

    private func describe(_ shape: [Int?]) -> String {
        "[" + shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]"
    }

    private func plan(for shapes: [[Int]], threads: Int) throws -> Plan {
        let key = shapes.flatMap { $0 + [-1] } + [threads]
        lock.lock()
        defer { lock.unlock() }
        if let p = plans[key] { return p }
        let p = try Plan(graph: graph, prepared: prepared, inputShapes: shapes, threads: threads)
        plans[key] = p
        return p
    }
}

/// Weights re-laid out once at load for the kernels.
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
    let weightShape: [Int]
    /// Layout: [kw * Cg] zeros, the row that padding taps of a conv read. nil: not a conv.
    let zeros: UnsafeMutablePointer<Float>?

    init?(node: Node, constants: [String: Tensor]) throws {
        func const(_ i: Int) -> Tensor? { i < node.inputs.count && !node.inputs[i].isEmpty ? constants[node.inputs[i]] : nil }
        func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
            let p = allocateFloats(max(values.count, 1))
            p.initialize(from: values, count: values.count)
            return p
        }
        switch node.opType {
        case "Conv":
            guard let w = const(1) else {
                throw InferenceError("node '\(node.name)': Conv weights must be constant")
            }
            guard w.rank == 4 else { throw InferenceError("node '\(node.name)': only 2-D Conv is supported (weights \(w.shape))") }
            let m = w.shape[0], cg = w.shape[1], taps = w.shape[2] * w.shape[3]
            let group = node.int("group", 1)
            guard group >= 1, m % group == 0 else { throw InferenceError("node '\(node.name)': group \(group) does not divide \(m) filters") }
            weightShape = w.shape
            if let b = const(2) {
                guard b.count == m else { throw InferenceError("node '\(node.name)': bias has \(b.count) values for \(m) filters") }
                bias = copy(b.data)
            } else { bias = nil }
            // A whole window row of zeros: convNHWC reads padding rows of few-channel convs as one tap.
            zeros = copy([Float](repeating: 0, count: cg * w.shape[3]))
            if group == m && cg == 1 {
                // [C][taps] -> [taps][C]
                kind = .depthwise(copy((0..<(taps * m)).map { i in w.data[(i % m) * taps + i / m] }))
            } else {
                kind = w.data.withUnsafeBufferPointer { wp in
                    .conv(PackedFilters(groups: group, mg: m / group, cg: cg, taps: taps) { f, ci, t in wp[(f * cg + ci) * taps + t] })
                }
            }
        case "Gemm", "MatMul":
            guard let b = const(1), b.rank == 2 else { return nil }
            // A dynamic C operand, or A transposed, go the generic way.
            if node.opType == "Gemm" && node.inputs.count > 2 && !node.inputs[2].isEmpty && const(2) == nil { return nil }
            if node.opType == "Gemm" && node.int("transA", 0) != 0 { return nil }
            let transB = node.opType == "Gemm" && node.int("transB", 0) != 0
            let alpha = node.opType == "Gemm" ? node.float("alpha", 1) : 1
            let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            kind = b.data.withUnsafeBufferPointer { bp in
                .dense(PackedFilters(groups: 1, mg: n, cg: k, taps: 1) { unit, q, _ in alpha * (transB ? bp[unit * k + q] : bp[q * n + unit]) })
            }
            weightShape = [k, n]
            zeros = nil
            if node.opType == "Gemm", let c = const(2) {
                guard c.count == n || c.count == 1 else { return nil }
                let beta = node.float("beta", 1)
                bias = copy(c.count == 1 ? [Float](repeating: beta * c.data[0], count: n) : c.data.map { beta * $0 })
            } else { bias = nil }
        default:
            return nil
        }
    }

    deinit {
        bias?.deallocate()
        zeros?.deallocate()
        if case .depthwise(let p) = kind { p.deallocate() }
    }
}
