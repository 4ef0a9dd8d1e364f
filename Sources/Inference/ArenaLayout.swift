/// Where a plan's values live in its one arena: each storage is defined by a step,
/// read up to its last use, and its slot is reused by storages defined after that
/// (best fit among freed slots, neighbours merged). Aliases (Reshape, a layout
/// view of one pixel) share their source's storage.
struct ArenaLayout {
    private var storageOf: [String: Int] = [:]
    private var size: [Int] = []
    private var lastUse: [Int] = []
    private var defined: [Int] = []
    /// The value each storage was made for (aliases share it without being its owner).
    private var owner: [String] = []
    private var offsets: [Int] = []

    /// A new storage of `count` floats for `name`, written by step `step` (-1: a graph input).
    mutating func define(_ name: String, _ count: Int, at step: Int) {
        storageOf[name] = size.count
        owner.append(name)
        size.append(count)
        lastUse.append(step)
        defined.append(step)
    }

    /// `name` is `other`'s storage under another name.
    mutating func share(_ name: String, with other: String) { storageOf[name] = storageOf[other] }

    /// Step `step` reads `name` (nothing for constants, which have no storage here).
    mutating func use(_ name: String, at step: Int) {
        if let s = storageOf[name] { lastUse[s] = max(lastUse[s], step) }
    }

    func has(_ name: String) -> Bool { storageOf[name] != nil }

    /// True when `name` has storage made for it (not an alias of another value's).
    func owns(_ name: String) -> Bool { storageOf[name].map { owner[$0] == name } == true }

    /// Assigns offsets. Returns the arena's size in floats.
    /// - Throws: when it would exceed `Limits.maxArenaFloats`.
    mutating func place(inputShapes: [[Int]]) throws -> Int {
        offsets = [Int](repeating: 0, count: size.count)
        // Free slots sorted by offset, neighbours merged as they are freed: unmerged, a
        // slot freed beside another stayed two too-small pieces, and PP-OCR det's arena
        // was 75 MB instead of 63 (rec 10.4 -> 6.0 MB, YOLOv8n 6.6 -> 4.1).
        var free: [(offset: Int, size: Int)] = []
        var top = 0
        func release(_ offset: Int, _ n: Int) {
            let i = free.firstIndex { $0.offset > offset } ?? free.count
            free.insert((offset, n), at: i)
            if i + 1 < free.count && free[i].offset + free[i].size == free[i + 1].offset {
                free[i].size += free[i + 1].size
                free.remove(at: i + 1)
            }
            if i > 0 && free[i - 1].offset + free[i - 1].size == free[i].offset {
                free[i - 1].size += free[i].size
                free.remove(at: i)
            }
        }
        let order = size.indices.sorted { (defined[$0], $0) < (defined[$1], $1) }
        var live: [Int] = []
        for s in order {
            // Release storages whose last use is before this one's definition.
            live.removeAll { other in
                if lastUse[other] < defined[s] { release(offsets[other], Plan.rounded(size[other])); return true }
                return false
            }
            let need = Plan.rounded(size[s])
            // Best fit; else the free slot at the end grows; else a new slot at the end.
            if let k = free.indices.filter({ free[$0].size >= need }).min(by: { free[$0].size < free[$1].size }) {
                offsets[s] = free[k].offset
                if free[k].size > need { free[k] = (free[k].offset + need, free[k].size - need) } else { free.remove(at: k) }
            } else if let lastFree = free.last, lastFree.offset + lastFree.size == top {
                offsets[s] = lastFree.offset
                top = lastFree.offset + need
                free.removeLast()
            } else {
                offsets[s] = top
                top += need
            }
            guard top <= Limits.maxArenaFloats else {
                throw InferenceError("the plan for input \(inputShapes) needs more than \(Limits.maxArenaFloats * 4 >> 20) MiB of activations")
            }
            live.append(s)
        }
        return max(top, 1)
    }

    /// The offset of `name`'s storage (after `place`), nil for a value without storage (a constant).
    func offset(_ name: String) -> Int? { storageOf[name].map { offsets[$0] } }
}
