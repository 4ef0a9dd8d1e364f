import Foundation

/// Any JSON value, kept exactly as written (true is not 1, 1 is not "1"), for
/// inputs that are checked key by key with messages a person can act on:
/// policies, worker requests.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Parses `data`. - Throws: `JSONSyntaxError` with a one-line reason (no Foundation error dump).
    public static func parse(_ data: Data) throws -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw JSONSyntaxError(reason: Self.reason(error))
        }
    }

    /// Where the JSON is broken, from the decoder's underlying error ("Unexpected character
    /// 'n' around line 1, column 2."), or a plain "not valid JSON".
    static func reason(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error,
           let underlying = context.underlyingError as NSError?,
           let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String, !detail.isEmpty {
            return "not valid JSON: " + detail.split(separator: "\n").joined(separator: " ")
        }
        return "not valid JSON"
    }

    /// The JSON type's name, for "expected a number, got a string".
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "true/false"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// Malformed JSON, with where and why.
public struct JSONSyntaxError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
