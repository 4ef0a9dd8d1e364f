import Foundation
import KernelSupport

/// Activation arenas of one model, shared by all its plans. A plan for one thread
/// and a plan for two over the same input shape need the same arena, and only as
/// many arenas as runs in flight ever exist (an EfficientNet-Lite0 arena is 9 MB).
final class ArenaPool: @unchecked Sendable {
    private var free: [(pointer: UnsafeMutablePointer<Float>, count: Int)] = []
    private let lock = NSLock()

    /// An arena of at least `count` floats (contents undefined): the smallest free
    /// one that fits, else a new one. Give it back with `put`.
    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        lock.lock()
        defer { lock.unlock() }
        var best: Int? = nil
        for i in free.indices where free[i].count >= count && (best.map { free[i].count < free[$0].count } ?? true) { best = i }
        if let best { return free.remove(at: best).pointer }
        return allocateFloats(count)
    }

    /// Free arenas kept at most (the smallest go first): more runs than this are
    /// never in flight at once, and a model of many input shapes would otherwise
    /// keep an arena of every size it met.
    static let maxFree = 4

    /// Returns an arena `take(count)` gave out.
    func put(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        lock.lock()
        free.append((pointer, count))
        var dropped: [UnsafeMutablePointer<Float>] = []
        while free.count > Self.maxFree, let smallest = free.indices.min(by: { free[$0].count < free[$1].count }) {
            dropped.append(free.remove(at: smallest).pointer)
        }
        lock.unlock()
        for p in dropped { p.deallocate() }
    }

    deinit { for a in free { a.pointer.deallocate() } }
}
