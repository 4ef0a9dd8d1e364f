import KernelSupport

/// Three consecutive Conv nodes of a plan that may form an inverted residual block.
struct InvertedResidualNodes {
    let convs: [ConvOp]
    let prepared: [PreparedWeights?]
    /// Input shapes (NCHW as ONNX states them) of the three convs, then the project's output shape.
    let shapes: [[Int]]
    /// Clamp bounds fused into each conv.
    let fused: [(lo: Float, hi: Float)]

    /// The block and its FLOPs, or nil when the convs are not 1x1 -> depthwise -> 1x1
    /// (ungrouped 1x1 convs without stride or padding, 4-D shapes).
    func build() throws -> (block: InvertedResidual, flops: Double)? {
        guard convs.count == 3, shapes.allSatisfy({ $0.count == 4 }),
              let p0 = prepared[0], let p1 = prepared[1], let p2 = prepared[2],
              case .conv(let expand) = p0.kind, case .depthwise(let dwWeights) = p1.kind, case .conv(let project) = p2.kind,
              expand.panels.groups == 1, expand.panels.taps == 1, project.panels.groups == 1, project.panels.taps == 1
        else { return nil }
        let x = shapes[0], ex = shapes[1], dx = shapes[2], out = shapes[3]
        // Only where the expanded tensor outgrows L2 (1 MB per core on the machines we
        // measure): smaller blocks already run from cache as three ops, and bands
        // would only add per-call overhead (measured: ~3% slower at 14x14).
        guard ex[1] * ex[2] * ex[3] * 4 >= 1 << 20 else { return nil }
        let one = Window2D(kernel: (1, 1))
        guard convs[0].window.window(kernel: (1, 1), inH: x[2], inW: x[3]) == one,
              convs[2].window.window(kernel: (1, 1), inH: dx[2], inW: dx[3]) == one,
              ex[2...3] == x[2...3], out[2...3] == dx[2...3] else { return nil }
        let win = convs[1].window.window(kernel: (p1.weightShape[2], p1.weightShape[3]), inH: ex[2], inW: ex[3])
        let dw = ConvShape(batch: x[0], h: ex[2], w: ex[3], c: ex[1], oh: dx[2], ow: dx[3], m: dx[1], win: win)
        let block = InvertedResidual(
            expand: expand.panels, expandEpilogue: Epilogue(bias: p0.bias.map { UnsafePointer($0) }, lo: fused[0].lo, hi: fused[0].hi),
            depthwise: dw, depthwiseWeights: dwWeights,
            depthwiseEpilogue: Epilogue(bias: p1.bias.map { UnsafePointer($0) }, lo: fused[1].lo, hi: fused[1].hi),
            project: project.panels, projectEpilogue: Epilogue(bias: p2.bias.map { UnsafePointer($0) }, lo: fused[2].lo, hi: fused[2].hi))
        let taps = win.kernel.h * win.kernel.w
        let flops = 2.0 * Double(x[0]) * Double(x[2] * x[3] * x[1] * ex[1] + dx[2] * dx[3] * ex[1] * (taps + out[1]))
        return (block, flops)
    }
}
