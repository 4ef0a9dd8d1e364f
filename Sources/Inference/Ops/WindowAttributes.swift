import KernelSupport

/// The window attributes Conv and the pooling ops share (kernel_shape, strides,
/// dilations, pads, auto_pad, ceil_mode), read and range-checked once at load.
/// Every value is bounded by `Limits.maxWindow`, so no window arithmetic on them
/// can overflow.
struct WindowAttributes {
    let kernelShape: [Int]?
    let strides: [Int]
    let dilations: [Int]
    let pads: [Int]
    let autoPad: String
    let ceilMode: Bool

    init(_ a: Attributes, kernelRequired: Bool) throws {
        let w = Limits.maxWindow
        kernelShape = try a.ints("kernel_shape", count: 2, in: 1...w)
        if kernelRequired && kernelShape == nil { throw a.fail("attribute 'kernel_shape' is required (2 values: only 2-D windows are supported)") }
        strides = try a.ints("strides", count: 2, in: 1...w) ?? [1, 1]
        dilations = try a.ints("dilations", count: 2, in: 1...w) ?? [1, 1]
        pads = try a.ints("pads", count: 4, in: 0...w) ?? [0, 0, 0, 0]
        autoPad = try a.string("auto_pad", "NOTSET", oneOf: ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
        ceilMode = try a.int("ceil_mode", 0, in: 0...1) != 0
    }

    /// The resolved window for a kernel of `kernel` over an input of inH x inW.
    func window(kernel: (Int, Int), inH: Int, inW: Int) -> Window2D {
        var p = pads
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            func same(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let out = (size + s - 1) / s
                let total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (pt, pb) = same(inH, kernel.0, strides[0], dilations[0])
            let (pl, pr) = same(inW, kernel.1, strides[1], dilations[1])
            p = [pt, pl, pb, pr]
        } else if autoPad == "VALID" {
            p = [0, 0, 0, 0]
        }
        return Window2D(kernel: kernel, stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]),
                        pads: (p[0], p[1], p[2], p[3]), ceilMode: ceilMode)
    }

    /// The window over a 4-D NCHW input, and its non-empty output size.
    /// - Throws: when the input is not 4-D with positive sizes or the output would be empty.
    func resolve(kernel: (Int, Int), input x: [Int], _ a: Attributes) throws -> (Window2D, oh: Int, ow: Int) {
        guard x.count == 4, x.allSatisfy({ $0 > 0 }) else { throw a.fail("only 2-D windows over 4-D NCHW input are supported, input \(x)") }
        guard x[2] <= Limits.maxElements, x[3] <= Limits.maxElements else { throw a.fail("input \(x) is too large") }
        let win = window(kernel: kernel, inH: x[2], inW: x[3])
        let (oh, ow) = win.output(x[2], x[3])
        guard oh > 0, ow > 0 else { throw a.fail("the window \(kernel.0)x\(kernel.1) leaves no output for input \(x)") }
        return (win, oh, ow)
    }
}
