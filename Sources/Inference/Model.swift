import KernelSupport
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
    /// The file the model came from, prefixed to its errors.
    public let source: String?
    /// The kernel set every plan of this model runs; its weights are packed for it.
    public let kernelSet: KernelSet
    private let kernels: KernelTable
    /// One parsed, checked operator per node of `graph`.
    private let ops: [any Operator]
    private let prepared: [Int: PreparedWeights]
    private var plans: [[Int]: Plan] = [:]
    /// Keys of `plans`, least recently used first.
    private var planUse: [[Int]] = []
    /// Plans kept at most: a model of any image size meets a new shape with every
    /// video size (and pyramid level), and each plan holds its own steps.
    static let maxPlans = 48
    /// Activation arenas of all this model's plans: a plan for one thread and one for
    /// two over the same shape need the same arena, and no more exist than runs in
    /// flight (4 kept free at most: a model of many input shapes would otherwise keep
    /// one of every size it met; an EfficientNet-Lite0 arena is 9 MB).
    private let arenas = FloatBufferPool(maxFree: 4)
    /// Each output's array from the last run, by output name, written again by the
    /// next run once its caller has let go of it. An output of 128 KiB or more is
    /// its own mapping (`mallopt` in main): a fresh array per run page-faulted on
    /// every page (PP-OCR rec's 3 MB of character scores: ~730 faults a run).
    /// At most one array per output name is kept.
    private var spareOutputs: [String: [Float]] = [:]
    private let lock = NSLock()

    /// Loads, checks and optimises an ONNX file. A file that is not a regular file
    /// (a FIFO would block) is refused before it is opened.
    /// - Throws: `InferenceError` naming the file, the node and the reason.
    public convenience init(contentsOf url: URL, threads: Int = 1, kernels: KernelSet? = nil) throws {
        try self.init(graph: ONNXImporter.load(contentsOf: url), threads: threads, source: url.path, kernels: kernels)
    }

    /// Consumes, checks and optimises `graph`, packs its weights (the packed panels
    /// become their only copy) and builds the plan for its declared input shape at
    /// batch 1, so that any shape a node cannot take is found here, at load, not in
    /// the middle of a run. An input of any image size ([N, 3, H, W]) has no such
    /// shape: its plans are built and checked per shape at their first run.
    /// `kernels`: the set to run (default: `KernelSet.selected()`, the best this CPU
    /// supports, or `VIDLABEL_ISA`'s); a set the CPU cannot run is refused.
    /// - Throws: `InferenceError` (prefixed with `source` when given).
    public init(graph: consuming Graph, threads: Int = 1, source: String? = nil, kernels set: KernelSet? = nil) throws {
        self.source = source
        self.threads = max(1, threads)
        let chosen = try set ?? KernelSet.selected()
        guard chosen.isSupported else { throw InferenceError("the \(chosen.rawValue) kernels need a CPU this one is not") }
        kernelSet = chosen
        let kernels = chosen.table
        self.kernels = kernels
        func named(_ e: Error) -> Error {
            guard let source, let e = e as? InferenceError, !e.message.hasPrefix(source) else { return e }
            return InferenceError("\(source): \(e.message)")
        }
        do {
            try GraphCheck.check(graph)
            // The graph is consumed: the optimiser frees what it replaces, and each
            // packed weight leaves the graph as soon as its panels exist.
            var g = try Optimizer.optimize(consume graph)
            guard !g.inputs.isEmpty else { throw InferenceError("model has no inputs") }
            let ops = try g.nodes.map { try parseOperator($0, opset: g.opset) }
            (self.ops, self.prepared) = (ops, try Model.pack(&g, ops: ops, kernels: kernels))
            self.graph = g
        } catch { throw named(error) }
        // An input of any image size (a detector's) has no one shape to check at load:
        // its plans are built, and checked, per shape at the first run of each.
        guard let shapes = try? batchOneShapes() else { return }
        do { _ = try plan(for: shapes, threads: 1) } catch { throw named(error) }
    }

    /// The input shapes of a run at batch 1, `inputShape` (for the first input) when
    /// given. - Throws: when a dimension other than the batch is dynamic and no shape
    /// was given: no single shape stands for every image size.
    private func batchOneShapes(_ inputShape: [Int]? = nil) throws -> [[Int]] {
        try graph.inputs.enumerated().map { i, info in
            if i == 0, let inputShape { return inputShape }
            guard info.shape.dropFirst().allSatisfy({ $0 != nil }) else {
                throw InferenceError("input '\(info.name)' has dynamic dimensions \(describe(info.shape)): give an input shape")
            }
            return info.shape.map { $0 ?? 1 }
        }
    }

    /// Packs every node's weights for `kernels` and drops from `g` the data of each
    /// constant that only packed nodes read as weights (inputs after the first of a
    /// node with prepared weights): the panels are then the one copy (the graph copy
    /// was a third of a model's memory). The plan reads such inputs from the
    /// prepared weights, never from the graph; `g.packedShapes` keeps their shapes.
    private static func pack(_ g: inout Graph, ops: [any Operator], kernels: KernelTable) throws -> [Int: PreparedWeights] {
        let uses = Optimizer.useCounts(g)
        var packedUses: [String: Int] = [:]
        var prepared: [Int: PreparedWeights] = [:]
        for (i, (n, op)) in zip(g.nodes, ops).enumerated() {
            guard let p = try op.prepare(constants: n.inputs.map { $0.isEmpty ? nil : g.constants[$0] }, kernels: kernels) else { continue }
            prepared[i] = p
            for v in n.inputs.dropFirst() where !v.isEmpty {
                packedUses[v, default: 0] += 1
                // Every use so far packed and none left: the data can go now.
                if packedUses[v] == uses[v], let t = g.constants.removeValue(forKey: v) { g.packedShapes[v] = t.shape }
            }
        }
        return prepared
    }

    public var inputs: [ValueInfo] { graph.inputs }
    /// The model file's metadata_props.
    public var metadata: [String: String] { graph.metadata }
    public var outputNames: [String] { graph.outputs }

    /// Number of weights (all constant tensors).
    public var parameterCount: Int { graph.parameterCount }

    /// Multiply-adds x 2 of the Conv/Gemm/MatMul ops for one input of batch 1 (of
    /// `inputShape` when given, needed for dynamic image sizes), in GFLOP.
    public func gflopsPerImage(inputShape: [Int]? = nil) throws -> Double {
        let shapes = try batchOneShapes(inputShape)
        return try plan(for: shapes, threads: threads).flops / 1e9
    }

    /// The shape of output `name` for one input of batch 1 (of `inputShape` when
    /// given, needed for dynamic image sizes).
    public func outputShape(_ name: String, inputShape: [Int]? = nil) throws -> [Int] {
        let p = try plan(for: try batchOneShapes(inputShape), threads: 1)
        guard let shape = p.outputShape(name) else { throw InferenceError("model has no output '\(name)'") }
        return shape
    }

    /// The steps a run at batch 1 executes, one line each ("Conv name [in] -> [out]",
    /// "Block expand > depthwise > project ...", layout conversions): shows what the
    /// plan fused.
    public func planSteps(inputShape: [Int]? = nil) throws -> [String] {
        try plan(for: try batchOneShapes(inputShape), threads: threads).stepNames
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
        // Concurrent runs each take what is spare; the second finds none and allocates.
        lock.lock()
        var spares = spareOutputs
        spareOutputs = [:]
        lock.unlock()
        let out = p.execute(inputs, reusing: &spares)
        lock.lock()
        for (name, t) in out { spareOutputs[name] = t.data }
        lock.unlock()
        return out
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
            var none: [String: [Float]] = [:]
            results[i] = plans[i].execute([Tensor(shape: shape, data: slice)], reusing: &none)
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
        if let p = plans[key] {
            if let i = planUse.firstIndex(of: key), i != planUse.count - 1 { planUse.append(planUse.remove(at: i)) }
            return p
        }
        let p: Plan
        do { p = try Plan(graph: graph, ops: ops, prepared: prepared, inputShapes: shapes, threads: threads, kernels: kernels, arenas: arenas) } catch let e as InferenceError {
            throw source.map { InferenceError("\($0): \(e.message)") } ?? e
        }
        plans[key] = p
        planUse.append(key)
        if planUse.count > Model.maxPlans { plans[planUse.removeFirst()] = nil }
        return p
    }
}
