// An inverted residual block (MobileNetV2, EfficientNet-Lite): the weights and
// shapes of its three convs, as prepared at load; the kernel sets run it.

/// The three convs of an inverted residual block on NHWC, weights as prepared at load.
package struct InvertedResidual {
    /// x [N, H, W, C] -> expanded [N, H, W, E]: a 1x1 conv (filters C x E).
    package var expand: FilterPanels
    /// Bias [E] and clamp of the expand conv.
    package var expandEpilogue: Epilogue
    /// The depthwise conv: batch N, h/w = H/W, c = m = E, oh/ow = OH/OW.
    package var depthwise: ConvShape
    /// Layout: [kh*kw][E].
    package var depthwiseWeights: UnsafePointer<Float>
    /// Bias [E] and clamp of the depthwise conv.
    package var depthwiseEpilogue: Epilogue
    /// [N, OH, OW, E] -> y [N, OH, OW, M]: a 1x1 conv (filters E x M).
    package var project: FilterPanels
    /// Bias [M], clamp, and the residual [N, OH, OW, M] (the whole tensor) or nil.
    package var projectEpilogue: Epilogue

    package init(expand: FilterPanels, expandEpilogue: Epilogue, depthwise: ConvShape, depthwiseWeights: UnsafePointer<Float>,
                 depthwiseEpilogue: Epilogue, project: FilterPanels, projectEpilogue: Epilogue) {
        self.expand = expand
        self.expandEpilogue = expandEpilogue
        self.depthwise = depthwise
        self.depthwiseWeights = depthwiseWeights
        self.depthwiseEpilogue = depthwiseEpilogue
        self.project = project
        self.projectEpilogue = projectEpilogue
    }
}
