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

    /// The image encoded as a PNG file (8-bit RGB, uncompressed deflate blocks:
    /// these are for people to look at, not for storage).
    public func pngData() -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0) // filter: none
            raw.append(contentsOf: pixels[(y * width * 3)..<((y + 1) * width * 3)])
        }
        // zlib stream made of stored (uncompressed) deflate blocks.
        var z: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            z.append(final)
            z.append(UInt8(n & 0xff)); z.append(UInt8(n >> 8))
            z.append(UInt8(~n & 0xff)); z.append(UInt8((~n >> 8) & 0xff))
            z.append(contentsOf: raw[offset..<(offset + n)])
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        z.append(contentsOf: be32((b << 16) | a))

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            let t = Array(type.utf8)
            png.append(contentsOf: be32(UInt32(data.count)))
            png.append(contentsOf: t)
            png.append(contentsOf: data)
            png.append(contentsOf: be32(crc32(t + data)))
        }
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0])
        chunk("IDAT", z)
        chunk("IEND", [])
        return png
    }
}

private func be32(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
}

private let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
    return c
}

private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xffffffff
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
    return c ^ 0xffffffff
}
