/// The right-hand GEMM operand (filters) in panels of `nr` columns, `nr` being the
/// register tile width of the kernel set that packed them (16 for AVX2 and the
/// portable set's 8, 32 for AVX-512): each set packs its own at load.
/// Layout of `data`: [groups][panels][taps][cg][nr]: panel p holds columns
/// nr*p..<nr*(p+1) of its group side by side for every K index (tap, input
/// channel); columns past the end are zero.
package struct FilterPanels {
    package let data: UnsafePointer<Float>
    /// Columns per panel.
    package let nr: Int
    package let groups: Int
    /// Columns (filters) per group.
    package let mg: Int
    /// Input channels per group.
    package let cg: Int
    /// Window taps (kh * kw); 1 for a plain matrix product.
    package let taps: Int

    /// Panels per group.
    package var panels: Int { (mg + nr - 1) / nr }
    /// Floats in one panel: K (= taps * cg) rows of nr.
    package var panelSize: Int { taps * cg * nr }
    /// Floats in all panels.
    package var count: Int { groups * panels * panelSize }

    package func panel(group: Int, _ p: Int) -> UnsafePointer<Float> { data + (group * panels + p) * panelSize }

    /// Floats `pack` fills for these sizes.
    package static func count(nr: Int, groups: Int, mg: Int, cg: Int, taps: Int) -> Int {
        groups * ((mg + nr - 1) / nr) * taps * cg * nr
    }

    /// Fills `dst` (`count` floats) with `value(f, ci, tap)`: column f (0..<groups*mg),
    /// input channel ci of its group, tap.
    package static func pack(into dst: UnsafeMutablePointer<Float>, nr: Int, groups: Int, mg: Int, cg: Int, taps: Int,
                             _ value: (Int, Int, Int) -> Float) -> FilterPanels {
        let view = FilterPanels(data: dst, nr: nr, groups: groups, mg: mg, cg: cg, taps: taps)
        dst.update(repeating: 0, count: view.count)
        for g in 0..<groups {
            for p in 0..<view.panels {
                let panel = dst + (g * view.panels + p) * view.panelSize
                for j in 0..<min(nr, mg - p * nr) {
                    let f = g * mg + p * nr + j
                    for t in 0..<taps { for ci in 0..<cg { panel[(t * cg + ci) * nr + j] = value(f, ci, t) } }
                }
            }
        }
        return view
    }
}

/// Filter panels packed once at model load, owning their memory.
package final class PackedFilters: @unchecked Sendable {
    package let panels: FilterPanels

    package init(nr: Int, groups: Int, mg: Int, cg: Int, taps: Int, _ value: (Int, Int, Int) -> Float) {
        let data = allocateFloats(max(FilterPanels.count(nr: nr, groups: groups, mg: mg, cg: cg, taps: taps), 1))
        panels = FilterPanels.pack(into: data, nr: nr, groups: groups, mg: mg, cg: cg, taps: taps, value)
    }

    deinit { UnsafeMutablePointer(mutating: panels.data).deallocate() }
}
