import Foundation

/// A ModelProto with its initializers' `raw_data` lifted out before parsing.
///
/// swift-protobuf copies every bytes field it decodes, so parsing a model as it is
/// holds its weights twice (the mapped file and the message) before a single
/// float is converted. The weights are instead located with a walk over the wire
/// format and read straight from the mapped file; only the rest (nodes, names,
/// small attributes) is parsed.
struct RawDataSplit {
    /// The ModelProto bytes without any initializer's raw_data field.
    let message: Data
    /// Per initializer, in the order the parsed graph lists them: the byte range of
    /// its raw_data in the original buffer (nil: it had none).
    let rawData: [Range<Int>?]

    /// Field numbers in onnx.proto: ModelProto.graph, GraphProto.initializer, TensorProto.raw_data.
    private static let (graphField, initializerField, rawDataField) = (7, 5, 9)

    /// nil when the bytes are not a well-formed protobuf of the expected shape (groups,
    /// truncated fields): the caller then parses them as they are, and swift-protobuf
    /// gives its own error.
    init?(_ buffer: UnsafeRawBufferPointer) {
        var ranges: [Range<Int>?] = []
        var out: [UInt8] = []
        out.reserveCapacity(min(buffer.count, 1 << 20))
        /// Copies the fields of buffer[range] to `out`; `rewrite` may replace a
        /// length-delimited field's body (true) or leave it to be copied (false).
        func walk(_ range: Range<Int>, _ rewrite: (_ field: Int, _ body: Range<Int>, _ tag: Range<Int>) -> Bool?) -> Bool {
            var i = range.lowerBound
            while i < range.upperBound {
                let start = i
                guard let tag = Self.varint(buffer, &i, range.upperBound), tag >> 3 != 0 else { return false }
                let field = Int(truncatingIfNeeded: tag >> 3), tagEnd = i
                switch tag & 7 {
                case 0: guard Self.varint(buffer, &i, range.upperBound) != nil else { return false }
                case 1: guard range.upperBound - i >= 8 else { return false }; i += 8
                case 5: guard range.upperBound - i >= 4 else { return false }; i += 4
                case 2:
                    guard let n = Self.varint(buffer, &i, range.upperBound), n <= UInt64(range.upperBound - i) else { return false }
                    let body = i..<(i + Int(n))
                    i = body.upperBound
                    switch rewrite(field, body, start..<tagEnd) {
                    case true?: continue
                    case false?: break
                    case nil: return false
                    }
                default: return false  // groups: not in ONNX files
                }
                out.append(contentsOf: buffer[start..<i])
            }
            return true
        }
        /// Writes a length-delimited field whose body `inner` writes, the length re-encoded.
        func nested(_ tag: Range<Int>, _ inner: () -> Bool) -> Bool? {
            out.append(contentsOf: buffer[tag])
            let lengthAt = out.count
            guard inner() else { return nil }
            let body = Array(out[lengthAt...])
            out.removeSubrange(lengthAt...)
            var n = UInt64(body.count)
            repeat { out.append(UInt8(n & 0x7F) | (n > 0x7F ? 0x80 : 0)); n >>= 7 } while n > 0
            out.append(contentsOf: body)
            return true
        }
        let ok = walk(0..<buffer.count) { field, body, tag in
            guard field == Self.graphField else { return false }
            return nested(tag) {
                walk(body) { field, body, tag in
                    guard field == Self.initializerField else { return false }
                    var raw: Range<Int>? = nil
                    defer { ranges.append(raw) }
                    return nested(tag) {
                        walk(body) { field, body, _ in
                            guard field == Self.rawDataField else { return false }
                            raw = body  // a repeated field: the last one wins, as in protobuf
                            return true
                        }
                    }
                }
            }
        }
        guard ok else { return nil }
        message = Data(out)
        rawData = ranges
    }

    /// Reads a base-128 varint at `i` (advancing it), nil when truncated or over 10 bytes.
    private static func varint(_ b: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int) -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard i < end else { return nil }
            let byte = b[i]
            i += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}
