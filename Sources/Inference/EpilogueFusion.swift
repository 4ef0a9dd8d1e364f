import KernelSupport

/// An element-wise op a Conv or dense layer can apply as it stores its output:
/// a clamp (Relu, Clip), then one activation.
protocol ActivationOperator: Operator {
    /// The clamp bounds and activation it computes (constant inputs given), or nil
    /// when it cannot be fused (a Clip bound that is not constant).
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)?
}

/// What a node's write-back does besides storing, as the plan gives it to the op.
struct FusedEpilogue {
    /// A residual input (the last of the lowering's inputs) is added.
    var residual = false
    var lo: Float = -.infinity
    var hi: Float = .infinity
    var activation = Activation.none
    var residualAfter = false

    static let none = FusedEpilogue()

    /// The kernel epilogue with this clamp and activation (bias and residual pointers set by the op).
    func kernelEpilogue(bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?) -> Epilogue {
        Epilogue(bias: bias, residual: residual, lo: lo, hi: hi, activation: activation, residualAfter: residualAfter)
    }
}

/// Conv and dense nodes with what follows them folded into their write-back:
/// Conv (+ residual Add of the same shape) (+ Relu/Clip) (+ one activation)
/// (+ residual Add after it). Each op folded in must be the only reader of the
/// value before it, and a residual must be computed before the Conv runs.
struct EpilogueFusion {
    struct Fused {
        var residual: String? = nil
        var epilogue = FusedEpilogue()
        /// The value the fused node writes (the last op folded in).
        var output: String
        var lowered: FusedEpilogue {
            var e = epilogue
            e.residual = residual != nil
            return e
        }
    }

    private(set) var fused: [Int: Fused] = [:]
    /// Nodes folded into another.
    private(set) var skip = Set<Int>()

    init(graph g: Graph, ops: [any Operator], prepared: [Int: PreparedWeights], running: [Int], uses: [String: Int],
         shapes: [String: [Int]], constant: (String) -> Tensor?, isConstant: (String) -> Bool) {
        var producer: [String: Int] = [:]
        var consumer: [String: Int] = [:]
        for i in running {
            for v in g.nodes[i].inputs where !v.isEmpty { consumer[v] = i }
            for o in g.nodes[i].outputs { producer[o] = i }
        }
        /// The one node that reads `v` (nil when several do, or a graph output does).
        func onlyReader(_ v: String) -> Int? { uses[v] == 1 ? consumer[v] : nil }
        /// The other operand of Add node `c` when it can be a residual of node `i`'s output `v`.
        func residual(of v: String, add c: Int, before i: Int) -> String? {
            let add = g.nodes[c]
            guard g.nodes[c].opType == "Add", add.inputs.count == 2, add.inputs[0] != add.inputs[1] else { return nil }
            let other = add.inputs[0] == v ? add.inputs[1] : add.inputs[0]
            // It must exist before the node runs and have its shape (no broadcast).
            let ready = !isConstant(other) && (producer[other].map { $0 < i } ?? true)
            return ready && shapes[other] == shapes[v] ? other : nil
        }
        for i in running where g.nodes[i].opType == "Conv" || prepared[i] != nil {
            let n = g.nodes[i]
            let isConv = n.opType == "Conv"
            var f = Fused(output: n.outputs[0])
            if isConv, let c = onlyReader(f.output), let r = residual(of: f.output, add: c, before: i) {
                f.residual = r
                f.output = g.nodes[c].outputs[0]
                skip.insert(c)
            }
            // A clamp, then an activation.
            var clamped = false
            while let c = onlyReader(f.output), let act = ops[c] as? any ActivationOperator,
                  let (lo, hi, a) = act.epilogue(g.nodes[c].inputs.map(constant)) {
                if a.kind == .none {
                    guard !clamped, f.epilogue.activation.kind == .none else { break }
                    clamped = true
                    f.epilogue.lo = lo
                    f.epilogue.hi = hi
                } else {
                    guard f.epilogue.activation.kind == .none, lo == -.infinity, hi == .infinity else { break }
                    f.epilogue.activation = a
                }
                f.output = g.nodes[c].outputs[0]
                skip.insert(c)
            }
            if isConv, f.residual == nil, f.epilogue.activation.kind != .none || clamped,
               let c = onlyReader(f.output), let r = residual(of: f.output, add: c, before: i) {
                f.residual = r
                f.epilogue.residualAfter = true
                f.output = g.nodes[c].outputs[0]
                skip.insert(c)
            }
            fused[i] = f
        }
    }
}
