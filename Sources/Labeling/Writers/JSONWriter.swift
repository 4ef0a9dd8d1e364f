import Foundation

/// JSON in the order a type declares its keys (Foundation's JSONEncoder either
/// sorts them or scatters them by hash): a report reads `schema_version`, `tool`,
/// `file`, `video`, `sampling`, `models`, `summary`, `segments`, `frames`, `errors`,
/// as the schema lists them. Dictionaries are written with sorted keys, so the
/// output is the same bytes on every run.
///
/// Numbers: integral doubles without a fraction (`2`, not `2.0`), others in
/// Swift's shortest round-trip form (`0.0601`, `1e-05`).
public enum JSONWriter {
    /// - Parameter pretty: two-space indentation, one key per line.
    public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let root = Box()
        try value.encode(to: NodeEncoder(box: root, codingPath: []))
        var out = ""
        write(root, pretty: pretty, indent: 0, into: &out)
        return out
    }

    enum Node {
        case null, bool(Bool), number(String), string(String)
        /// Items in `Box.items`.
        case array
        /// Keys in encoding order in `Box.pairs`; `sorted` for dictionaries.
        case object(sorted: Bool)
    }

    /// One value being built. Arrays and objects grow in place (appending to an
    /// enum payload would copy it on every element).
    final class Box {
        var node: Node? = nil
        var items: [Box] = []
        var pairs: [(String, Box)] = []
    }

    static func write(_ box: Box, pretty: Bool, indent: Int, into out: inout String) {
        let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
        let end = pretty ? "\n" + String(repeating: "  ", count: indent) : ""
        switch box.node ?? .null {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += quoted(s)
        case .array:
            if box.items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in box.items.enumerated() {
                out += (i > 0 ? "," : "") + (pretty ? "\n" + pad : "")
                write(item, pretty: pretty, indent: indent + 1, into: &out)
            }
            out += end + "]"
        case .object(let sorted):
            let entries = sorted ? box.pairs.sorted { $0.0 < $1.0 } : box.pairs
            if entries.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in entries.enumerated() {
                out += (i > 0 ? "," : "") + (pretty ? "\n" + pad : "") + quoted(key) + (pretty ? ": " : ":")
                write(value, pretty: pretty, indent: indent + 1, into: &out)
            }
            out += end + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value):
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func number(_ d: Double) throws -> String {
        guard d.isFinite else { throw EncodingError.invalidValue(d, .init(codingPath: [], debugDescription: "JSON has no \(d)")) }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}

private struct NodeEncoder: Encoder {
    let box: JSONWriter.Box
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // Swift's Dictionary encodes through a private key type; its order is a hash order.
        let isDictionary = String(describing: Key.self).contains("DictionaryCodingKey")
        if case .object = box.node {} else { box.node = .object(sorted: isDictionary) }
        return KeyedEncodingContainer(KeyedNode<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = box.node {} else { box.node = .array }
        return UnkeyedNode(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleNode(box: box, codingPath: codingPath) }
}

private func leaf<T: Encodable>(_ value: T, path: [CodingKey]) throws -> JSONWriter.Box {
    let b = JSONWriter.Box()
    switch value {
    case let v as Double: b.node = .number(try JSONWriter.number(v))
    case let v as Float: b.node = .number(try JSONWriter.number(Double(v)))
    case let v as String: b.node = .string(v)
    case let v as Bool: b.node = .bool(v)
    case let v as Int: b.node = .number(String(v))
    case let v as Int64: b.node = .number(String(v))
    case let v as Int32: b.node = .number(String(v))
    case let v as UInt64: b.node = .number(String(v))
    default: try value.encode(to: NodeEncoder(box: b, codingPath: path))
    }
    return b
}

private struct KeyedNode<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: JSONWriter.Box
    let codingPath: [CodingKey]

    func append(_ key: Key, _ child: JSONWriter.Box) {
        box.pairs.append((key.stringValue, child))
    }

    mutating func encodeNil(forKey key: Key) throws {
        let b = JSONWriter.Box()
        b.node = .null
        append(key, b)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { append(key, try leaf(value, path: codingPath + [key])) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let b = JSONWriter.Box()
        append(key, b)
        return NodeEncoder(box: b, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let b = JSONWriter.Box()
        append(key, b)
        return NodeEncoder(box: b, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder { NodeEncoder(box: box, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder {
        let b = JSONWriter.Box()
        append(key, b)
        return NodeEncoder(box: b, codingPath: codingPath + [key])
    }
}

private struct UnkeyedNode: UnkeyedEncodingContainer {
    let box: JSONWriter.Box
    let codingPath: [CodingKey]
    var count: Int { box.items.count }

    func append(_ child: JSONWriter.Box) { box.items.append(child) }

    mutating func encodeNil() throws {
        let b = JSONWriter.Box()
        b.node = .null
        append(b)
    }

    mutating func encode<T: Encodable>(_ value: T) throws { append(try leaf(value, path: codingPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let b = JSONWriter.Box()
        append(b)
        return NodeEncoder(box: b, codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let b = JSONWriter.Box()
        append(b)
        return NodeEncoder(box: b, codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
        let b = JSONWriter.Box()
        append(b)
        return NodeEncoder(box: b, codingPath: codingPath)
    }
}

private struct SingleNode: SingleValueEncodingContainer {
    let box: JSONWriter.Box
    let codingPath: [CodingKey]
    mutating func encodeNil() throws { box.node = .null }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let b = try leaf(value, path: codingPath)
        (box.node, box.items, box.pairs) = (b.node, b.items, b.pairs)
    }
}
