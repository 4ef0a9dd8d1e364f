import Foundation

extension Location {
    func pointer(_ arena: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        switch self {
        case .arena(let o): return arena + o
        case .constant(let p): return p
        }
    }
}

extension Plan {
    /// Output shape of `n` for the given input shapes (nil: omitted optional input).
    static func inferShape(_ n: Node, _ s: [[Int]?], _ g: Graph) throws -> [Int] {
        func input(_ i: Int) throws -> [Int] {
            guard i < s.count, let v = s[i] else { throw InferenceError("node '\(n.name)': missing input \(i)") }
            return v
        }
        let x = try input(0)
        let fail = { (why: String) in InferenceError("node '\(n.name)' (\(n.opType)): \(why)") }
        switch n.opType {
        case "Relu", "Clip", "Sigmoid", "Identity", "Softmax", "BatchNormalization":
            return x
        case "Add", "Mul":
            guard let y = broadcastShape(x, try input(1)) else { throw fail("cannot broadcast \(x) and \(try input(1))") }
            return y
        case "Conv":
            let w = try input(1)
            guard x.count == 4, w.count == 4 else { throw fail("only 2-D Conv on NCHW input is supported, input \(x)") }
            let group = n.int("group", 1)
            guard x[1] == w[1] * group else { throw fail("input has \(x[1]) channels, weights expect \(w[1] * group)") }
            let win = try Window2D(node: n, kernel: (w[2], w[3]), inH: x[2], inW: x[3])
            let (oh, ow) = win.output(x[2], x[3])
            guard oh > 0, ow > 0 else { throw fail("output would be empty for input \(x)") }
            return [x[0], w[0], oh, ow]
        case "MaxPool", "AveragePool":
            guard x.count == 4, let k = n.ints("kernel_shape"), k.count == 2 else { throw fail("only 2-D pooling on NCHW input is supported") }
            let win = try Window2D(node: n, kernel: (k[0], k[1]), inH: x[2], inW: x[3])
            let (oh, ow) = win.output(x[2], x[3])
            guard oh > 0, ow > 0 else { throw fail("output would be empty for input \(x)") }
            return [x[0], x[1], oh, ow]
        case "GlobalAveragePool":
            guard x.count >= 3 else { throw fail("needs at least 3-D input") }
            return [x[0], x[1]] + [Int](repeating: 1, count: x.count - 2)
        case "MatMul":
            let b = try input(1)
            guard x.count >= 2, b.count == 2 || b.count == x.count, x[x.count - 1] == b[b.count - 2] else { throw fail("cannot multiply \(x) by \(b)") }
            return Array(x.dropLast()) + [b[b.count - 1]]
        case "Gemm":
            let b = try input(1)
            guard x.count == 2, b.count == 2 else { throw fail("Gemm needs 2-D operands") }
            let (m, k) = n.int("transA", 0) != 0 ? (x[1], x[0]) : (x[0], x[1])
            let (k2, nn) = n.int("transB", 0) != 0 ? (b[1], b[0]) : (b[0], b[1])
            guard k == k2 else { throw fail("inner dimensions differ: \(x) and \(b)") }
            return [m, nn]
        case "Reshape":
            guard let spec = g.constants[n.inputs[1]] else { throw fail("shape input must be constant") }
            return try reshapeTarget(x, spec.data.map { Int($0) }, node: n.name)
        case "Flatten":
            var axis = n.int("axis", 1)
            if axis < 0 { axis += x.count }
            return [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)]
        case "Transpose":
            let perm = n.ints("perm") ?? Array((0..<x.count).reversed())
            guard perm.sorted() == Array(0..<x.count) else { throw fail("bad perm \(perm)") }
            return perm.map { x[$0] }
        case "Concat":
            var axis = n.int("axis", 0)
            if axis < 0 { axis += x.count }
            var out = x
            out[axis] = 0
            for i in 0..<s.count {
                let t = try input(i)
                guard t.count == x.count else { throw fail("rank mismatch") }
                out[axis] += t[axis]
            }
            return out
        default:
            throw InferenceError("unsupported op \(n.opType) (node '\(n.name)', opset \(g.opset))")
        }
    }

    /// Builds the closure that runs one node. Returns nil for pure aliases
    /// (Reshape/Flatten share storage), plus the node's FLOPs.
    static func build(node n: Node, prepared: PreparedWeights?, inputs: [Location?], inputShapes: [[Int]],
                      output: Location, outputShape: [Int], fused: (residual: Bool, lo: Float, hi: Float),
                      graph g: Graph, threads: Int) throws -> (Step?, Double) {
        let x = inputs[0]!, xs = inputShapes[0]
        let count = outputShape.reduce(1, *)
        switch n.opType {
        case "Reshape", "Flatten", "Identity":
            if case .constant = x {
                return ({ arena in output.pointer(arena).update(from: x.pointer(arena), count: count) }, 0)
            }
            return (nil, 0)
        case "Conv":
            // x and the residual arrive in NHWC and y leaves in NHWC (the plan converts at the edges).
            guard let prepared, let zeros = prepared.zeros else { throw InferenceError("node '\(n.name)': internal error: Conv without packed filters") }
            let win = try Window2D(node: n, kernel: (prepared.weightShape[2], prepared.weightShape[3]), inH: xs[2], inW: xs[3])
            let shape = ConvShape(batch: xs[0], h: xs[2], w: xs[3], c: xs[1], oh: outputShape[2], ow: outputShape[3],
                                  m: outputShape[1], win: win)
            let residual = fused.residual ? inputs.last! : nil
            let bias = prepared.bias.map { UnsafePointer($0) }
            let flops = 2.0 * Double(count) * Double(prepared.weightShape[1] * prepared.weightShape[2] * prepared.weightShape[3])
            switch prepared.kind {
            case .depthwise(let weights):
                return ({ arena in
                    let e = Epilogue(bias: bias, residual: residual.map { UnsafePointer($0.pointer(arena)) }, lo: fused.lo, hi: fused.hi)
                    depthwiseNHWC(x.pointer(arena), shape, weights: weights, epilogue: e, y: output.pointer(arena), threads: threads)
                }, flops)
            case .conv(let filters):
                return ({ arena in
                    let e = Epilogue(bias: bias, residual: residual.map { UnsafePointer($0.pointer(arena)) }, lo: fused.lo, hi: fused.hi)
                    convNHWC(x.pointer(arena), shape, filters: filters.panels, epilogue: e, zeros: zeros, y: output.pointer(arena),
                             threads: threads)
                }, flops)
            case .dense:
                throw InferenceError("node '\(n.name)': internal error: dense weights on a Conv")
            }
        case "Gemm", "MatMul":
            if let prepared, case .dense(let filters) = prepared.kind, xs.count == 2 || n.opType == "MatMul" {
                // y [rows, N] = x [rows, K] @ W [K, N]: a 1x1 conv over `rows` one-pixel images.
                let k = filters.panels.cg, units = filters.panels.mg
                let shape = ConvShape.dense(rows: count / units, k: k, units: units)
                let e = Epilogue(bias: prepared.bias.map { UnsafePointer($0) }, residual: nil, lo: fused.lo, hi: fused.hi)
                return ({ arena in
                    convNHWC(x.pointer(arena), shape, filters: filters.panels, epilogue: e, zeros: x.pointer(arena),
                             y: output.pointer(arena), threads: threads)
                }, 2.0 * Double(count * k))
            }
            // Both operands at run time: copy A row-major with alpha folded in, pack B per call.
            let bs = inputShapes[1]
            let b = inputs[1]!
            let cIn = inputs.count > 2 ? inputs[2] : nil
            let cShape = inputs.count > 2 ? inputShapes[2] : []
            let transA = n.opType == "Gemm" && n.int("transA", 0) != 0
            let transB = n.opType == "Gemm" && n.int("transB", 0) != 0
            let alpha = n.opType == "Gemm" ? n.float("alpha", 1) : 1, beta = n.opType == "Gemm" ? n.float("beta", 1) : 1
            let m = outputShape[outputShape.count - 2], nn = outputShape[outputShape.count - 1]
            let k = transA ? xs[xs.count - 2] : xs[xs.count - 1]
            let batches = count / (m * nn)
            let bBatched = bs.count > 2
            let shape = ConvShape.dense(rows: m, k: k, units: nn)
            let panelFloats = ((nn + NR - 1) / NR) * k * NR
            let flops = 2.0 * Double(batches * m * nn * k)
            let step: Step = { arena in
                let xp = x.pointer(arena), bp = b.pointer(arena), yp = output.pointer(arena)
                // The panels start on a cache line: the microkernel's B loads are aligned loads.
                let aFloats = Plan.rounded(m * k)
                Scratch.with(aFloats + panelFloats) { scratch in
                    // Layout: aRow [M, K] row-major; panels as FilterPanels.
                    let aRow = scratch, panelData = scratch + aFloats
                    for p in 0..<batches {
                        let src = xp + p * m * k
                        for i in 0..<m { for q in 0..<k { aRow[i * k + q] = alpha * (transA ? src[q * m + i] : src[i * k + q]) } }
                        let bb = bp + (bBatched ? p * k * nn : 0)
                        let panels = FilterPanels.pack(into: panelData, groups: 1, mg: nn, cg: k, taps: 1) { j, q, _ in
                            transB ? bb[j * k + q] : bb[q * nn + j]
                        }
                        convNHWC(aRow, shape, filters: panels, epilogue: Epilogue(), zeros: aRow, y: yp + p * m * nn, threads: threads)
                    }
                }
                if let cIn {
                    let cp = cIn.pointer(arena)
                    let sc = Reference.stridesFor(cShape, rank: 2)
                    for i in 0..<m { for j in 0..<nn { yp[i * nn + j] += beta * cp[i * sc[0] + j * sc[1]] } }
                }
                if fused.lo > -.infinity || fused.hi < .infinity { clampKernel(yp, yp, count: count, lo: fused.lo, hi: fused.hi) }
            }
            return (step, flops)
        case "Relu", "Clip":
            let (lo, hi): (Float, Float)
            if n.opType == "Relu" { (lo, hi) = (0, .infinity) } else {
                guard n.inputs.dropFirst().allSatisfy({ $0.isEmpty || g.constants[$0] != nil }) else {
                    throw InferenceError("node '\(n.name)': Clip bounds must be constant")
                }
                (lo, hi) = Reference.clipBounds(n, n.inputs.map { $0.isEmpty ? nil : g.constants[$0] }, opset: g.opset)
            }
            return ({ arena in clampKernel(x.pointer(arena), output.pointer(arena), count: count, lo: lo, hi: hi) }, 0)
        case "Sigmoid":
            return ({ arena in sigmoidKernel(x.pointer(arena), output.pointer(arena), count: count) }, 0)
        case "Add", "Mul":
            let b = inputs[1]!, bs = inputShapes[1]
            let multiply = n.opType == "Mul"
            if xs == bs {
                return ({ arena in binaryKernel(x.pointer(arena), b.pointer(arena), output.pointer(arena), count: count,
                                                multiply: multiply, lo: -.infinity, hi: .infinity) }, 0)
            }
            let rank = outputShape.count
            let sa = Reference.stridesFor(xs, rank: rank), sb = Reference.stridesFor(bs, rank: rank)
            return ({ arena in broadcastKernel(x.pointer(arena), sa, b.pointer(arena), sb, output.pointer(arena),
                                               shape: outputShape, multiply: multiply) }, 0)
        case "MaxPool", "AveragePool":
            // NHWC in and out.
            let k = n.ints("kernel_shape")!
            let win = try Window2D(node: n, kernel: (k[0], k[1]), inH: xs[2], inW: xs[3])
            let isMax = n.opType == "MaxPool", include = n.int("count_include_pad", 0) != 0
            let shape = ConvShape(batch: xs[0], h: xs[2], w: xs[3], c: xs[1], oh: outputShape[2], ow: outputShape[3], m: xs[1], win: win)
            return ({ arena in poolNHWC(x.pointer(arena), shape, isMax: isMax, countIncludePad: include, y: output.pointer(arena),
                                        threads: threads) }, 0)
        case "GlobalAveragePool":
            // NHWC in; [N, C, 1...] out, which is the same memory in either layout.
            let pixels = xs.dropFirst(2).reduce(1, *)
            return ({ arena in globalAverageNHWC(x.pointer(arena), batch: xs[0], pixels: pixels, c: xs[1], y: output.pointer(arena)) }, 0)
        case "Softmax":
            var axis = n.int("axis", g.opset >= 13 ? -1 : 1)
            if axis < 0 { axis += xs.count }
            let outer = xs[..<axis].reduce(1, *)
            let (len, inner) = g.opset >= 13 ? (xs[axis], xs[(axis + 1)...].reduce(1, *)) : (xs[axis...].reduce(1, *), 1)
            return ({ arena in softmaxKernel(x.pointer(arena), output.pointer(arena), outer: outer, len: len, inner: inner) }, 0)
        case "Transpose":
            let perm = n.ints("perm") ?? Array((0..<xs.count).reversed())
            return ({ arena in transposeKernel(x.pointer(arena), inShape: xs, perm: perm, output.pointer(arena)) }, 0)
        case "Concat":
            var axis = n.int("axis", 0)
            if axis < 0 { axis += xs.count }
            let outer = xs[..<axis].reduce(1, *)
            let chunks = inputShapes.map { $0[axis...].reduce(1, *) }
            let total = chunks.reduce(0, +)
            let parts = inputs.map { $0! }
            return ({ arena in
                let yp = output.pointer(arena)
                var off = 0
                for (part, chunk) in zip(parts, chunks) {
                    let src = part.pointer(arena)
                    for o in 0..<outer { (yp + o * total + off).update(from: src + o * chunk, count: chunk) }
                    off += chunk
                }
            }, 0)
        case "BatchNormalization":
            let consts = try (1...4).map { i -> Tensor in
                guard let t = g.constants[n.inputs[i]] else { throw InferenceError("node '\(n.name)': BatchNormalization parameters must be constant") }
                return t
            }
            let eps = n.float("epsilon", 1e-5)
            let channels = xs[1], inner = xs[2...].reduce(1, *)
            let scale = (0..<channels).map { consts[0].data[$0] / (consts[3].data[$0] + eps).squareRoot() }
            let shift = (0..<channels).map { consts[1].data[$0] - consts[2].data[$0] * scale[$0] }
            return ({ arena in
                let xp = x.pointer(arena), yp = output.pointer(arena)
                for i in 0..<(count / inner) {
                    let ch = i % channels, s = scale[ch], t = shift[ch]
                    for j in 0..<inner { yp[i * inner + j] = xp[i * inner + j] * s + t }
                }
            }, 0)
        default:
            throw InferenceError("unsupported op \(n.opType) (node '\(n.name)', opset \(g.opset))")
        }
    }
}
