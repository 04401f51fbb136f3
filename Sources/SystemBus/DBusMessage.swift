/// One D-Bus message: the fixed header, the header fields, and the body's values
/// (docs/PROTOCOL.md §7.20). Encoding and decoding are here, in one place; the connection only
/// moves the bytes.
public struct DBusMessage: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        case methodCall = 1, methodReturn = 2, error = 3, signal = 4
    }

    /// `NO_REPLY_EXPECTED`, `NO_AUTO_START`, `ALLOW_INTERACTIVE_AUTHORIZATION`.
    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let noReplyExpected = Flags(rawValue: 0x1)
        public static let noAutoStart = Flags(rawValue: 0x2)
        public static let allowInteractiveAuthorization = Flags(rawValue: 0x4)
    }

    public var kind: Kind
    public var flags: Flags = []
    public var serial: UInt32 = 0
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    public var body: [DBusValue] = []

    public init(kind: Kind) {
        self.kind = kind
    }

    public static func methodCall(destination: String, path: String, interface: String, member: String,
                                  body: [DBusValue] = []) -> DBusMessage {
        var m = DBusMessage(kind: .methodCall)
        m.destination = destination
        m.path = path
        m.interface = interface
        m.member = member
        m.body = body
        return m
    }

    /// The spec's limits: 128 MiB a message, 64 MiB an array.
    static let maximumMessageLength = 128 << 20
    static let maximumArrayLength = 64 << 20
    /// The fixed part: endianness, kind, flags, version, body length, serial, fields length.
    static let fixedHeaderLength = 16

    /// The header field codes.
    private enum Field: UInt8 {
        case path = 1, interface, member, errorName, replySerial, destination, sender, signature, unixFDs
    }

    /// The body's signature, from its values.
    public var signature: String { body.map(\.type.description).joined() }

    public func encoded() throws(DBusError) -> [UInt8] {
        var bodyEncoder = DBusEncoder()
        for value in body { try bodyEncoder.append(value) }
        var fields: [DBusValue] = []
        func field(_ code: Field, _ value: DBusValue?) {
            if let value { fields.append(.structure([.byte(code.rawValue), .variant(value)])) }
        }
        field(.path, path.map(DBusValue.objectPath))
        field(.interface, interface.map(DBusValue.string))
        field(.member, member.map(DBusValue.string))
        field(.errorName, errorName.map(DBusValue.string))
        field(.replySerial, replySerial.map(DBusValue.uint32))
        field(.destination, destination.map(DBusValue.string))
        field(.sender, sender.map(DBusValue.string))
        if !body.isEmpty { field(.signature, .signature(signature)) }
        var encoder = DBusEncoder()
        encoder.append(UInt8(ascii: "l"))
        encoder.append(kind.rawValue)
        encoder.append(flags.rawValue)
        encoder.append(UInt8(1))
        encoder.append(UInt32(bodyEncoder.bytes.count))
        encoder.append(serial)
        try encoder.append(.array(.structure([.byte, .variant]), fields))
        encoder.pad(to: 8)
        let total = encoder.bytes.count + bodyEncoder.bytes.count
        guard total <= Self.maximumMessageLength else { throw .invalid("a message of \(total) bytes") }
        return encoder.bytes + bodyEncoder.bytes
    }

    /// How long the message that starts with these (at least 16) bytes is in all, from its fixed
    /// header; nil when the header is not one this decoder reads (big-endian, another version) or
    /// the length is beyond the spec's limit.
    static func totalLength(fixedHeader h: ArraySlice<UInt8>) -> Int? {
        guard h.count >= fixedHeaderLength else { return nil }
        let b = Array(h.prefix(fixedHeaderLength))
        guard b[0] == UInt8(ascii: "l"), b[3] == 1 else { return nil }
        func u32(_ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24 }
        let bodyLength = u32(4), fieldsLength = u32(12)
        guard bodyLength <= maximumMessageLength, fieldsLength <= maximumArrayLength else { return nil }
        let headerLength = (fixedHeaderLength + fieldsLength + 7) / 8 * 8
        let total = headerLength + bodyLength
        return total <= maximumMessageLength ? total : nil
    }

    /// Decodes one whole message (exactly ``totalLength(fixedHeader:)`` bytes).
    public init(decoding bytes: [UInt8]) throws(DBusError) {
        guard let total = Self.totalLength(fixedHeader: bytes[...]), total == bytes.count else {
            throw .invalid("a message whose header is not little-endian version 1 or whose length is wrong")
        }
        var d = DBusDecoder(bytes: bytes)
        _ = try d.read(UInt8.self)
        guard let kind = Kind(rawValue: try d.read(UInt8.self)) else { throw .invalid("a message of unknown type") }
        self.init(kind: kind)
        flags = Flags(rawValue: try d.read(UInt8.self))
        _ = try d.read(UInt8.self)
        let bodyLength = Int(try d.read(UInt32.self))
        serial = try d.read(UInt32.self)
        guard serial != 0 else { throw .invalid("a message with serial 0") }
        var signature = ""
        guard let fields = try d.read(.array(.structure([.byte, .variant]))).elements else { throw .invalid("no header fields") }
        for case let .structure(pair) in fields {
            guard pair.count == 2, case let .byte(code) = pair[0], case let .variant(value) = pair[1] else { continue }
            switch (Field(rawValue: code), value) {
            case let (.path?, .objectPath(v)): path = v
            case let (.interface?, .string(v)): interface = v
            case let (.member?, .string(v)): member = v
            case let (.errorName?, .string(v)): errorName = v
            case let (.replySerial?, .uint32(v)): replySerial = v
            case let (.destination?, .string(v)): destination = v
            case let (.sender?, .string(v)): sender = v
            case let (.signature?, .signature(v)): signature = v
            case (.unixFDs?, .uint32): throw .invalid("a message carrying file descriptors (none were negotiated)")
            case (nil, _): continue // unknown fields are ignored, as the spec says
            default: throw .invalid("header field \(code) has the wrong type")
            }
        }
        try d.skipPadding(to: 8)
        guard bytes.count - d.offset == bodyLength else { throw .invalid("body length does not match") }
        guard let types = DBusType.parse(signature: signature) else { throw .invalid("bad body signature \"\(signature)\"") }
        var bodyDecoder = DBusDecoder(bytes: Array(bytes[d.offset...]))
        for type in types { body.append(try bodyDecoder.read(type)) }
        guard bodyDecoder.isAtEnd else { throw .invalid("body is longer than its signature") }
        switch kind {
        case .methodCall: guard path != nil, member != nil else { throw .invalid("a method call without path or member") }
        case .methodReturn: guard replySerial != nil else { throw .invalid("a reply without reply serial") }
        case .error: guard replySerial != nil, errorName != nil else { throw .invalid("an error without reply serial or name") }
        case .signal: guard path != nil, interface != nil, member != nil else { throw .invalid("a signal without path, interface or member") }
        }
    }

    /// An object path: `/`, or `/` followed by elements of `[A-Za-z0-9_]` separated by single `/`.
    static func isValidObjectPath(_ p: String) -> Bool {
        let b = Array(p.utf8)
        guard b.first == UInt8(ascii: "/") else { return false }
        if b.count == 1 { return true }
        guard b.last != UInt8(ascii: "/") else { return false }
        var previousSlash = false
        for c in b.dropFirst() {
            if c == UInt8(ascii: "/") {
                if previousSlash { return false }
                previousSlash = true
                continue
            }
            previousSlash = false
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
            if !ok { return false }
        }
        return true
    }

    /// The first string of an error reply's body: its human-readable message.
    public var errorMessage: String { body.first?.stringValue ?? "" }
}
