/// A constant Add after a Conv, ConvTranspose or MatMul is its bias: exporters
/// (PaddlePaddle's, for PP-OCR) write every conv without one and add a [1, M, 1, 1]
/// constant after it, which would cost a pass over the whole output. Folded, the
/// bias goes into the GEMM's write-back (MatMul by a constant [K, N] plus a
/// constant [N] becomes vidlabel.MatMulBias).
enum FoldBias {
    static func run(_ g: inout Graph) {
        let index = GraphIndex(g)
        var edits = NodeEdits()
        for (i, n) in g.nodes.enumerated() where !edits.touched(i) {
            guard let a = index.onlyReader(n.outputs[0]), let add = index.node(a, "Add"), !edits.touched(a),
                  let other = index.other(add, than: n.outputs[0]), let b = g.constants[other], b.isFloat else { continue }
            switch n.opType {
            case "Conv", "ConvTranspose":
                guard n.inputs.count >= 2, let w = g.constants[n.inputs[1]], w.rank == 4 else { continue }
                let group = n.int("group", 1)
                let m = n.opType == "Conv" ? w.shape[0] : w.shape[1] * group
                // One value per filter ([1, M, 1, 1], [M, 1, 1]) or one for all.
                let padded = [Int](repeating: 1, count: max(0, 4 - b.rank)) + b.shape
                guard b.count == 1 || (padded.count == 4 && padded == [1, m, 1, 1]) else { continue }
                let old = n.inputs.count > 2 && !n.inputs[2].isEmpty ? g.constants[n.inputs[2]] : nil
                if n.inputs.count > 2 && !n.inputs[2].isEmpty && old?.count != m { continue }
                let bias = (0..<m).map { (old?.data[$0] ?? 0) + b.data[b.count == 1 ? 0 : $0] }
                let name = n.name + "/folded_bias"
                g.constants[name] = Tensor(shape: [m], data: bias)
                var conv = n
                conv.inputs = [n.inputs[0], n.inputs[1], name]
                conv.outputs = add.outputs
                edits.replace(a, with: conv)
                edits.drop(i)
            case "MatMul":
                guard n.inputs.count == 2, let w = g.constants[n.inputs[1]], w.rank == 2, w.isFloat, b.count == w.shape[1],
                      b.shape.last == w.shape[1], b.shape.dropLast().allSatisfy({ $0 == 1 }) else { continue }
                let name = n.name + "/folded_bias"
                g.constants[name] = Tensor(shape: [b.count], data: b.data)
                edits.replace(a, with: .fused(MatMulBiasOp.opType, name: n.name, inputs: [n.inputs[0], n.inputs[1], name], output: add.outputs[0]))
                edits.drop(i)
            default:
                continue
            }
        }
        edits.apply(&g)
    }
}
