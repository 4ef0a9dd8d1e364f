import Foundation

/// Batch-independent graph rewrites, run once at load on a graph `GraphCheck`
/// passed: Constant nodes to constants, constant folding (e.g. Reshape's shape
/// input), Identity removal, BatchNormalization folded into the preceding Conv,
/// then the pattern passes (each in its own file): constant Adds folded into the
/// bias before them, activations spelt in several ops made one, layer norms.
public enum Optimizer {
    /// VIDLABEL_FUSE=0 leaves the pattern passes out (for measuring them, and for
    /// checking that they change no result).
    static let fusePatterns = ProcessInfo.processInfo.environment["VIDLABEL_FUSE"] != "0"

    /// Consumes `input`: weights it replaces (a BatchNorm-folded conv's) are freed as
    /// they are replaced, not held until the caller's copy dies.
    public static func optimize(_ input: consuming Graph) throws -> Graph {
        var g = consume input
        // Constant folding, in topological order: a node whose inputs are all constants becomes one.
        var kept: [Node] = []
        for node in g.nodes {
            let op = try parseOperator(node, opset: g.opset)
            let real = node.inputs.filter { !$0.isEmpty }
            if let c = op as? ConstantOp {
                // A weight stored as a node (no size limit: it is the file's own data).
                g.constants[node.outputs[0]] = c.value
                continue
            }
            if !real.isEmpty && real.allSatisfy({ g.constants[$0] != nil }) {
                let values = try Folding.evaluate(op, node.inputs.map { $0.isEmpty ? nil : g.constants[$0] })
                for (name, v) in zip(node.outputs, values) { g.constants[name] = v }
                continue
            }
            kept.append(node)
        }
        g.nodes = kept
        removeIdentities(&g)
        try foldBatchNorm(&g)
        if fusePatterns {
            FoldBias.run(&g)
            FuseActivations.run(&g)
            FuseLayerNorm.run(&g)
        }
        removeUnusedConstants(&g)
        return g
    }

    /// Drops constants no node reads and no output names (the weights a fold replaced,
    /// initializers a model never uses): each would be held for the model's lifetime.
    static func removeUnusedConstants(_ g: inout Graph) {
        let uses = useCounts(g)
        for name in Array(g.constants.keys) where uses[name] == nil { g.constants.removeValue(forKey: name) }
    }

    /// Consumers of each value (node indices), plus a count for graph outputs.
    static func useCounts(_ g: Graph) -> [String: Int] {
        var uses: [String: Int] = [:]
        for n in g.nodes { for i in n.inputs where !i.isEmpty { uses[i, default: 0] += 1 } }
        for o in g.outputs { uses[o, default: 0] += 1 }
        return uses
    }

    static func removeIdentities(_ g: inout Graph) {
        var rename: [String: String] = [:]
        var kept: [Node] = []
        for var n in g.nodes {
            n.inputs = n.inputs.map { rename[$0] ?? $0 }
            // Keep an Identity that produces a graph output: the output name must exist.
            if n.opType == "Identity" && !g.outputs.contains(n.outputs[0]) {
                rename[n.outputs[0]] = n.inputs[0]
                continue
            }
            kept.append(n)
        }
        g.nodes = kept
    }

    /// Conv -> BatchNormalization (Conv output used only there) becomes one Conv
    /// with scaled weights and shifted bias: W' = W * s, b' = (b - mean) * s + beta,
    /// s = gamma / sqrt(var + eps). Only when every parameter has one value per
    /// filter; otherwise the two stay apart and the plan rejects the mismatch.
    static func foldBatchNorm(_ g: inout Graph) throws {
        let uses = useCounts(g)
        var producer: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() { for o in n.outputs { producer[o] = i } }
        var drop = Set<Int>()
        for (i, bn) in g.nodes.enumerated() where bn.opType == "BatchNormalization" {
            guard bn.inputs.count >= 5, let p = producer[bn.inputs[0]], g.nodes[p].opType == "Conv",
                  uses[bn.inputs[0]] == 1, g.nodes[p].inputs.count > 1,
                  let wShape = g.constants[g.nodes[p].inputs[1]]?.shape, wShape.count == 4, wShape[0] > 0,
                  let scale = g.constants[bn.inputs[1]], let shift = g.constants[bn.inputs[2]],
                  let mean = g.constants[bn.inputs[3]], let variance = g.constants[bn.inputs[4]] else { continue }
            var conv = g.nodes[p]
            let m = wShape[0]
            guard [scale, shift, mean, variance].allSatisfy({ $0.shape == [m] }) else { continue }
            let eps = try BatchNormalizationOp(node: bn, opset: g.opset).epsilon
            let oldBias = conv.inputs.count > 2 && !conv.inputs[2].isEmpty ? g.constants[conv.inputs[2]] : nil
            if conv.inputs.count > 2 && !conv.inputs[2].isEmpty && oldBias?.count != m { continue }
            // The only reader's weights are taken out and scaled in place (no second copy).
            var nw = uses[conv.inputs[1]] == 1 ? g.constants.removeValue(forKey: conv.inputs[1])! : g.constants[conv.inputs[1]]!
            let per = nw.count / m
            var bias = [Float](repeating: 0, count: m)
            for o in 0..<m {
                let s = scale.data[o] / (variance.data[o] + eps).squareRoot()
                for q in 0..<per { nw.data[o * per + q] *= s }
                bias[o] = ((oldBias?.data[o] ?? 0) - mean.data[o]) * s + shift.data[o]
            }
            let wName = conv.name + "/bn_folded_weight", bName = conv.name + "/bn_folded_bias"
            g.constants[wName] = nw
            g.constants[bName] = Tensor(shape: [m], data: bias)
            conv.inputs = [conv.inputs[0], wName, bName]
            conv.outputs = [bn.outputs[0]]
            g.nodes[p] = conv
            drop.insert(i)
        }
        g.nodes = g.nodes.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }
}
