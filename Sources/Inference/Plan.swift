import KernelSupport
import Foundation

/// Where a value lives while a plan runs.
enum Location {
    /// Offset (in floats) into the run's arena.
    case arena(Int)
    /// A constant owned by the plan.
    case constant(UnsafeMutablePointer<Float>)
}

/// An execution plan for fixed input shapes: shapes inferred and shape arithmetic
/// folded (`PlanValues`), activations and residual Adds fused into Conv/Gemm
/// write-back (`EpilogueFusion`), activations kept channels-last between the ops
/// that can read them so, and every intermediate placed in one arena whose slots
/// are reused once their value is dead (`ArenaLayout`).
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

    /// One step to place and build: a node (possibly with ops fused into it) or a
    /// layout conversion.
    private struct Pending {
        /// Graph node index; -1 for a layout conversion.
        let node: Int
        let inputs: [String]
        let outputs: [String]
        let shapes: [[Int]]
        /// Layout the node reads each input in (channels-last or not).
        let inputChannelsLast: [Bool]
        let outputChannelsLast: Bool
        /// Its output is its input read in the other layout (no step runs).
        let alias: Bool
        /// A layout conversion step: true = to NHWC.
        var convertToNHWC: Bool? = nil
    }

    /// Builds the plan for `inputShapes`. `ops` are the graph's nodes, parsed and
    /// checked at load (one per node, same order).
    /// - Throws: `InferenceError` for shapes a node cannot take, or a plan over the size limits.
    init(graph g: Graph, ops: [any Operator], prepared: [Int: PreparedWeights], inputShapes: [[Int]], threads: Int,
         kernels: KernelTable, arenas: FloatBufferPool) throws {
        self.arenas = arenas
        let values = try PlanValues(graph: g, ops: ops, prepared: prepared, inputShapes: inputShapes)
        var shapes = values.shapes
        func constant(_ v: String) -> Tensor? { v.isEmpty ? nil : values.constants[v] }
        func isConstant(_ v: String) -> Bool { values.isConstant(v, g) }

        // Uses of each value (by running nodes and the graph's outputs).
        var uses: [String: Int] = [:]
        for i in values.running { for v in g.nodes[i].inputs where !v.isEmpty { uses[v, default: 0] += 1 } }
        for o in g.outputs { uses[o, default: 0] += 1 }

        let fusion = EpilogueFusion(graph: g, ops: ops, prepared: prepared, running: values.running, uses: uses,
                                    shapes: shapes, constant: constant, isConstant: isConstant)

        // --- Storage: aliases (Reshape/Flatten/Identity) share their input's storage.
        var arena = ArenaLayout()
        for (info, s) in zip(g.inputs, inputShapes) { arena.define(info.name, try elementCount(s, "input '\(info.name)'"), at: -1) }

        // Steps are described first (shapes, layouts), then placed, then built.
        // Conv and pooling work on channels-last (NHWC) activations; values carry their
        // layout and a conversion step is added where a consumer wants the other one
        // (typically once at the model input and never again: the pooled [N, C, 1, 1]
        // output is the same memory in both layouts).
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
            arena.use(v, at: step)
            // One channel or one pixel: both layouts are the same memory.
            if shape.count < 3 || shape[1] == 1 || shape.dropFirst(2).reduce(1, *) == 1, arena.has(v) {
                arena.share(key, with: v)
                return key
            }
            arena.define(key, shape.reduce(1, *), at: step)
            pending.append(Pending(node: -1, inputs: [v], outputs: [key], shapes: [shape], inputChannelsLast: [!nhwc],
                                   outputChannelsLast: nhwc, alias: false, convertToNHWC: nhwc))
            return key
        }
        for i in values.running where !fusion.skip.contains(i) {
            let n = g.nodes[i], op = ops[i]
            var outputs = n.outputs
            var inputs = n.inputs
            if let f = fusion.fused[i] {
                outputs = [f.output]
                if let r = f.residual { inputs.append(r) }
            }
            // Layouts: which inputs the op reads channels-last, and what it writes.
            let query = LayoutQuery(shapes: inputs.map { $0.isEmpty ? [] : shapes[$0]! },
                                    channelsLast: inputs.map { channelsLast.contains($0) },
                                    isConstant: inputs.map { !$0.isEmpty && isConstant($0) })
            var choice = op.layoutChoice(query)
            if fusion.fused[i]?.residual != nil, choice.output { choice.inputs[inputs.count - 1] = true }
            var layoutAlias = false
            // NHWC -> NCHW transposes (e.g. a TensorFlow model's input) cost nothing:
            // the result is the same memory read channels-last.
            if let t = op as? TransposeOp, t.isNHWCToNCHW, !query.channelsLast[0], !isConstant(inputs[0]) {
                layoutAlias = true
                choice.output = true
            }
            for j in inputs.indices where !inputs[j].isEmpty && !isConstant(inputs[j]) {
                if let want = choice.inputs[j] { inputs[j] = inLayout(inputs[j], nhwc: want) }
            }
            let readNHWC = inputs.map { channelsLast.contains($0) }
            if choice.output { for o in outputs { channelsLast.insert(o) } }
            // An element-by-element op whose input dies here (its only reader, made by a
            // node into storage of its own) writes over it: P-Net's Conv -> PRelu then needs
            // one activation buffer, not two. The kernels allow x and y to alias.
            let inPlace = type(of: op).layout == .followsInput && inputs[0] == n.inputs[0] && uses[inputs[0]] == 1
                && !g.inputs.contains { $0.name == inputs[0] } && arena.owns(inputs[0])
            let alias = layoutAlias || inPlace || (op is any AliasOperator && !isConstant(n.inputs[0]))
            let step = pending.count
            for v in inputs where !v.isEmpty { arena.use(v, at: step) }
            for (k, o) in outputs.enumerated() {
                if k == 0 && alias && arena.has(inputs[0]) { arena.share(o, with: inputs[0]) } else { arena.define(o, shapes[o]!.reduce(1, *), at: step) }
            }
            pending.append(Pending(node: i, inputs: inputs, outputs: outputs, shapes: outputs.map { shapes[$0]! },
                                   inputChannelsLast: readNHWC, outputChannelsLast: choice.output, alias: layoutAlias))
        }
        // Graph outputs leave in the layout ONNX promises.
        var outputNames: [String: String] = [:]
        for o in g.outputs {
            guard shapes[o] != nil else { throw InferenceError("graph output '\(o)' is never produced") }
            outputNames[o] = inLayout(o, nhwc: false)
            arena.use(outputNames[o]!, at: Int.max)
        }
        // Inverted residual blocks: pending steps i, i+1, i+2 = 1x1 expand -> depthwise ->
        // 1x1 project (+ residual), each intermediate read only by the next.
        func blockAt(_ i: Int) -> InvertedResidualNodes? {
            guard Plan.fuseBlocks, i + 2 < pending.count else { return nil }
            let ps = pending[i...(i + 2)]
            guard ps.allSatisfy({ $0.node >= 0 && !$0.alias && g.nodes[$0.node].opType == "Conv" }),
                  ps[i + 1].inputs[0] == ps[i].outputs[0], ps[i + 2].inputs[0] == ps[i + 1].outputs[0],
                  uses[ps[i].outputs[0]] == 1, uses[ps[i + 1].outputs[0]] == 1,
                  ps.allSatisfy({ (fusion.fused[$0.node]?.epilogue.activation.kind ?? Activation.Kind.none) == .none }),
                  fusion.fused[ps[i].node]?.residual == nil, fusion.fused[ps[i + 1].node]?.residual == nil else { return nil }
            return InvertedResidualNodes(convs: ps.map { ops[$0.node] as! ConvOp }, prepared: ps.map { prepared[$0.node] },
                                         shapes: ps.map { shapes[$0.inputs[0]]! } + [ps[i + 2].shapes[0]],
                                         fused: ps.map { p in fusion.fused[p.node].map { ($0.epilogue.lo, $0.epilogue.hi) } ?? (-.infinity, .infinity) })
        }
        // A fused block reads its input while it writes its output (and not at the two
        // steps between), so the input lives until the project step: placed by the
        // steps alone, the output could take the input's slot once it was free.
        let blockNodes = pending.indices.map(blockAt)
        for i in pending.indices where blockNodes[i] != nil { arena.use(pending[i].inputs[0], at: i + 2) }
        arenaSize = try arena.place(inputShapes: inputShapes)

        var constantPointers: [String: UnsafeMutablePointer<Float>] = [:]
        var owned: [UnsafeMutablePointer<Float>] = []
        func location(_ v: String) -> Location {
            if let o = arena.offset(v) { return .arena(o) }
            if let p = constantPointers[v] { return .constant(p) }
            let t = values.constants[v]!
            let p = allocateFloats(max(t.count, 1))
            p.initialize(from: t.data, count: t.count)
            constantPointers[v] = p
            owned.append(p)
            return .constant(p)
        }
        inputSlots = zip(g.inputs, inputShapes).map { (arena.offset($0.name)!, $1.reduce(1, *)) }
        var flopCount = 0.0
        var built: [Step] = []
        var index = 0
        while index < pending.count {
            let p = pending[index]
            index += 1
            if let nodes = blockNodes[index - 1], let block = try nodes.build() {
                let project = pending[index + 1]
                let x = location(p.inputs[0]), y = location(project.outputs[0])
                let residual = fusion.fused[project.node]?.residual != nil ? location(project.inputs.last!) : nil
                built.append { arena in
                    var b = block.block
                    b.projectEpilogue.residual = residual.map { UnsafePointer($0.pointer(arena)) }
                    kernels.invertedResidual(x.pointer(arena), b, y.pointer(arena), threads)
                }
                stepNames.append("Block \(nodes.convs.map(\.attrs.node.name).joined(separator: " > ")) \(nodes.shapes[0]) -> \(project.shapes[0])")
                stepFlops.append(block.flops)
                flopCount += block.flops
                index += 2
                continue
            }
            if let toNHWC = p.convertToNHWC {
                let src = location(p.inputs[0]), dst = location(p.outputs[0]), sh = p.shapes[0]
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
                v.isEmpty || (prepared[p.node] != nil && j > 0 && isConstant(v)) ? nil : location(v)
            }
            let inShapes = p.inputs.map { $0.isEmpty ? [] : shapes[$0]! }
            let lowering = Lowering(node: n, inputs: ins, inputShapes: inShapes, constants: p.inputs.map(constant),
                                    outputs: p.outputs.map(location), outputShapes: p.shapes, prepared: prepared[p.node],
                                    fused: fusion.fused[p.node]?.lowered ?? .none, opset: g.opset,
                                    inputChannelsLast: p.inputChannelsLast, outputChannelsLast: p.outputChannelsLast,
                                    threads: threads, kernels: kernels)
            let (step, flops) = try ops[p.node].lower(lowering)
            flopCount += flops
            if let step {
                built.append(step)
                stepNames.append("\(n.opType) \(n.name) \(inShapes.first ?? []) -> \(p.shapes[0])")
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

    /// Runs the steps on `inputs` and returns the outputs by name. An output is
    /// written into `spares[name]` (taken out of the dictionary) when that array's
    /// storage is no longer shared and large enough; otherwise into a new array.
    func execute(_ inputs: [Tensor], reusing spares: inout [String: [Float]]) -> [String: Tensor] {
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
            // removeAll keeps the storage when this is its only reference, and
            // starts a new one (no copy) when the caller still holds the last output.
            var data = spares.removeValue(forKey: name) ?? []
            data.removeAll(keepingCapacity: true)
            data.append(contentsOf: UnsafeBufferPointer(start: src, count: count))
            out[name] = Tensor(shape: shape, data: data)
        }
        return out
    }
}
