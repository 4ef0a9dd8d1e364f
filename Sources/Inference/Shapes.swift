import KernelSupport

/// Numpy-style broadcast of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}
