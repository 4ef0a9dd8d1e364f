import KernelSupport
import Foundation
import SwiftProtobuf

/// Opset range the importer accepts for the default ONNX domain.
public let supportedOpsets = 7...21

/// Builds a `Graph` from ONNX ModelProto bytes. Only translates: unsupported
/// ops, external data and tensors of other element types are reported, nothing is optimised.
public enum ONNXImporter {
    /// - Parameter checkOps: false lets `inspect-model` list unsupported ops instead of failing on the first.
    public static func load(contentsOf url: URL, checkOps: Bool = true) throws -> Graph {
        let data = try mapFile(url)
        do { return try load(data: data, checkOps: checkOps, mapped: true) } catch let e as InferenceError {
            throw InferenceError("\(url.path): \(e.message)")
        }
    }

    /// The file's bytes, memory-mapped: Foundation's `Data(contentsOf:)` reads (copies)
    /// the whole file on Linux even when asked to map, and a model file is tens of MB
    /// of fresh pages to fault in before parsing starts.
    public static func mapFile(_ url: URL) throws -> Data {
        func failure(_ code: Int32) -> InferenceError { InferenceError("\(url.path): cannot read: \(String(cString: strerror(code)))") }
        // stat before open: opening a FIFO blocks until a writer comes, and a device
        // may never end. O_NONBLOCK too, for a file swapped in between the two calls.
        var st = stat()
        guard stat(url.path, &st) == 0 else { throw failure(errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw InferenceError("\(url.path): not a regular file") }
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw failure(errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw InferenceError("\(url.path): not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { throw failure(errno) }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { p, n in munmap(p, n) })
    }

    public static func load(data: Data, checkOps: Bool = true) throws -> Graph {
        try load(data: data, checkOps: checkOps, mapped: false)
    }

    /// `mapped`: `data` is a private read-only file mapping (`mapFile`), whose pages
    /// may be dropped once read (never do that to heap memory: it would zero it).
    static func load(data: Data, checkOps: Bool, mapped: Bool) throws -> Graph {
        if data.isEmpty { throw InferenceError("not an ONNX model: file is empty") }
        return try data.withUnsafeBytes { try load(bytes: $0, data: data, checkOps: checkOps, mapped: mapped) }
    }

    private static func load(bytes: UnsafeRawBufferPointer, data: Data, checkOps: Bool, mapped: Bool) throws -> Graph {
        func parse(_ d: Data) throws -> Onnx_ModelProto {
            do { return try Onnx_ModelProto(serializedBytes: d) } catch {
                throw InferenceError("not an ONNX model (protobuf parse failed: \(error))")
            }
        }
        // The weights stay in `bytes` and are read from there (see RawDataSplit);
        // anything the split does not recognise is parsed whole.
        var split = RawDataSplit(bytes)
        var model = try parse(split?.message ?? data)
        if let s = split, s.rawData.count != model.graph.initializer.count {
            split = nil
            model = try parse(data)
        }
        guard model.hasGraph, model.graph.node.count > 0 || model.graph.output.count > 0 else {
            throw InferenceError("not an ONNX model: no graph")
        }
        guard let opset = model.opsetImport.first(where: { $0.domain == "" || $0.domain == "ai.onnx" })?.version else {
            throw InferenceError("model has no default-domain opset import")
        }
        guard supportedOpsets.contains(Int(opset)) else {
            throw InferenceError("opset \(opset) is not supported (supported: \(supportedOpsets.lowerBound)-\(supportedOpsets.upperBound))")
        }
        let g = model.graph
        var constants: [String: Tensor] = [:]
        for (k, t) in g.initializer.enumerated() {
            let range = split?.rawData[k]
            constants[t.name] = try tensor(from: t, raw: range.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) })
            if mapped, let range { dropPages(bytes, range) }
        }
        var nodes: [Node] = []
        for (i, n) in g.node.enumerated() {
            let name = n.name.isEmpty ? "\(n.opType)_\(i)" : n.name
            if !n.domain.isEmpty && n.domain != "ai.onnx" || n.opType.hasPrefix(internalOpPrefix) {
                throw InferenceError("unsupported op \(n.domain.isEmpty ? "" : n.domain + ".")\(n.opType) (node '\(name)', opset \(opset))")
            }
            if checkOps, supportedOps[n.opType].map({ Int(opset) < $0 }) ?? true {
                throw InferenceError("unsupported op \(n.opType) (node '\(name)', opset \(opset))")
            }
            var attrs: [String: Attribute] = [:]
            for a in n.attribute { attrs[a.name] = try attribute(a, node: name) }
            nodes.append(Node(opType: n.opType, name: name, inputs: n.input, outputs: n.output, attributes: attrs))
        }
        let inputs = try g.input.filter { constants[$0.name] == nil }.map { vi -> ValueInfo in
            guard vi.type.tensorType.elemType == 1 else {
                throw InferenceError("input '\(vi.name)' is not float32 (elem type \(vi.type.tensorType.elemType))")
            }
            let dims = vi.type.tensorType.shape.dim.map { d -> Int? in
                if case .dimValue(let v)? = d.value, v > 0 { return Int(v) }
                return nil
            }
            return ValueInfo(name: vi.name, shape: dims)
        }
        var graph = Graph(nodes: nodes, constants: constants, inputs: inputs, outputs: g.output.map(\.name), opset: Int(opset))
        // Metadata values are the file's own strings: bounded (1 MB each) so a hostile
        // file cannot make a model hold more than its own size in copies.
        for p in model.metadataProps where p.value.utf8.count <= 1 << 20 { graph.metadata[p.key] = p.value }
        return graph
    }

    static func attribute(_ a: Onnx_AttributeProto, node: String) throws -> Attribute {
        switch a.type {
        case .int: return .int(Int(a.i))
        case .float: return .float(a.f)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .ints: return .ints(a.ints.map { Int($0) })
        case .floats: return .floats(a.floats)
        case .tensor: return .tensor(try tensor(from: a.t))
        default:
            // Older exporters leave `type` unset; infer from which field is filled.
            if !a.ints.isEmpty { return .ints(a.ints.map { Int($0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            if a.hasT { return .tensor(try tensor(from: a.t)) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasF { return .float(a.f) }
            if a.hasI { return .int(Int(a.i)) }
            throw InferenceError("attribute '\(a.name)' of node '\(node)' has unsupported type \(a.type)")
        }
    }

    /// Gives back the mapped pages wholly inside `range` once their floats are copied,
    /// so a model's file is never resident beside its whole converted weights.
    private static func dropPages(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + range.lowerBound + page - 1) / page * page
        let end = (Int(bitPattern: base) + range.upperBound) / page * page
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, Int32(MADV_DONTNEED))
    }

    /// Converts a TensorProto: float32 stays float32; int64 and int32 (shapes, axes,
    /// indices) become int64, bool stays bool. `raw`: the tensor's raw_data
    /// when it was lifted out of the message (`RawDataSplit`); else `t.rawData`.
    static func tensor(from t: Onnx_TensorProto, raw external: UnsafeRawBufferPointer? = nil) throws -> Tensor {
        if t.dataLocation == .external {
            throw InferenceError("tensor '\(t.name)' uses external data, which is not supported: save the model with all weights inside the .onnx file")
        }
        guard t.dims.count <= Limits.maxRank, t.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Limits.maxElements) }) else {
            throw InferenceError("tensor '\(t.name)' has shape \(t.dims), which is not supported")
        }
        let shape = t.dims.map { Int($0) }
        let count = try elementCount(shape, "tensor '\(t.name)'")
        /// `raw_data` (little-endian) copied straight into an array of T: weights are most
        /// of a model file, and each intermediate array is another page-faulted copy.
        let rawCount = external?.count ?? t.rawData.count
        func raw<T>(_: T.Type) throws -> [T] {
            let size = MemoryLayout<T>.size
            guard rawCount == count * size else {
                throw InferenceError("tensor '\(t.name)' raw data has \(rawCount) bytes, expected \(count * size)")
            }
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if let external { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: external) } else { _ = t.rawData.copyBytes(to: buffer) }
                initialized = count
            }
        }
        func checked<T>(_ values: [T]) throws -> [T] {
            guard values.count == count else { throw InferenceError("tensor '\(t.name)' has \(values.count) values for shape \(shape)") }
            return values
        }
        switch t.dataType {
        case 1: // FLOAT
            #if _endian(big)
            return Tensor(shape: shape, data: try checked(rawCount == 0 ? t.floatData : try raw(UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) }))
            #else
            return Tensor(shape: shape, data: try checked(rawCount == 0 ? t.floatData : try raw(Float.self)))
            #endif
        case 7: // INT64
            return Tensor(shape: shape, integers: try checked(rawCount == 0 ? t.int64Data.map { Int($0) } : try raw(Int64.self).map { Int(Int64(littleEndian: $0)) }))
        case 6: // INT32
            return Tensor(shape: shape, integers: try checked(rawCount == 0 ? t.int32Data.map { Int($0) } : try raw(Int32.self).map { Int(Int32(littleEndian: $0)) }))
        case 9: // BOOL: one byte each in raw_data, int32_data otherwise
            return Tensor(shape: shape, integers: try checked(rawCount == 0 ? t.int32Data.map { Int($0) } : try raw(UInt8.self).map { Int($0) }), type: .bool)
        default:
            throw InferenceError("tensor '\(t.name)' has unsupported data type \(t.dataType) (only float32, int64, int32, bool)")
        }
    }
}
