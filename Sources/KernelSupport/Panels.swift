/// The right-hand GEMM operand (filters) in panels of `nr` columns, `nr` being the
/// register tile width of the kernel set that packed them (16 for AVX2 and the
/// portable set's 8, 32 for AVX-512): each set packs its own at load.
/// Layout of `data`: per group, [panels][taps][cg][width]: panel p holds columns
/// nr*p..<nr*p+width of its group side by side for every K index (tap, input
/// channel); columns past the end are zero. Every panel is nr wide but a last one
/// of at most nr/2 columns (24- and 40-filter layers with nr 16), which is packed
/// nr/2 wide: the kernels run it on one vector, and at nr wide its zero half
/// doubled the bytes that stream through L1 for it. A set may also name a `tail`
/// width between nr/2 and nr (AVX-512: 24, a zmm and a ymm): a last panel of more
/// than nr/2 and at most `tail` columns is packed `tail` wide.
package struct FilterPanels {
    package let data: UnsafePointer<Float>
    /// Columns per panel.
    package let nr: Int
    /// Width of a last panel of nr/2 < columns <= tail; 0 when the set has none.
    package let tail: Int
    package let groups: Int
    /// Columns (filters) per group.
    package let mg: Int
    /// Input channels per group.
    package let cg: Int
    /// Window taps (kh * kw); 1 for a plain matrix product.
    package let taps: Int

    /// Panels per group.
    package let panels: Int
    /// Floats in one full panel: K (= taps * cg) rows of nr.
    package let panelSize: Int
    /// Floats per group: its full panels and its last one.
    package let groupSize: Int

    // The sizes are stored, not computed: the kernel modules read them per tile,
    // and a computed property from this module stayed a call there (`@inlinable`,
    // `@inline(__always)` and `@_transparent` alike: objdump of convNHWC), and a
    // call in the tile loop costs spills around it.
    package init(data: UnsafePointer<Float>, nr: Int, tail: Int, groups: Int, mg: Int, cg: Int, taps: Int) {
        self.data = data
        self.nr = nr
        self.tail = tail
        self.groups = groups
        self.mg = mg
        self.cg = cg
        self.taps = taps
        panels = (mg + nr - 1) / nr
        panelSize = taps * cg * nr
        groupSize = Self.groupSize(nr: nr, tail: tail, mg: mg, cg: cg, taps: taps)
    }

    /// Columns per K row of panel p: nr, or nr/2 or `tail` for a narrow last panel.
    package func width(_ p: Int) -> Int { Self.width(p, nr: nr, tail: tail, mg: mg) }
    /// Floats in all panels.
    package var count: Int { groups * groupSize }

    /// Where panel p of group g starts (kernels spell this `panelStart`).
    package func panel(group: Int, _ p: Int) -> UnsafePointer<Float> { data + group * groupSize + p * panelSize }

    static func width(_ p: Int, nr: Int, tail: Int, mg: Int) -> Int {
        let rest = mg - p * nr
        if rest <= 0 || rest >= nr { return nr }
        return rest <= nr / 2 ? nr / 2 : rest <= tail ? tail : nr
    }

    static func groupSize(nr: Int, tail: Int, mg: Int, cg: Int, taps: Int) -> Int {
        let panels = (mg + nr - 1) / nr
        return panels == 0 ? 0 : taps * cg * ((panels - 1) * nr + width(panels - 1, nr: nr, tail: tail, mg: mg))
    }

    /// Floats `pack` fills for these sizes.
    package static func count(nr: Int, tail: Int, groups: Int, mg: Int, cg: Int, taps: Int) -> Int {
        groups * groupSize(nr: nr, tail: tail, mg: mg, cg: cg, taps: taps)
    }

    /// Fills `dst` (`count` floats) with `value(f, ci, tap)`: column f (0..<groups*mg),
    /// input channel ci of its group, tap.
    package static func pack(into dst: UnsafeMutablePointer<Float>, nr: Int, tail: Int, groups: Int, mg: Int, cg: Int, taps: Int,
                             _ value: (Int, Int, Int) -> Float) -> FilterPanels {
        let view = FilterPanels(data: dst, nr: nr, tail: tail, groups: groups, mg: mg, cg: cg, taps: taps)
        dst.update(repeating: 0, count: view.count)
        for g in 0..<groups {
            for p in 0..<view.panels {
                let panel = UnsafeMutablePointer(mutating: view.panel(group: g, p)), width = view.width(p)
                for j in 0..<min(nr, mg - p * nr) {
                    let f = g * mg + p * nr + j
                    for t in 0..<taps { for ci in 0..<cg { panel[(t * cg + ci) * width + j] = value(f, ci, t) } }
                }
            }
        }
        return view
    }
}

/// Filter panels packed once at model load, owning their memory.
package final class PackedFilters: @unchecked Sendable {
    package let panels: FilterPanels

    package init(nr: Int, tail: Int, groups: Int, mg: Int, cg: Int, taps: Int, _ value: (Int, Int, Int) -> Float) {
        let data = allocateFloats(max(FilterPanels.count(nr: nr, tail: tail, groups: groups, mg: mg, cg: cg, taps: taps), 1))
        panels = FilterPanels.pack(into: data, nr: nr, tail: tail, groups: groups, mg: mg, cg: cg, taps: taps, value)
    }

    deinit { UnsafeMutablePointer(mutating: panels.data).deallocate() }
}
