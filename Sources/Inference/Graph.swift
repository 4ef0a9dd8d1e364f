/// An attribute value of a graph node (the subset of ONNX attribute types the engine reads).
public enum Attribute: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case tensor(Tensor)
}

/// One operation in the graph, as imported: op type, named inputs/outputs, attributes.
public struct Node: Sendable {
    public var opType: String
    public var name: String
    /// Value names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    /// Made by a graph pass from a pattern of the model's own ops (a GELU, a layer
    /// norm): its op type may be newer than the model's opset, or one only passes
    /// make. Never set for a node read from a file.
    var fused = false

    public init(opType: String, name: String, inputs: [String], outputs: [String], attributes: [String: Attribute] = [:]) {
        self.opType = opType
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// A node a pass makes (`fused`).
    static func fused(_ opType: String, name: String, inputs: [String], output: String, attributes: [String: Attribute] = [:]) -> Node {
        var n = Node(opType: opType, name: name, inputs: inputs, outputs: [output], attributes: attributes)
        n.fused = true
        return n
    }

    func int(_ key: String, _ fallback: Int) -> Int {
        if case .int(let v)? = attributes[key] { return v }
        return fallback
    }
    func float(_ key: String, _ fallback: Float) -> Float {
        if case .float(let v)? = attributes[key] { return v }
        return fallback
    }
    func ints(_ key: String) -> [Int]? {
        if case .ints(let v)? = attributes[key] { return v }
        return nil
    }
    func string(_ key: String, _ fallback: String) -> String {
        if case .string(let v)? = attributes[key] { return v }
        return fallback
    }
}

/// A graph input: its name and shape; nil dimensions are dynamic (e.g. batch).
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var shape: [Int?]
    public init(name: String, shape: [Int?]) { self.name = name; self.shape = shape }
}

/// A model graph as imported: nodes in topological order plus constant tensors.
/// The importer only builds this; optimisation and execution are separate passes.
public struct Graph: Sendable {
    public var nodes: [Node]
    /// Weights and other constants by value name.
    public var constants: [String: Tensor]
    /// Constants whose values a `Model` packed into kernel weights and then dropped
    /// from `constants`, so that a model's weights are held once: their shapes only.
    public var packedShapes: [String: [Int]] = [:]
    /// Inputs that must be fed (initializers excluded).
    public var inputs: [ValueInfo]
    public var outputs: [String]
    /// Default-domain opset version.
    public var opset: Int
    /// The model's metadata_props (key -> value): a recogniser's character list, a
    /// detector's class names.
    public var metadata: [String: String] = [:]

    public init(nodes: [Node], constants: [String: Tensor], inputs: [ValueInfo], outputs: [String], opset: Int) {
        self.nodes = nodes
        self.constants = constants
        self.inputs = inputs
        self.outputs = outputs
        self.opset = opset
    }

    /// True for a constant value, whether its data is still in `constants` or was packed.
    public func isConstant(_ name: String) -> Bool { constants[name] != nil || packedShapes[name] != nil }

    /// Number of weights (all constant tensors, packed ones included).
    public var parameterCount: Int {
        constants.values.reduce(0) { $0 + $1.count } + packedShapes.values.reduce(0) { $0 + $1.reduce(1, *) }
    }
}

/// Errors loading or running a model; each message names what is wrong.
public struct InferenceError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
