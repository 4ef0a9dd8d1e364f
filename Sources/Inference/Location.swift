import KernelSupport
import Foundation

extension Location {
    func pointer(_ arena: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        switch self {
        case .arena(let o): return arena + o
        case .constant(let p): return p
        }
    }
}
