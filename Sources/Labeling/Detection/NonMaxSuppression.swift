/// A box in pixels, x1 y1 (top left) to x2 y2, with a score.
struct ScoredBox {
    var x1: Float, y1: Float, x2: Float, y2: Float
    var score: Float
    /// What travels with the box (e.g. the net's regression offsets).
    var extra: [Float] = []
}

/// Greedy non-maximum suppression: boxes by falling score (ties: earlier first, so
/// the result never depends on sort stability), each dropping the later ones it
/// overlaps by more than `threshold`.
enum NonMaxSuppression {
    enum Overlap {
        /// Intersection over union, areas (x2-x1)*(y2-y1) (torchvision's `nms`).
        case union
        /// Intersection over the smaller box, areas (x2-x1+1)*(y2-y1+1) (MTCNN's last stage).
        case minimum
    }

    static func keep(_ boxes: [ScoredBox], threshold: Float, overlap: Overlap = .union) -> [ScoredBox] {
        let order = boxes.indices.sorted { boxes[$0].score != boxes[$1].score ? boxes[$0].score > boxes[$1].score : $0 < $1 }
        let one: Float = overlap == .minimum ? 1 : 0
        func area(_ b: ScoredBox) -> Float { (b.x2 - b.x1 + one) * (b.y2 - b.y1 + one) }
        var suppressed = [Bool](repeating: false, count: boxes.count)
        var kept: [ScoredBox] = []
        for (rank, i) in order.enumerated() where !suppressed[i] {
            let a = boxes[i]
            kept.append(a)
            for j in order[(rank + 1)...] where !suppressed[j] {
                let b = boxes[j]
                let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1) + one), h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1) + one)
                let inter = w * h
                let o = overlap == .minimum ? inter / min(area(a), area(b)) : inter / (area(a) + area(b) - inter)
                if o > threshold { suppressed[j] = true }
            }
        }
        return kept
    }
}
