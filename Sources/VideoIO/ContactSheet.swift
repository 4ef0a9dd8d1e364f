/// One picture of many frames: tiles in rows of `columns`, each with its time
/// stamped under it in a small bitmap font (no font files, no FreeType: the
/// digits, `:` and `.` are all a time stamp needs).
///
/// Tiles are kept as they arrive and composed once at the end, so memory grows
/// with the number of tiles; `capacity` bounds it (a 160x90 tile is 43 KB,
/// 1,000 tiles 43 MB) and `add` reports when a tile no longer fits.
public struct ContactSheet: Sendable {
    public let columns: Int
    public let tileWidth: Int
    public let tileHeight: Int
    /// The most tiles one sheet holds.
    public let capacity: Int
    /// Tile pictures in arrival order, each tileWidth x tileHeight RGB24.
    private var tiles: [RGBImage] = []
    private var captions: [String] = []

    /// Pixels per font dot: 1 for tiles under 240 px wide, 2 above.
    var scale: Int { tileWidth >= 240 ? 2 : 1 }
    /// The caption strip under each tile.
    var captionHeight: Int { (Glyphs.height + 4) * scale }
    /// Space between tiles and around the sheet.
    let gap = 4

    public init(columns: Int, tileWidth: Int, tileHeight: Int, capacity: Int = 1000) {
        precondition(columns > 0 && tileWidth > 0 && tileHeight > 0 && capacity > 0)
        self.columns = columns
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.capacity = capacity
    }

    public var count: Int { tiles.count }

    /// Adds a tile (scaled by the caller to tileWidth x tileHeight) with its caption.
    /// - Returns: false when the sheet is full (the tile is not added).
    @discardableResult
    public mutating func add(_ tile: RGBImage, caption: String) -> Bool {
        precondition(tile.width == tileWidth && tile.height == tileHeight, "tile size")
        guard tiles.count < capacity else { return false }
        tiles.append(tile)
        captions.append(caption)
        return true
    }

    /// The sheet's size for `n` tiles.
    public func size(tiles n: Int) -> (width: Int, height: Int) {
        let cols = max(1, min(columns, n))
        let rows = max(1, (n + columns - 1) / columns)
        return (gap + cols * (tileWidth + gap), gap + rows * (tileHeight + captionHeight + gap))
    }

    /// The composed sheet: a dark background, tiles left to right, top to bottom.
    public func render() -> RGBImage {
        let (w, h) = size(tiles: tiles.count)
        // [h][w][3] RGB24, row-major.
        var sheet = RGBImage(width: w, height: h, pixels: [UInt8](repeating: 24, count: w * h * 3))
        for (i, tile) in tiles.enumerated() {
            let x0 = gap + (i % columns) * (tileWidth + gap)
            let y0 = gap + (i / columns) * (tileHeight + captionHeight + gap)
            for y in 0..<tileHeight {
                let src = y * tileWidth * 3, dst = ((y0 + y) * w + x0) * 3
                sheet.pixels.replaceSubrange(dst..<dst + tileWidth * 3, with: tile.pixels[src..<src + tileWidth * 3])
            }
            draw(captions[i], into: &sheet, x: x0 + 2 * scale, y: y0 + tileHeight + 2 * scale)
        }
        return sheet
    }

    /// Draws `text` in light grey; characters the font lacks are left blank, and
    /// text wider than a tile is cut at the tile's edge.
    private func draw(_ text: String, into sheet: inout RGBImage, x: Int, y: Int) {
        var cx = x
        let right = x - 2 * scale + tileWidth
        for ch in text {
            if let rows = Glyphs.table[ch] {
                for (r, bits) in rows.enumerated() {
                    for c in 0..<Glyphs.width where bits & (1 << (Glyphs.width - 1 - c)) != 0 {
                        for dy in 0..<scale {
                            for dx in 0..<scale {
                                let px = cx + c * scale + dx, py = y + r * scale + dy
                                guard px < right, px < sheet.width, py < sheet.height else { continue }
                                let o = (py * sheet.width + px) * 3
                                sheet.pixels[o] = 230; sheet.pixels[o + 1] = 230; sheet.pixels[o + 2] = 230
                            }
                        }
                    }
                }
            }
            cx += (Glyphs.width + 1) * scale
        }
    }
}

/// A 5x7 dot font for time stamps: each glyph is 7 rows of 5 bits, high bit on the left.
enum Glyphs {
    static let width = 5
    static let height = 7
    static let table: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ":": [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
    ]
}
