/// Every value of a graph for one set of input shapes: its shape and element type,
/// and the value itself wherever it does not depend on the inputs' data.
///
/// Exported graphs compute reshape targets, anchor grids and slice bounds from
/// `Shape` at run time (YOLOv8's head, PaddleOCR's attention blocks). For a known
/// input shape all of that is constant: a plan folds it here, once, with the ops'
/// scalar references, and runs only what depends on the pixels. Integer and bool
/// values must fold: a graph that computes integers from the input's data at run
/// time is refused (no kernel reads integers).
struct PlanValues {
    var shapes: [String: [Int]] = [:]
    var types: [String: ElementType] = [:]
    /// The graph's constants and the values folded for these shapes.
    var constants: [String: Tensor]
    /// Indices of the nodes left to run, in graph order.
    var running: [Int] = []

    /// - Throws: `InferenceError` for shapes or types a node cannot take, an integer
    ///   value that depends on the input's data, or a fold over the size limits.
    init(graph g: Graph, ops: [any Operator], prepared: [Int: PreparedWeights], inputShapes: [[Int]]) throws {
        constants = g.constants
        for (info, s) in zip(g.inputs, inputShapes) { shapes[info.name] = s; types[info.name] = .float32 }
        for (k, t) in g.constants { shapes[k] = t.shape; types[k] = t.elementType }
        // Packed weights (the data lives in the prepared panels) are float32.
        for (k, s) in g.packedShapes { shapes[k] = s; types[k] = .float32 }

        for (i, (n, op)) in zip(g.nodes, ops).enumerated() {
            let inShapes = try n.inputs.map { v -> [Int]? in
                if v.isEmpty { return nil }
                guard let s = shapes[v] else { throw InferenceError("node '\(n.name)': input '\(v)' is not produced by any node") }
                return s
            }
            let inTypes = n.inputs.map { $0.isEmpty ? nil : types[$0] }
            let outTypes = try op.outputTypes(inTypes)
            guard outTypes.count == n.outputs.count else {
                throw op.attrs.fail("has \(n.outputs.count) outputs, the op gives \(outTypes.count)")
            }
            let args = n.inputs.map { $0.isEmpty ? nil : constants[$0] }
            let present = n.inputs.indices.filter { !n.inputs[$0].isEmpty }
            var values: [Tensor]? = try op.valuesFromShapes(inShapes)
            // Everything it reads is known (and its weights were not packed away): fold it.
            if values == nil, prepared[i] == nil, !present.isEmpty, present.allSatisfy({ args[$0] != nil }) {
                values = try Folding.evaluate(op, args)
            }
            if let values {
                for (name, v) in zip(n.outputs, values) {
                    constants[name] = v
                    shapes[name] = v.shape
                    types[name] = v.elementType
                }
                continue
            }
            if let bad = outTypes.firstIndex(where: { $0 != .float32 }) {
                throw op.attrs.fail("its \(outTypes[bad].rawValue) output depends on the input's values, not only on its shape, which the engine does not run")
            }
            let outShapes = try op.outputShapes(inShapes, constants: args)
            guard outShapes.count == n.outputs.count else { throw op.attrs.fail("internal error: \(outShapes.count) output shapes") }
            for (name, s) in zip(n.outputs, outShapes) {
                _ = try elementCount(s, "node '\(n.name)' output")
                shapes[name] = s
                types[name] = .float32
            }
            running.append(i)
        }
        for o in g.outputs {
            guard let t = types[o] else { throw InferenceError("graph output '\(o)' is never produced") }
            guard t == .float32 else { throw InferenceError("graph output '\(o)' is \(t.rawValue); only float32 outputs are supported") }
        }
    }

    func isConstant(_ v: String, _ g: Graph) -> Bool { constants[v] != nil || g.packedShapes[v] != nil }
}

/// Runs a node's scalar reference on constant inputs, within the size limits a fold
/// may have (real models fold shape arithmetic and small parameter tensors, never
/// big convolutions), at load (`Optimizer`) and per plan (`PlanValues`).
enum Folding {
    /// Largest output (elements) and work (elements x largest input) of a fold.
    static let maxElements = 1 << 22
    static let maxWork = 1 << 28

    /// - Throws: the node's own errors (types, shapes), or a fold over the limits.
    static func evaluate(_ op: any Operator, _ args: [Tensor?]) throws -> [Tensor] {
        _ = try op.outputTypes(args.map { $0?.elementType })
        let shapes = try op.outputShapes(args.map { $0?.shape }, constants: args)
        let largestInput = max(1, args.compactMap { $0?.count }.max() ?? 1)
        for shape in shapes {
            let elements = try elementCount(shape, "node '\(op.attrs.node.name)' output")
            let (work, overflow) = elements.multipliedReportingOverflow(by: largestInput)
            guard elements <= maxElements, !overflow, work <= maxWork else {
                throw op.attrs.fail("computes only on constants and is too large to fold (output \(shape))")
            }
        }
        let values = try op.references(args)
        guard values.count == shapes.count, zip(values, shapes).allSatisfy({ $0.shape == $1 }) else {
            throw op.attrs.fail("internal error: its reference disagrees with its shapes")
        }
        return values
    }
}
