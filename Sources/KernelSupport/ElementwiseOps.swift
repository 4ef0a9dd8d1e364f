// What the element-wise kernels compute: plain values an op builds once per plan.

/// An element-wise function a kernel applies as it stores (fused into a Conv or
/// dense layer's write-back) or on its own.
package struct Activation: Sendable, Equatable {
    package enum Kind: UInt8, Sendable {
        /// x.
        case none
        /// 1 / (1 + exp(-x)).
        case sigmoid
        /// x * sigmoid(x) (SiLU, Swish).
        case silu
        /// clamp(alpha * x + beta, 0, 1).
        case hardSigmoid
        /// x * hardSigmoid(x).
        case hardSwish
        /// 0.5 x (1 + erf(x / sqrt 2)) (the exact GELU, not the tanh form).
        case gelu
        /// erf(x).
        case erf
        /// sqrt(x).
        case sqrt
        /// exp(x).
        case exp
    }
    package var kind: Kind
    package var alpha: Float
    package var beta: Float

    package init(_ kind: Kind, alpha: Float = 0, beta: Float = 0) {
        self.kind = kind
        self.alpha = alpha
        self.beta = beta
    }

    package static let none = Activation(.none)
}

/// A binary element-wise operation (ONNX Add, Sub, Mul, Div, Pow, Max, Min).
package enum BinaryOp: UInt8, Sendable {
    case add, sub, mul, div, pow, max, min
}

/// One output coordinate of a resize along one axis: it reads input positions i0
/// and i1 weighted 1 - w and w (nearest: i1 == i0, w 0).
package struct ResizeTap: Sendable, Equatable {
    package var i0: Int
    package var i1: Int
    package var w: Float

    package init(_ i0: Int, _ i1: Int, _ w: Float) {
        self.i0 = i0
        self.i1 = i1
        self.w = w
    }
}
