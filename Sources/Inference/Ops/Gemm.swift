import KernelSupport

/// Gemm: Y = alpha * op(A) @ op(B) + beta * C, A and B 2-D, C broadcast to [M, N].
/// With constant B (and C), B is packed once at load as the filters of a 1x1 conv.
struct GemmOp: Operator {
    static let opType = "Gemm"
    static let sinceOpset = 1
    static let inputCount = 2...3
    static let layout = LayoutRule.onnx

    let attrs: Attributes
    let transA: Bool, transB: Bool
    let alpha: Float, beta: Float

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
        transA = try attrs.int("transA", 0, in: 0...1) != 0
        transB = try attrs.int("transB", 0, in: 0...1) != 0
        alpha = try attrs.float("alpha", 1)
        beta = try attrs.float("beta", 1)
    }

    var hasC: Bool { attrs.node.inputs.count > 2 && !attrs.node.inputs[2].isEmpty }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let a = try shape(shapes, 0, attrs), b = try shape(shapes, 1, attrs)
        guard a.count == 2, b.count == 2 else { throw attrs.fail("Gemm needs 2-D operands, got \(a) and \(b)") }
        let (m, k) = transA ? (a[1], a[0]) : (a[0], a[1])
        let (k2, n) = transB ? (b[1], b[0]) : (b[0], b[1])
        guard k == k2, k > 0 else { throw attrs.fail("inner dimensions differ: \(a) and \(b)") }
        if hasC, let c = shapes[2] {
            let padded = [Int](repeating: 1, count: max(0, 2 - c.count)) + c
            guard c.count <= 2, padded[0] == 1 || padded[0] == m, padded[1] == 1 || padded[1] == n else {
                throw attrs.fail("C \(c) does not broadcast to [\(m), \(n)]")
            }
        }
        _ = try elementCount([m, n], "node '\(attrs.node.name)' output")
        return [m, n]
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try tensor(inputs, 0, attrs), b = try tensor(inputs, 1, attrs)
        let c = hasC ? inputs[2] : nil
        let out = try outputShape([a.shape, b.shape, c?.shape], constants: [])
        let (m, n) = (out[0], out[1]), k = transA ? a.shape[0] : a.shape[1]
        var y = Tensor(zeros: out)
        let cb = c.flatMap { Reference.broadcast(Tensor(zeros: [m, n]), $0, { $1 }) }
        for i in 0..<m { for j in 0..<n {
            var acc: Float = 0
            for q in 0..<k {
                let av = transA ? a.data[q * m + i] : a.data[i * k + q]
                let bv = transB ? b.data[j * k + q] : b.data[q * n + j]
                acc += av * bv
            }
            y.data[i * n + j] = alpha * acc + (cb.map { beta * $0.data[i * n + j] } ?? 0)
        }}
        return y
    }

    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights? {
        // A dynamic B or C, or A transposed, go the generic way.
        guard constants.count > 1, let b = constants[1], b.rank == 2, !transA else { return nil }
        var c: Tensor? = nil
        if hasC {
            guard let given = constants[2] else { return nil }
            c = given
        }
        let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        if let c, c.count != n && c.count != 1 { return nil }
        let bias = c.map { c in c.count == 1 ? [Float](repeating: beta * c.data[0], count: n) : c.data.map { beta * $0 } }
        return PreparedWeights.dense(b, k: k, n: n, transposed: transB, alpha: alpha, bias: bias, kernels: kernels)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        if let dense = denseStep(l) { return dense }
        return try MatrixProduct(attrs: attrs, transA: transA, transB: transB, alpha: alpha, beta: beta).lower(l)
    }
}

/// MatMul: a [.., M, K] @ b [K, N] or batched [.., K, N] (same leading dimensions).
struct MatMulOp: Operator {
    static let opType = "MatMul"
    static let sinceOpset = 1
    static let inputCount = 2...2
    static let layout = LayoutRule.onnx

    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let a = try shape(shapes, 0, attrs), b = try shape(shapes, 1, attrs)
        guard a.count >= 2, b.count == 2 || (b.count == a.count && b.dropLast(2).elementsEqual(a.dropLast(2))),
              a[a.count - 1] == b[b.count - 2], a[a.count - 1] > 0 else {
            throw attrs.fail("cannot multiply \(a) by \(b) (b must be 2-D, or have a's leading dimensions)")
        }
        let out = Array(a.dropLast()) + [b[b.count - 1]]
        _ = try elementCount(out, "node '\(attrs.node.name)' output")
        return out
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try tensor(inputs, 0, attrs), b = try tensor(inputs, 1, attrs)
        let out = try outputShape([a.shape, b.shape], constants: [])
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], nn = b.shape[b.rank - 1]
        let batch = a.count / (m * k)
        let bBatch = b.count / (k * nn)
        var y = Tensor(zeros: out)
        for p in 0..<batch {
            let bo = (bBatch == 1 ? 0 : p) * k * nn
            for i in 0..<m { for j in 0..<nn {
                var acc: Float = 0
                for q in 0..<k { acc += a.data[p * m * k + i * k + q] * b.data[bo + q * nn + j] }
                y.data[p * m * nn + i * nn + j] = acc
            }}
        }
        return y
    }

    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights? {
        guard constants.count > 1, let b = constants[1], b.rank == 2 else { return nil }
        return PreparedWeights.dense(b, k: b.shape[0], n: b.shape[1], transposed: false, alpha: 1, bias: nil, kernels: kernels)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        if let dense = denseStep(l) { return dense }
        return try MatrixProduct(attrs: attrs, transA: false, transB: false, alpha: 1, beta: 1).lower(l)
    }
}

/// MatMul by a constant [K, N] followed by the Add of a constant [N]: what the
/// optimiser makes of a linear layer (a transformer's, a classifier head's), so
/// the bias goes into the GEMM's write-back. Its op type cannot come from a file.
struct MatMulBiasOp: Operator {
    static let opType = "vidlabel.MatMulBias"
    static let sinceOpset = 1
    static let inputCount = 3...3
    static let layout = LayoutRule.onnx

    let attrs: Attributes
    let matMul: MatMulOp

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        for i in 0..<3 { try attrs.required(i) }
        var plain = node
        plain.inputs.removeLast()
        matMul = try MatMulOp(node: plain, opset: opset)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let y = try matMul.outputShape(Array(shapes.prefix(2)), constants: Array(constants.prefix(2)))
        guard let b = shapes[2], b == [y.last!] else { throw attrs.fail("bias must have shape [\(y.last!)]") }
        return y
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let y = try matMul.reference(Array(inputs.prefix(2)))
        return Reference.broadcast(y, try tensor(inputs, 2, attrs), +)!
    }

    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights? {
        guard constants.count > 2, let b = constants[1], b.rank == 2, let bias = constants[2], bias.count == b.shape[1] else {
            throw attrs.fail("weights [K, N] and bias [N] must be constant")
        }
        return PreparedWeights.dense(b, k: b.shape[0], n: b.shape[1], transposed: false, alpha: 1, bias: bias.data, kernels: kernels)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        guard let dense = denseStep(l) else { throw attrs.fail("internal error: weights not packed") }
        return dense
    }
}

/// y [rows, N] = x [rows, K] @ W [K, N] with W packed at load: a 1x1 conv over
/// `rows` one-pixel images. nil when the weights were not packed.
private func denseStep(_ l: Lowering) -> (step: Plan.Step?, flops: Double)? {
    let kernels = l.kernels
    guard let prepared = l.prepared, case .dense(let filters) = prepared.kind, let x = l.inputs[0] else { return nil }
    let count = l.outputShape.reduce(1, *)
    let k = filters.panels.cg, units = filters.panels.mg
    let shape = ConvShape.dense(rows: count / units, k: k, units: units)
    let e = l.fused.kernelEpilogue(bias: prepared.bias.map { UnsafePointer($0) }, residual: nil)
    let y = l.output, threads = l.threads
    return ({ arena in
        kernels.conv(x.pointer(arena), shape, filters.panels, e, x.pointer(arena), y.pointer(arena), threads)
    }, 2.0 * Double(count * k))
}

/// A matrix product of two run-time operands (both dynamic): A copied row-major
/// with alpha folded in, B packed per call, then beta * C and the fused clamp.
private struct MatrixProduct {
    let attrs: Attributes
    let transA: Bool, transB: Bool
    let alpha: Float, beta: Float

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let xs = l.inputShapes[0], bs = l.inputShapes[1]
        let x = try l.input(0), b = try l.input(1)
        let cIn = l.inputs.count > 2 ? l.inputs[2] : nil
        let cShape = l.inputs.count > 2 ? l.inputShapes[2] : []
        let out = l.outputShape, count = out.reduce(1, *)
        let m = out[out.count - 2], nn = out[out.count - 1]
        let k = transA ? xs[xs.count - 2] : xs[xs.count - 1]
        let batches = count / (m * nn)
        let bBatched = bs.count > 2
        let shape = ConvShape.dense(rows: m, k: k, units: nn)
        let (nr, tail) = (l.kernels.nr, l.kernels.tail), panelFloats = FilterPanels.count(nr: nr, tail: tail, groups: 1, mg: nn, cg: k, taps: 1)
        let flops = 2.0 * Double(batches * m * nn * k)
        let (transA, transB, alpha, beta, fused, threads) = (transA, transB, alpha, beta, l.fused, l.threads)
        let y = l.output
        let cStrides = cIn == nil ? [] : Reference.stridesFor(cShape, rank: 2)
        let step: Plan.Step = { arena in
            let xp = x.pointer(arena), bp = b.pointer(arena), yp = y.pointer(arena)
            // The panels start on a cache line: the microkernel's B loads are aligned loads.
            let aFloats = Plan.rounded(m * k)
            Scratch.with(aFloats + panelFloats) { scratch in
                // Layout: aRow [M, K] row-major; panels as FilterPanels.
                let aRow = scratch, panelData = scratch + aFloats
                for p in 0..<batches {
                    let src = xp + p * m * k
                    for i in 0..<m { for q in 0..<k { aRow[i * k + q] = alpha * (transA ? src[q * m + i] : src[i * k + q]) } }
                    let bb = bp + (bBatched ? p * k * nn : 0)
                    let panels = FilterPanels.pack(into: panelData, nr: nr, tail: tail, groups: 1, mg: nn, cg: k, taps: 1) { j, q, _ in
                        transB ? bb[j * k + q] : bb[q * nn + j]
                    }
                    kernels.conv(aRow, shape, panels, Epilogue(), aRow, yp + p * m * nn, threads)
                }
            }
            if let cIn {
                let cp = cIn.pointer(arena)
                for i in 0..<m { for j in 0..<nn { yp[i * nn + j] += beta * cp[i * cStrides[0] + j * cStrides[1]] } }
            }
            if fused.lo > -.infinity || fused.hi < .infinity || fused.activation.kind != .none {
                kernels.activate(yp, yp, count, fused.lo, fused.hi, fused.activation)
            }
        }
        return (step, flops)
    }
}
