/// A packed 8-bit RGB image, rows top to bottom.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Layout: [height][width][3] (R, G, B), no row padding.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGB buffer size mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The pixel at column `x`, row `y`.
    public func pixel(_ x: Int, _ y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// This image turned clockwise by `degrees` (0, 90, 180 or 270).
    public func rotated(clockwise degrees: Int) -> RGBImage {
        let deg = ((degrees % 360) + 360) % 360
        if deg == 0 { return self }
        let (ow, oh) = deg == 180 ? (width, height) : (height, width)
        var out = [UInt8](repeating: 0, count: pixels.count)
        let w = width, h = height
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        // Destination (u, v) of source (x, y) under the rotation.
                        let (u, v): (Int, Int)
                        switch deg {
                        case 90: (u, v) = (h - 1 - y, x)
                        case 180: (u, v) = (w - 1 - x, h - 1 - y)
                        default: (u, v) = (y, w - 1 - x)
                        }
                        let s = (y * w + x) * 3, d = (v * ow + u) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }

    /// The image as a PNG file (8-bit RGB, deflate-compressed by libavcodec's encoder).
    public func pngData() throws -> [UInt8] { try ImageEncoder.png(self) }
}
