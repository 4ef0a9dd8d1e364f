/// Who makes and who reads each value of a graph, for the rewrite passes: a
/// pattern is matched from a node through values that have exactly one reader,
/// so replacing it changes nothing else.
struct GraphIndex {
    let graph: Graph
    private(set) var producer: [String: Int] = [:]
    private(set) var readers: [String: [Int]] = [:]
    private let outputs: Set<String>

    init(_ g: Graph) {
        graph = g
        outputs = Set(g.outputs)
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs { producer[o] = i }
            for v in Set(n.inputs) where !v.isEmpty { readers[v, default: []].append(i) }
        }
    }

    /// The node reading `v`, when it is the only one (and `v` is not a graph output).
    func onlyReader(_ v: String) -> Int? {
        guard !outputs.contains(v), let r = readers[v], r.count == 1 else { return nil }
        return r[0]
    }

    /// Node `i` if it is an `opType` node.
    func node(_ i: Int?, _ opType: String) -> Node? {
        guard let i, graph.nodes[i].opType == opType else { return nil }
        return graph.nodes[i]
    }

    /// The one float value of constant `v`, if it is one.
    func scalar(_ v: String) -> Float? {
        guard let t = graph.constants[v], t.isFloat, t.count == 1 else { return nil }
        return t.data[0]
    }

    /// The input of two-input node `n` other than `v` (nil when both are `v`).
    func other(_ n: Node, than v: String) -> String? {
        guard n.inputs.count == 2, n.inputs[0] != n.inputs[1] else { return nil }
        return n.inputs[0] == v ? n.inputs[1] : n.inputs[0]
    }
}

/// A graph's nodes with some replaced and some dropped, in order: a rewrite puts
/// its new node where the pattern's last node was (all its inputs exist by then).
struct NodeEdits {
    private var replaced: [Int: Node] = [:]
    private var dropped = Set<Int>()

    /// True when node i is already part of another rewrite.
    func touched(_ i: Int) -> Bool { replaced[i] != nil || dropped.contains(i) }

    mutating func replace(_ i: Int, with node: Node) { replaced[i] = node }
    mutating func drop(_ i: Int) { dropped.insert(i) }

    func apply(_ g: inout Graph) {
        g.nodes = g.nodes.enumerated().compactMap { i, n in dropped.contains(i) ? nil : replaced[i] ?? n }
    }
}
