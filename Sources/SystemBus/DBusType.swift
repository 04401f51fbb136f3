/// A D-Bus type, as a signature spells it (docs/PROTOCOL.md §7.20, "D-Bus"): what the encoder
/// aligns and writes, and what the decoder expects, so a value is never read as something the
/// signature did not say.
public indirect enum DBusType: Hashable, Sendable, CustomStringConvertible {
    case byte, boolean, int16, uint16, int32, uint32, int64, uint64, double
    case string, objectPath, signature
    case unixFD
    case variant
    case array(DBusType)
    case structure([DBusType])
    /// Only as an array's element (`a{sv}`): the spec allows it nowhere else.
    case dictEntry(key: DBusType, value: DBusType)

    /// The signature text, `a{sv}`.
    public var description: String {
        switch self {
        case .byte: "y"
        case .boolean: "b"
        case .int16: "n"
        case .uint16: "q"
        case .int32: "i"
        case .uint32: "u"
        case .int64: "x"
        case .uint64: "t"
        case .double: "d"
        case .string: "s"
        case .objectPath: "o"
        case .signature: "g"
        case .unixFD: "h"
        case .variant: "v"
        case let .array(element): "a" + element.description
        case let .structure(fields): "(" + fields.map(\.description).joined() + ")"
        case let .dictEntry(key, value): "{" + key.description + value.description + "}"
        }
    }

    /// Where a value of this type starts: the spec's alignment, in bytes.
    var alignment: Int {
        switch self {
        case .byte, .signature, .variant: 1
        case .int16, .uint16: 2
        case .boolean, .int32, .uint32, .unixFD, .string, .objectPath, .array: 4
        case .int64, .uint64, .double, .structure, .dictEntry: 8
        }
    }

    var isBasic: Bool {
        switch self {
        case .variant, .array, .structure, .dictEntry: false
        default: true
        }
    }

    /// The spec's limits: a signature is at most 255 bytes and nests arrays and structures at most
    /// 32 deep each.
    static let maximumSignatureLength = 255
    static let maximumNesting = 32

    /// Parses a signature (a sequence of complete types, e.g. a method's `sa{sv}`); nil when it is
    /// not valid — too long, too deep, a dict entry outside an array, a non-basic key, an
    /// unknown code.
    public static func parse(signature text: String) -> [DBusType]? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maximumSignatureLength else { return nil }
        var index = 0
        var types: [DBusType] = []
        while index < bytes.count {
            guard let type = parseOne(bytes, &index, arrays: 0, structures: 0, inArray: false) else { return nil }
            types.append(type)
        }
        return types
    }

    private static func parseOne(_ s: [UInt8], _ i: inout Int, arrays: Int, structures: Int, inArray: Bool) -> DBusType? {
        guard i < s.count else { return nil }
        let code = s[i]
        i += 1
        switch code {
        case UInt8(ascii: "y"): return .byte
        case UInt8(ascii: "b"): return .boolean
        case UInt8(ascii: "n"): return .int16
        case UInt8(ascii: "q"): return .uint16
        case UInt8(ascii: "i"): return .int32
        case UInt8(ascii: "u"): return .uint32
        case UInt8(ascii: "x"): return .int64
        case UInt8(ascii: "t"): return .uint64
        case UInt8(ascii: "d"): return .double
        case UInt8(ascii: "s"): return .string
        case UInt8(ascii: "o"): return .objectPath
        case UInt8(ascii: "g"): return .signature
        case UInt8(ascii: "h"): return .unixFD
        case UInt8(ascii: "v"): return .variant
        case UInt8(ascii: "a"):
            guard arrays < maximumNesting,
                  let element = parseOne(s, &i, arrays: arrays + 1, structures: structures, inArray: true) else { return nil }
            return .array(element)
        case UInt8(ascii: "("):
            guard structures < maximumNesting else { return nil }
            var fields: [DBusType] = []
            while i < s.count, s[i] != UInt8(ascii: ")") {
                guard let field = parseOne(s, &i, arrays: arrays, structures: structures + 1, inArray: false) else { return nil }
                fields.append(field)
            }
            guard i < s.count, !fields.isEmpty else { return nil }
            i += 1
            return .structure(fields)
        case UInt8(ascii: "{"):
            guard inArray, structures < maximumNesting,
                  let key = parseOne(s, &i, arrays: arrays, structures: structures + 1, inArray: false), key.isBasic,
                  let value = parseOne(s, &i, arrays: arrays, structures: structures + 1, inArray: false),
                  i < s.count, s[i] == UInt8(ascii: "}") else { return nil }
            i += 1
            return .dictEntry(key: key, value: value)
        default:
            return nil
        }
    }
}
