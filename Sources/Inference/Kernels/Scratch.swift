import Foundation

/// Reusable scratch buffers for kernels (packed B panels, padded planes).
/// Freshly allocated large blocks come from mmap and page-fault on first touch
/// every call; recycling them keeps steady-state runs allocation-free.
enum Scratch {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pool: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    /// Runs `body` with a buffer of at least `count` floats (contents undefined).
    static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        lock.lock()
        var buffer: (pointer: UnsafeMutablePointer<Float>, capacity: Int)
        if let i = pool.firstIndex(where: { $0.capacity >= count }) {
            buffer = pool.remove(at: i)
        } else {
            buffer = (.allocate(capacity: count), count)
        }
        lock.unlock()
        defer {
            lock.lock()
            pool.append(buffer)
            lock.unlock()
        }
        return try body(buffer.pointer)
    }
}
