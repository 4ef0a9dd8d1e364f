import Foundation

/// Float buffers kept for reuse, handed out best fit: a small request taking a
/// big buffer would make the next big request allocate (and page-fault) a fresh
/// one. Kernels' scratch space and plans' activation arenas both live in one.
package final class FloatBufferPool: @unchecked Sendable {
    /// A buffer and the floats it holds (at least what was asked for).
    package struct Buffer {
        package let pointer: UnsafeMutablePointer<Float>
        package let capacity: Int
    }

    private var free: [Buffer] = []
    private let lock = NSLock()
    /// Free buffers kept at most (the smallest go first); nil: all of them.
    private let maxFree: Int?

    package init(maxFree: Int? = nil) { self.maxFree = maxFree }

    /// A buffer of at least `count` floats (contents undefined): the smallest free
    /// one that fits, else a new one. Give it back with `put`.
    package func take(_ count: Int) -> Buffer {
        lock.lock()
        defer { lock.unlock() }
        var best: Int? = nil
        for i in free.indices where free[i].capacity >= count && (best.map { free[i].capacity < free[$0].capacity } ?? true) { best = i }
        if let best { return free.remove(at: best) }
        return Buffer(pointer: allocateFloats(max(count, 1)), capacity: count)
    }

    /// Returns a buffer `take` gave out.
    package func put(_ buffer: Buffer) {
        lock.lock()
        free.append(buffer)
        var dropped: [UnsafeMutablePointer<Float>] = []
        while let maxFree, free.count > maxFree, let smallest = free.indices.min(by: { free[$0].capacity < free[$1].capacity }) {
            dropped.append(free.remove(at: smallest).pointer)
        }
        lock.unlock()
        for p in dropped { p.deallocate() }
    }

    deinit { for b in free { b.pointer.deallocate() } }
}
