import KernelSupport
import Foundation

/// Where a value lives while a plan runs.
enum Location {
    /// Offset (in floats) into the run's arena.
    case arena(Int)
    /// A constant owned by the plan.
    case constant(UnsafeMutablePointer<Float>)
}

/// An execution plan for fixed input shapes: shapes inferred, activations and
/// residual Adds fused into Conv/Gemm write-back, every intermediate placed in
/// one arena whose slots are reused once their value is dead.
final class Plan: @unchecked Sendable {
    typealias Step = (_ arena: UnsafeMutablePointer<Float>) -> Void

    private(set) var steps: [Step] = []
    /// "OpType node-name output-shape" per step, for profiling.
    private(set) var stepNames: [String] = []
    /// FLOPs of each step, for profiling.
    private var stepFlops: [Double] = []
    private let inputSlots: [(offset: Int, count: Int)]
    private let outputSlots: [(location: Location, shape: [Int], name: String)]
    let arenaSize: Int
    private(set) var flops: Double = 0
    private var constants: [UnsafeMutablePointer<Float>] = []
    /// Where runs take their arena (the model's, shared by its plans).
    private let arenas: FloatBufferPool

    deinit {
        for c in constants { c.deallocate() }
    }

    /// Builds the plan for `inputShapes`. `ops` are the graph's nodes, parsed and
    /// checked at load (one per node, same order).
    /// - Throws: `InferenceError` for shapes a node cannot take, or a plan over the size limits.
    init(graph g: Graph, ops: [any Operator], prepared: [Int: PreparedWeights], inputShapes: [[Int]], threads: Int,
         kernels: KernelTable, arenas: FloatBufferPool) throws {
        self.arenas = arenas
        var shapes: [String: [Int]] = [:]
        for (info, s) in zip(g.inputs, inputShapes) { shapes[info.name] = s }
        for (k, t) in g.constants { shapes[k] = t.shape }
        for (k, s) in g.packedShapes { shapes[k] = s }
        func constant(_ v: String) -> Tensor? { v.isEmpty ? nil : g.constants[v] }

        // --- Shapes of every value, node by node (each op checks what it is given).
        for (n, op) in zip(g.nodes, ops) {
            let inShapes = try n.inputs.map { v -> [Int]? in
                if v.isEmpty { return nil }
                guard let s = shapes[v] else { throw InferenceError("node '\(n.name)': input '\(v)' is not produced by any node") }
                return s
            }
            shapes[n.outputs[0]] = try op.outputShape(inShapes, constants: n.inputs.map(constant))
        }

        // Uses of each value and its producer, for fusion decisions.
        var uses: [String: Int] = [:]
        var producer: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            for v in n.inputs where !v.isEmpty { uses[v, default: 0] += 1 }
            for o in n.outputs { producer[o] = i }
        }
        for o in g.outputs { uses[o, default: 0] += 1 }

        // --- Fusion: Conv/Gemm (+ residual Add of the same shape) (+ Relu/Clip) become one node.
        struct Fused { var residual: String? = nil; var lo: Float = -.infinity; var hi: Float = .infinity; var output: String }
        var fused: [Int: Fused] = [:]
        var skip = Set<Int>()
        var consumer: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() { for v in n.inputs where !v.isEmpty { consumer[v] = i } }
        for (i, n) in g.nodes.enumerated() where n.opType == "Conv" || (prepared[i] != nil && n.opType != "Conv") {
            var f = Fused(output: n.outputs[0])
            if n.opType == "Conv", uses[f.output] == 1, let c = consumer[f.output], g.nodes[c].opType == "Add" {
                let add = g.nodes[c]
                let other = add.inputs[0] == f.output ? add.inputs[1] : add.inputs[0]
                // The residual must exist before the conv runs and have the conv's shape (no broadcast).
                let ready = !g.isConstant(other) && (producer[other].map { $0 < i } ?? true)
                if ready && add.inputs[0] != add.inputs[1] && shapes[other] == shapes[f.output] {
                    f.residual = other
                    f.output = add.outputs[0]
                    skip.insert(c)
                }
            }
            if uses[f.output] == 1, let c = consumer[f.output], ops[c] is ReluOp {
                f.lo = 0
                f.output = g.nodes[c].outputs[0]
                skip.insert(c)
            } else if uses[f.output] == 1, let c = consumer[f.output], let clip = ops[c] as? ClipOp,
                      let (lo, hi) = try? clip.bounds(g.nodes[c].inputs.map(constant)) {
                f.lo = lo; f.hi = hi
                f.output = g.nodes[c].outputs[0]
                skip.insert(c)
            }
            fused[i] = f
        }

        // --- Storage: aliases (Reshape/Flatten/Identity) share their input's storage.
        var storageOf: [String: Int] = [:]
        var storageSize: [Int] = []
        var lastUse: [Int] = []
        var defined: [Int] = []
        /// The value each storage was made for (aliases share it without being its owner).
        var storageOwner: [String] = []
        func newStorage(_ name: String, _ count: Int, at step: Int) {
            storageOf[name] = storageSize.count
            storageOwner.append(name)
            storageSize.append(count)
            lastUse.append(step)
            defined.append(step)
        }
        for (info, s) in zip(g.inputs, inputShapes) { newStorage(info.name, try elementCount(s, "input '\(info.name)'"), at: -1) }

        // Build step descriptions first (shapes), then assign offsets, then closures.
        // Conv and pooling work on channels-last (NHWC) activations; values carry their
        // layout and a conversion step is added where a consumer wants the other one
        // (typically once at the model input and never again: the pooled [N, C, 1, 1]
        // output is the same memory in both layouts).
        struct Pending {
            let node: Int
            let inputs: [String]
            let output: String
            let shape: [Int]
            let alias: Bool
            /// A layout conversion step (node is -1): true = to NHWC.
            var convertToNHWC: Bool? = nil
        }
        var pending: [Pending] = []
        var channelsLast = Set<String>()
        var converted = Set<String>()
        /// The name of `v` in the wanted layout, adding a conversion step if needed.
        func inLayout(_ v: String, nhwc: Bool) -> String {
            if channelsLast.contains(v) == nhwc { return v }
            let key = v + (nhwc ? "#nhwc" : "#nchw")
            if converted.contains(key) { return key }
            let shape = shapes[v]!
            shapes[key] = shape
            if nhwc { channelsLast.insert(key) }
            converted.insert(key)
            let step = pending.count
            if let s = storageOf[v] { lastUse[s] = max(lastUse[s], step) }
            // One channel or one pixel: both layouts are the same memory.
            if shape.count < 3 || shape[1] == 1 || shape.dropFirst(2).reduce(1, *) == 1, let s = storageOf[v] {
                storageOf[key] = s
                return key
            }
            newStorage(key, shape.reduce(1, *), at: step)
            pending.append(Pending(node: -1, inputs: [v], output: key, shape: shape, alias: false, convertToNHWC: nhwc))
            return key
        }
        for (i, n) in g.nodes.enumerated() where !skip.contains(i) {
            let op = ops[i]
            var output = n.outputs[0]
            var inputs = n.inputs
            if let f = fused[i] {
                output = f.output
                if let r = f.residual { inputs.append(r) }
            }
            let shape = shapes[output]!
            // Layouts: which inputs each op reads channels-last, and what it writes.
            let firstNHWC = channelsLast.contains(inputs[0])
            var wantNHWC = [Bool](repeating: false, count: inputs.count)
            var outNHWC = false
            var layoutAlias = false
            switch type(of: op).layout {
            case .channelsLast:
                wantNHWC[0] = true
                if fused[i]?.residual != nil { wantNHWC[inputs.count - 1] = true }
                outNHWC = true
            case .reducesToChannels:
                wantNHWC[0] = true
            case .followsInput:
                wantNHWC[0] = firstNHWC
                outNHWC = firstNHWC
            case .followsSameShapeInputs:
                // Same shapes and layouts: element by element in whatever layout they are.
                if shapes[inputs[0]] == shapes[inputs[1]] && firstNHWC && channelsLast.contains(inputs[1]) {
                    wantNHWC = [true, true]
                    outNHWC = true
                }
            case .onnx:
                // NHWC -> NCHW transposes (e.g. a TensorFlow model's input) cost nothing:
                // the result is the same memory read channels-last.
                if let t = op as? TransposeOp, t.isNHWCToNCHW, !firstNHWC, !g.isConstant(inputs[0]) {
                    layoutAlias = true
                    outNHWC = true
                }
            }
            for j in inputs.indices where !inputs[j].isEmpty && !g.isConstant(inputs[j]) {
                inputs[j] = inLayout(inputs[j], nhwc: wantNHWC[j])
            }
            if outNHWC { channelsLast.insert(output) }
            // An element-by-element op whose input dies here (its only reader, made by a
            // node into storage of its own) writes over it: P-Net's Conv -> PRelu then needs
            // one activation buffer, not two. The kernels allow x and y to alias.
            let inPlace = type(of: op).layout == .followsInput && inputs[0] == n.inputs[0] && uses[inputs[0]] == 1
                && !g.inputs.contains { $0.name == inputs[0] } && storageOf[inputs[0]].map { storageOwner[$0] == inputs[0] } == true
            let alias = layoutAlias || inPlace || (op is any AliasOperator && !g.isConstant(n.inputs[0]))
            let step = pending.count
            for v in inputs where !v.isEmpty { if let s = storageOf[v] { lastUse[s] = max(lastUse[s], step) } }
            if alias, let s = storageOf[inputs[0]] { storageOf[output] = s } else { newStorage(output, shape.reduce(1, *), at: step) }
            pending.append(Pending(node: i, inputs: inputs, output: output, shape: shape, alias: layoutAlias))
        }
        // Graph outputs leave in the layout ONNX promises.
        var outputNames: [String: String] = [:]
        for o in g.outputs {
            guard shapes[o] != nil else { throw InferenceError("graph output '\(o)' is never produced") }
            outputNames[o] = inLayout(o, nhwc: false)
            if let s = storageOf[outputNames[o]!] { lastUse[s] = Int.max }
        }

        // --- Arena: best fit in a list of (offset, size) slots freed as values die.
        var offsets = [Int](repeating: 0, count: storageSize.count)
        var free: [(offset: Int, size: Int)] = []
        var top = 0
        let order = storageSize.indices.sorted { (defined[$0], $0) < (defined[$1], $1) }
        var live: [Int] = []
        for s in order {
            // Release storages whose last use is before this one's definition.
            live.removeAll { other in
                if lastUse[other] < defined[s] { free.append((offsets[other], Plan.rounded(storageSize[other]))); return true }
                return false
            }
            let need = Plan.rounded(storageSize[s])
            if let k = free.indices.filter({ free[$0].size >= need }).min(by: { free[$0].size < free[$1].size }) {
                offsets[s] = free[k].offset
                if free[k].size > need { free[k] = (free[k].offset + need, free[k].size - need) } else { free.remove(at: k) }
            } else {
                offsets[s] = top
                top += need
                guard top <= Limits.maxArenaFloats else {
                    throw InferenceError("the plan for input \(inputShapes) needs more than \(Limits.maxArenaFloats * 4 >> 20) MiB of activations")
                }
            }
            live.append(s)
        }
        arenaSize = max(top, 1)

        var constantPointers: [String: UnsafeMutablePointer<Float>] = [:]
        var owned: [UnsafeMutablePointer<Float>] = []
        func location(_ v: String) -> Location {
            if let s = storageOf[v] { return .arena(offsets[s]) }
            if let p = constantPointers[v] { return .constant(p) }
            let t = g.constants[v]!
            let p = allocateFloats(max(t.count, 1))
            p.initialize(from: t.data, count: t.count)
            constantPointers[v] = p
            owned.append(p)
            return .constant(p)
        }
        inputSlots = zip(g.inputs, inputShapes).map { (offsets[storageOf[$0.name]!], $1.reduce(1, *)) }
        var flopCount = 0.0
        var built: [Step] = []
        // Inverted residual blocks: pending steps i, i+1, i+2 = 1x1 expand -> depthwise ->
        // 1x1 project (+ residual), each intermediate read only by the next.
        func blockAt(_ i: Int) -> InvertedResidualNodes? {
            guard Plan.fuseBlocks, i + 2 < pending.count else { return nil }
            let ps = pending[i...(i + 2)]
            guard ps.allSatisfy({ $0.node >= 0 && !$0.alias && g.nodes[$0.node].opType == "Conv" }),
                  ps[i + 1].inputs[0] == ps[i].output, ps[i + 2].inputs[0] == ps[i + 1].output,
                  uses[ps[i].output] == 1, uses[ps[i + 1].output] == 1,
                  fused[ps[i].node]?.residual == nil, fused[ps[i + 1].node]?.residual == nil else { return nil }
            return InvertedResidualNodes(convs: ps.map { ops[$0.node] as! ConvOp }, prepared: ps.map { prepared[$0.node] },
                                         shapes: ps.map { shapes[$0.inputs[0]]! } + [ps[i + 2].shape],
                                         fused: ps.map { p in fused[p.node].map { ($0.lo, $0.hi) } ?? (-.infinity, .infinity) })
        }
        var index = 0
        while index < pending.count {
            let p = pending[index]
            index += 1
            if let nodes = blockAt(index - 1), let block = try nodes.build() {
                let project = pending[index + 1]
                let x = location(p.inputs[0]), y = location(project.output)
                let residual = fused[project.node]?.residual != nil ? location(project.inputs.last!) : nil
                built.append { arena in
                    var b = block.block
                    b.projectEpilogue.residual = residual.map { UnsafePointer($0.pointer(arena)) }
                    kernels.invertedResidual(x.pointer(arena), b, y.pointer(arena), threads)
                }
                stepNames.append("Block \(nodes.convs.map(\.attrs.node.name).joined(separator: " > ")) \(nodes.shapes[0]) -> \(project.shape)")
                stepFlops.append(block.flops)
                flopCount += block.flops
                index += 2
                continue
            }
            if let toNHWC = p.convertToNHWC {
                let src = location(p.inputs[0]), dst = location(p.output), sh = p.shape
                let (batch, c, pixels) = (sh[0], sh[1], sh.dropFirst(2).reduce(1, *))
                built.append { arena in
                    kernels.convertLayout(src.pointer(arena), batch, c, pixels, toNHWC, dst.pointer(arena))
                }
                stepNames.append("Layout \(p.inputs[0]) \(sh) -> \(toNHWC ? "NHWC" : "NCHW")")
                stepFlops.append(0)
                continue
            }
            if p.alias { continue }
            let n = g.nodes[p.node]
            // Weights a prepared node packed at load are not copied into the plan.
            let ins = p.inputs.enumerated().map { j, v -> Location? in
                v.isEmpty || (prepared[p.node] != nil && j > 0 && g.isConstant(v)) ? nil : location(v)
            }
            let inShapes = p.inputs.map { $0.isEmpty ? [] : shapes[$0]! }
            let f = fused[p.node] ?? Fused(output: p.output)
            let lowering = Lowering(node: n, inputs: ins, inputShapes: inShapes, constants: p.inputs.map(constant),
                                    output: location(p.output), outputShape: p.shape, prepared: prepared[p.node],
                                    fused: (f.residual != nil, f.lo, f.hi), opset: g.opset,
                                    channelsLast: channelsLast.contains(p.inputs[0]), threads: threads, kernels: kernels)
            let (step, flops) = try ops[p.node].lower(lowering)
            flopCount += flops
            if let step {
                built.append(step)
                stepNames.append("\(n.opType) \(n.name) \(inShapes.first ?? []) -> \(p.shape)")
                stepFlops.append(flops)
            }
        }
        steps = built
        flops = flopCount / Double(max(inputShapes.first?.first ?? 1, 1))
        outputSlots = g.outputs.map { (location(outputNames[$0]!), shapes[$0]!, $0) }
        constants = owned
    }

    /// The shape output `name` has in this plan.
    func outputShape(_ name: String) -> [Int]? { outputSlots.first { $0.name == name }?.shape }

    /// True when every output's first dimension is the batch size `batch`, so
    /// outputs of sub-batches can be concatenated.
    func outputsFollowBatch(_ batch: Int) -> Bool {
        outputSlots.allSatisfy { $0.shape.first == batch }
    }

    /// VIDLABEL_BLOCKS=0 runs inverted residual blocks as three ops (for measuring the fusion).
    static let fuseBlocks = ProcessInfo.processInfo.environment["VIDLABEL_BLOCKS"] != "0"

    /// VIDLABEL_PROFILE=1 prints each step's time to stderr.
    static let profiling = ProcessInfo.processInfo.environment["VIDLABEL_PROFILE"] == "1"

    /// Slots are rounded to 16 floats so every buffer starts 64-byte aligned.
    static func rounded(_ n: Int) -> Int { (max(n, 1) + 15) & ~15 }

    func execute(_ inputs: [Tensor]) -> [String: Tensor] {
        let buffer = arenas.take(arenaSize)
        defer { arenas.put(buffer) }
        let arena = buffer.pointer
        for (slot, t) in zip(inputSlots, inputs) {
            t.data.withUnsafeBufferPointer { (arena + slot.offset).update(from: $0.baseAddress!, count: slot.count) }
        }
        if Plan.profiling {
            FileHandle.standardError.write(Data(String(format: "arena %.1f MB\n", Double(arenaSize * 4) / 1e6).utf8))
            for ((step, name), flops) in zip(zip(steps, stepNames), stepFlops) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                step(arena)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                FileHandle.standardError.write(Data(String(format: "%8.3f ms %6.1f GFLOP/s  %@\n", ms, flops / ms / 1e6, name).utf8))
            }
        } else {
            for step in steps { step(arena) }
        }
        var out: [String: Tensor] = [:]
        for (loc, shape, name) in outputSlots {
            let count = shape.reduce(1, *)
            let src: UnsafePointer<Float>
            switch loc {
            case .arena(let o): src = UnsafePointer(arena + o)
            case .constant(let p): src = UnsafePointer(p)
            }
            out[name] = Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: src, count: count)))
        }
        return out
    }
}
