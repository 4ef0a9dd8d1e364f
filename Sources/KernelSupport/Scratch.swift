import Foundation

/// Reusable scratch buffers for kernels (packed B panels, padded planes).
/// Freshly allocated large blocks come from mmap and page-fault on first touch
/// every call; recycling them keeps steady-state runs allocation-free.
package enum Scratch {
    private static let pool = FloatBufferPool()

    /// Runs `body` with a buffer of at least `count` floats (contents undefined).
    package static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = pool.take(count)
        defer { pool.put(buffer) }
        return try body(buffer.pointer)
    }
}

/// Float buffers for kernels start on a cache line: an 8-float vector load from a
/// 16-byte-aligned malloc block would straddle two lines every other time.
/// Free with `deallocate()` as usual.
///
/// Blocks of 2 MB and more (arenas, packed filters) are 2 MB aligned, and their
/// whole 2 MB pages are asked to be backed by transparent huge pages where the
/// kernel only grants them on request (THP "madvise" mode, as here): conv rows
/// and filter panels spread over many 4 KB pages otherwise cost TLB misses. The
/// tail past the last whole 2 MB stays in 4 KB pages: a huge page there would be
/// resident in full, and rounding every block up cost `scan` 28 MB of RSS.
package func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let bytes = count * MemoryLayout<Float>.stride
    let huge = 2 << 20
    guard bytes >= huge else {
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: count)
    }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge)
    #if os(Linux)
    _ = madvise(raw, bytes / huge * huge, MADV_HUGEPAGE)
    #endif
    return raw.bindMemory(to: Float.self, capacity: count)
}
