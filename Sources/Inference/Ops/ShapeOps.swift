import KernelSupport

/// Reshape, Flatten and Identity change only how a tensor is indexed: in a plan the
/// output shares its input's storage (no step runs), unless the input is a constant.
protocol AliasOperator: Operator {}

extension AliasOperator {
    /// Any element type: only the indexing changes.
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] { [types.first.flatMap { $0 } ?? .float32] }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let x = try l.input(0), y = l.output, count = l.outputShape.reduce(1, *)
        if case .constant = x { return ({ arena in y.pointer(arena).update(from: x.pointer(arena), count: count) }, 0) }
        return (nil, 0)
    }
}

/// Reshape (opset 5+: the shape is the second input, which must be constant):
/// 0 copies the input dimension (unless allowzero), -1 is inferred.
struct ReshapeOp: AliasOperator {
    static let opType = "Reshape"
    static let sinceOpset = 5
    static let inputCount = 2...2
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let allowZero: Bool

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
        allowZero = try attrs.int("allowzero", 0, in: 0...1) != 0
    }

    func target(_ x: [Int], _ specTensor: Tensor?) throws -> [Int] {
        guard let specTensor else { throw attrs.fail("the shape input must be constant (or computed from shapes alone)") }
        guard specTensor.elementType == .int64, specTensor.rank == 1, specTensor.count <= Limits.maxRank else {
            throw attrs.fail("the shape input must be a list of at most \(Limits.maxRank) int64 values, got \(specTensor.elementType.rawValue) \(specTensor.shape)")
        }
        let spec = try specTensor.integers.map { v -> Int in
            guard v >= -1, v <= Limits.maxElements else { throw attrs.fail("shape value \(v) is not a dimension") }
            return v
        }
        guard spec.filter({ $0 == -1 }).count <= 1 else { throw attrs.fail("shape \(spec) has more than one -1") }
        let total = try elementCount(x, "node '\(attrs.node.name)' input")
        var out = try spec.enumerated().map { i, d -> Int in
            guard d == 0 && !allowZero else { return d }
            guard i < x.count else { throw attrs.fail("shape \(spec): a 0 at position \(i) has no input dimension to copy") }
            return x[i]
        }
        if let hole = out.firstIndex(of: -1) {
            var known = 1
            for (i, d) in out.enumerated() where i != hole {
                let (p, overflow) = known.multipliedReportingOverflow(by: d)
                guard !overflow else { throw attrs.fail("cannot reshape \(x) to \(spec)") }
                known = p
            }
            guard known > 0, total % known == 0 else { throw attrs.fail("cannot reshape \(x) to \(spec)") }
            out[hole] = total / known
        }
        guard try elementCount(out, "node '\(attrs.node.name)' output") == total, out.allSatisfy({ $0 > 0 }) else {
            throw attrs.fail("cannot reshape \(x) to \(spec)")
        }
        return out
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        try target(try shape(shapes, 0, attrs), constants.count > 1 ? constants[1] : nil)
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        var x = try tensor(inputs, 0, attrs)
        x.shape = try target(x.shape, inputs.count > 1 ? inputs[1] : nil)
        return x
    }
}

/// Flatten: [d0, ..., dn] -> [d0 * ... * d(axis-1), d(axis) * ... * dn].
struct FlattenOp: AliasOperator {
    static let opType = "Flatten"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let axis: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        axis = try attrs.int("axis", 1, in: -Limits.maxRank...Limits.maxRank)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        let a = try resolveAxis(axis, rank: x.count, inclusive: true, attrs)
        return [try elementCount(Array(x[..<a]), "node '\(attrs.node.name)'"), try elementCount(Array(x[a...]), "node '\(attrs.node.name)'")]
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        var x = try tensor(inputs, 0, attrs)
        x.shape = try outputShape([x.shape], constants: [])
        return x
    }
}

struct IdentityOp: AliasOperator {
    static let opType = "Identity"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.onnx
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try shape(shapes, 0, attrs) }
    func reference(_ inputs: [Tensor?]) throws -> Tensor { try tensor(inputs, 0, attrs) }
}

/// Constant: its `value` tensor (the optimizer turns it into a graph constant at load).
struct ConstantOp: Operator {
    static let opType = "Constant"
    static let sinceOpset = 1
    static let inputCount = 0...0
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let value: Tensor

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        // Exactly one of value, value_float(s), value_int(s) (opset 12 added the scalar and list forms).
        let given = ["value", "value_float", "value_floats", "value_int", "value_ints"].filter { node.attributes[$0] != nil }
        guard given.count == 1 else { throw attrs.fail("needs exactly one of value, value_float(s), value_int(s) (sparse_value and value_string(s) are not supported)") }
        switch (given[0], node.attributes[given[0]]!) {
        case ("value", .tensor(let t)): value = t
        case ("value_float", .float(let v)): value = Tensor(shape: [], data: [v])
        case ("value_floats", .floats(let v)): value = Tensor(shape: [v.count], data: v)
        case ("value_int", .int(let v)): value = Tensor(shape: [], integers: [v])
        case ("value_ints", .ints(let v)): value = Tensor(shape: [v.count], integers: v)
        default: throw attrs.fail("attribute '\(given[0])' has the wrong type")
        }
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] { [value.elementType] }
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { value.shape }
    func reference(_ inputs: [Tensor?]) throws -> Tensor { value }
    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { throw attrs.fail("internal error: Constant left in a plan") }
}
