/// Structural checks of an imported graph, before any pass touches it: every
/// node is an op we run and passes its op's own checks, every value a node reads
/// exists by the time it runs (ONNX requires topological order), no value is
/// defined twice, and the graph has inputs and outputs that exist.
enum GraphCheck {
    /// Most nodes a graph may have (the biggest vision models have a few thousand).
    static let maxNodes = 200_000

    /// - Throws: `InferenceError` naming the node and what is wrong.
    static func check(_ g: Graph) throws {
        guard g.nodes.count <= maxNodes else { throw InferenceError("graph has \(g.nodes.count) nodes (at most \(maxNodes))") }
        guard !g.outputs.isEmpty else { throw InferenceError("graph has no outputs") }
        var defined = Set(g.constants.keys)
        for input in g.inputs {
            guard !input.name.isEmpty, defined.insert(input.name).inserted else {
                throw InferenceError("graph input '\(input.name)' is empty or defined twice")
            }
            guard (1...Limits.maxRank).contains(input.shape.count) else {
                throw InferenceError("graph input '\(input.name)' has rank \(input.shape.count) (1 to \(Limits.maxRank) supported)")
            }
            if let bad = input.shape.compactMap({ $0 }).first(where: { $0 < 1 || $0 > Limits.maxElements }) {
                throw InferenceError("graph input '\(input.name)' has dimension \(bad)")
            }
        }
        for n in g.nodes {
            _ = try parseOperator(n, opset: g.opset)
            for v in n.inputs where !v.isEmpty && !defined.contains(v) {
                throw InferenceError("node '\(n.name)' (\(n.opType)): input '\(v)' is not a graph input, a weight or the output of an earlier node")
            }
            for o in n.outputs where !o.isEmpty {
                guard defined.insert(o).inserted else { throw InferenceError("node '\(n.name)' (\(n.opType)): value '\(o)' is defined twice") }
            }
        }
        for o in g.outputs where !defined.contains(o) {
            throw InferenceError("graph output '\(o)' is never produced")
        }
    }
}
