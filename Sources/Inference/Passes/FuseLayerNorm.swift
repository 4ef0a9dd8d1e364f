/// Layer normalisation as exporters write it over the last axis:
/// mean = ReduceMean(x), d = x - mean, var = ReduceMean(d ^ 2), y = d / sqrt(var + eps)
/// (* gamma) (+ beta), gamma and beta constants, made one LayerNormalization
/// (a row at a time in one kernel instead of nine passes over the tensor).
enum FuseLayerNorm {
    static func run(_ g: inout Graph) {
        let index = GraphIndex(g)
        var edits = NodeEdits()
        /// ReduceMean over the last axis only, keeping it (axes as an attribute: opsets before 18).
        func lastAxisMean(_ n: Node) -> Bool {
            n.opType == "ReduceMean" && n.inputs.count == 1 && n.ints("axes") == [-1] && n.int("keepdims", 1) == 1
        }
        for (i, mean) in g.nodes.enumerated() where lastAxisMean(mean) && !edits.touched(i) {
            let x = mean.inputs[0]
            guard let s = index.onlyReader(mean.outputs[0]), let sub = index.node(s, "Sub"),
                  sub.inputs == [x, mean.outputs[0]], let readers = index.readers[sub.outputs[0]], readers.count == 2,
                  let p = readers.first(where: { g.nodes[$0].opType == "Pow" }), index.scalar(g.nodes[p].inputs[1]) == 2,
                  g.nodes[p].inputs[0] == sub.outputs[0],
                  let v = index.onlyReader(g.nodes[p].outputs[0]), lastAxisMean(g.nodes[v]),
                  let a = index.onlyReader(g.nodes[v].outputs[0]), let add = index.node(a, "Add"),
                  let epsilon = index.scalar(index.other(add, than: g.nodes[v].outputs[0]) ?? ""), epsilon >= 0,
                  let r = index.onlyReader(add.outputs[0]), let sqrt = index.node(r, "Sqrt"),
                  let d = readers.first(where: { g.nodes[$0].opType == "Div" }), index.onlyReader(sqrt.outputs[0]) == d,
                  g.nodes[d].inputs == [sub.outputs[0], sqrt.outputs[0]] else { continue }
            var nodes = [i, s, p, v, a, r, d]
            var last = g.nodes[d].outputs[0]
            var inputs = [x]
            // Scale and shift: constants over the last axis.
            if let m = index.onlyReader(last), let mul = index.node(m, "Mul"), let gamma = index.other(mul, than: last),
               let t = g.constants[gamma], t.isFloat, t.shape.dropLast().allSatisfy({ $0 == 1 }) {
                nodes.append(m)
                last = mul.outputs[0]
                let name = mul.name + "/scale"
                g.constants[name] = Tensor(shape: [t.count], data: t.data)
                inputs.append(name)
                if let b = index.onlyReader(last), let addB = index.node(b, "Add"), let beta = index.other(addB, than: last),
                   let u = g.constants[beta], u.isFloat, u.count == t.count, u.shape.dropLast().allSatisfy({ $0 == 1 }) {
                    nodes.append(b)
                    last = addB.outputs[0]
                    let name = addB.name + "/bias"
                    g.constants[name] = Tensor(shape: [u.count], data: u.data)
                    inputs.append(name)
                }
            } else {
                continue
            }
            guard !nodes.contains(where: edits.touched) else { continue }
            edits.replace(nodes.last!, with: .fused(LayerNormalizationOp.opType, name: mean.name, inputs: inputs, output: last,
                                                    attributes: ["axis": .int(-1), "epsilon": .float(epsilon)]))
            for k in nodes.dropLast() { edits.drop(k) }
        }
        edits.apply(&g)
    }
}
