/// Activations exporters spell out in several ops, made one element-wise op each
/// (which a Conv or linear layer before it then applies as it stores):
/// - x * Sigmoid(x) -> SiLU (YOLOv8, the SVTR neck);
/// - x * HardSigmoid(x) and x * Clip(x + 3, 0, 6) / 6 -> HardSwish (PP-LCNet);
/// - x * 0.5 * (1 + Erf(x / sqrt 2)) in either order -> Gelu (PP-HGNet).
enum FuseActivations {
    static func run(_ g: inout Graph) {
        let index = GraphIndex(g)
        var edits = NodeEdits()
        func fuse(_ nodes: [Int], into opType: String, input x: String, attributes: [String: Attribute] = [:]) {
            guard !nodes.contains(where: edits.touched) else { return }
            let last = nodes.last!
            edits.replace(last, with: .fused(opType, name: g.nodes[last].name, inputs: [x], output: g.nodes[last].outputs[0],
                                             attributes: attributes))
            for i in nodes.dropLast() { edits.drop(i) }
        }
        /// The Mul reading `v` (its only reader) whose other input is `x`.
        func mulWith(_ v: String, _ x: String) -> Int? {
            guard let m = index.onlyReader(v), let mul = index.node(m, "Mul"), index.other(mul, than: v) == x else { return nil }
            return m
        }
        func near(_ a: Float?, _ b: Float) -> Bool { a.map { abs($0 - b) <= 1e-4 * max(1, abs(b)) } ?? false }

        for (i, n) in g.nodes.enumerated() where !edits.touched(i) {
            let out = n.outputs.first ?? ""
            switch n.opType {
            case "Sigmoid":
                if let m = mulWith(out, n.inputs[0]) { fuse([i, m], into: SiluOp.opType, input: n.inputs[0]) }
            case "HardSigmoid":
                if let m = mulWith(out, n.inputs[0]) {
                    fuse([i, m], into: HardSwishOp.opType, input: n.inputs[0],
                         attributes: ["alpha": .float(n.float("alpha", 0.2)), "beta": .float(n.float("beta", 0.5))])
                }
            case "Add":
                // x * Clip(x + 3, 0, 6) / 6.
                guard let x = n.inputs.first(where: { index.scalar($0) == nil }), near(index.scalar(index.other(n, than: x) ?? ""), 3),
                      let c = index.onlyReader(out), let clip = index.node(c, "Clip"),
                      let m = mulWith(clip.outputs[0], x), let d = index.onlyReader(g.nodes[m].outputs[0]) else { continue }
                let bounds = clip.inputs.count == 3 ? (index.scalar(clip.inputs[1]), index.scalar(clip.inputs[2]))
                    : (clip.float("min", -.infinity), clip.float("max", .infinity))
                guard bounds.0 == 0, bounds.1 == 6 else { continue }
                let last = g.nodes[d]
                let divides = last.opType == "Div" && last.inputs[0] == g.nodes[m].outputs[0] && near(index.scalar(last.inputs[1]), 6)
                let scales = last.opType == "Mul" && near(index.scalar(index.other(last, than: g.nodes[m].outputs[0]) ?? ""), 1.0 / 6)
                guard divides || scales else { continue }
                fuse([i, c, m, d], into: HardSwishOp.opType, input: x, attributes: ["alpha": .float(1.0 / 6), "beta": .float(0.5)])
            case "Erf":
                // Erf(x / sqrt 2) or Erf(x * (1 / sqrt 2)), then + 1, then * x and * 0.5 in either order.
                guard let p = index.producer[n.inputs[0]], index.onlyReader(n.inputs[0]) == i else { continue }
                let scale = g.nodes[p]
                guard scale.inputs.count == 2 else { continue }
                let x = scale.inputs[0]
                let halfRoot = scale.opType == "Div" && near(index.scalar(scale.inputs[1]), Float(2).squareRoot())
                    || scale.opType == "Mul" && near(index.scalar(scale.inputs[1]), 1 / Float(2).squareRoot())
                guard halfRoot, let a = index.onlyReader(out), let add = index.node(a, "Add"),
                      near(index.scalar(index.other(add, than: out) ?? ""), 1),
                      let m1 = index.onlyReader(add.outputs[0]), let mul1 = index.node(m1, "Mul") else { continue }
                if index.other(mul1, than: add.outputs[0]) == x, let m2 = index.onlyReader(mul1.outputs[0]),
                   let mul2 = index.node(m2, "Mul"), near(index.scalar(index.other(mul2, than: mul1.outputs[0]) ?? ""), 0.5) {
                    fuse([p, i, a, m1, m2], into: GeluOp.opType, input: x)
                } else if let half = index.other(mul1, than: add.outputs[0]), let h = index.producer[half],
                          let mulHalf = index.node(h, "Mul"), index.onlyReader(half) == m1,
                          index.other(mulHalf, than: x).map({ near(index.scalar($0), 0.5) }) == true {
                    fuse([p, h, i, a, m1], into: GeluOp.opType, input: x)
                }
            default:
                continue
            }
        }
        edits.apply(&g)
    }
}
