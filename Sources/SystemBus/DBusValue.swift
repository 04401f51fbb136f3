/// One D-Bus value with its type: what a method call carries and a reply returns. The builders
/// (``dictionary(_:)``, ``stringArray(_:)``) and accessors (``stringValue``, ``subscript(key:)``)
/// keep callers (NetworkManager's settings, networkd's calls) free of signature bookkeeping.
public indirect enum DBusValue: Hashable, Sendable {
    case byte(UInt8)
    case boolean(Bool)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case string(String)
    case objectPath(String)
    case signature(String)
    case unixFD(UInt32)
    case variant(DBusValue)
    /// The element type is kept so an empty array still has its signature.
    case array(DBusType, [DBusValue])
    case structure([DBusValue])
    case dictEntry(DBusValue, DBusValue)

    public var type: DBusType {
        switch self {
        case .byte: .byte
        case .boolean: .boolean
        case .int16: .int16
        case .uint16: .uint16
        case .int32: .int32
        case .uint32: .uint32
        case .int64: .int64
        case .uint64: .uint64
        case .double: .double
        case .string: .string
        case .objectPath: .objectPath
        case .signature: .signature
        case .unixFD: .unixFD
        case .variant: .variant
        case let .array(element, _): .array(element)
        case let .structure(fields): .structure(fields.map(\.type))
        case let .dictEntry(key, value): .dictEntry(key: key.type, value: value.type)
        }
    }

    /// `a{sv}` from names and values (each wrapped in a variant), in the given order.
    public static func dictionary(_ entries: [(String, DBusValue)]) -> DBusValue {
        .array(.dictEntry(key: .string, value: .variant), entries.map { .dictEntry(.string($0.0), .variant($0.1)) })
    }

    /// `a{sa{sv}}`: NetworkManager's connection settings (setting name -> property -> value).
    public static func settings(_ sections: [(String, [(String, DBusValue)])]) -> DBusValue {
        .array(.dictEntry(key: .string, value: .array(.dictEntry(key: .string, value: .variant))),
               sections.map { .dictEntry(.string($0.0), dictionary($0.1)) })
    }

    public static func stringArray(_ strings: [String]) -> DBusValue {
        .array(.string, strings.map { .string($0) })
    }

    /// The string of a `s`, `o` or `g` (through variants).
    public var stringValue: String? {
        switch self {
        case let .string(s), let .objectPath(s), let .signature(s): s
        case let .variant(inner): inner.stringValue
        default: nil
        }
    }

    /// An unsigned number of any width (through variants).
    public var unsignedValue: UInt64? {
        switch self {
        case let .byte(v): UInt64(v)
        case let .uint16(v): UInt64(v)
        case let .uint32(v): UInt64(v)
        case let .uint64(v): v
        case let .variant(inner): inner.unsignedValue
        default: nil
        }
    }

    public var boolValue: Bool? {
        switch self {
        case let .boolean(b): b
        case let .variant(inner): inner.boolValue
        default: nil
        }
    }

    /// The elements of an array (through variants).
    public var elements: [DBusValue]? {
        switch self {
        case let .array(_, values): values
        case let .variant(inner): inner.elements
        default: nil
        }
    }

    /// The value under a string key of a dictionary (`a{s…}`), variants unwrapped.
    public subscript(key key: String) -> DBusValue? {
        guard let entries = elements else { return nil }
        for case let .dictEntry(k, v) in entries where k.stringValue == key {
            if case let .variant(inner) = v { return inner }
            return v
        }
        return nil
    }
}
