/// Reads D-Bus's little-endian marshalling from a message's bytes (docs/PROTOCOL.md §7.20). Every
/// length and offset is checked against the bytes there are and against the spec's limits before
/// use: what a bus peer sends is input, and a malformed message is an error, never a trap.
struct DBusDecoder {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// How deep variants may nest inside each other (the spec: 64 levels of containers in all).
    private static let maximumDepth = 64

    init(bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func skipPadding(to alignment: Int) throws(DBusError) {
        let next = (offset + alignment - 1) / alignment * alignment
        guard next <= bytes.count else { throw .invalid("message ends inside padding") }
        for i in offset..<next where bytes[i] != 0 { throw .invalid("padding byte is not zero") }
        offset = next
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(DBusError) -> T {
        try skipPadding(to: MemoryLayout<T>.size)
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw .invalid("message ends inside a number") }
        var value: T = 0
        for k in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + k]) << (8 * k) }
        offset += size
        return value
    }

    private mutating func readText(count: Int) throws(DBusError) -> String {
        guard count >= 0, bytes.count - offset > count else { throw .invalid("message ends inside a string") }
        let slice = bytes[offset..<offset + count]
        guard bytes[offset + count] == 0, !slice.contains(0) else { throw .invalid("a string is not NUL-terminated or holds NUL") }
        guard let text = String(validating: slice, as: UTF8.self) else { throw .invalid("a string is not UTF-8") }
        offset += count + 1
        return text
    }

    mutating func readString() throws(DBusError) -> String {
        let length = try read(UInt32.self)
        guard length <= UInt32(DBusMessage.maximumMessageLength) else { throw .invalid("a string of \(length) bytes") }
        return try readText(count: Int(length))
    }

    mutating func readSignature() throws(DBusError) -> String {
        guard offset < bytes.count else { throw .invalid("message ends before a signature") }
        let length = Int(bytes[offset])
        offset += 1
        return try readText(count: length)
    }

    mutating func read(_ type: DBusType, depth: Int = 0) throws(DBusError) -> DBusValue {
        guard depth <= Self.maximumDepth else { throw .invalid("values nested more than \(Self.maximumDepth) deep") }
        switch type {
        case .byte:
            guard offset < bytes.count else { throw .invalid("message ends inside a byte") }
            offset += 1
            return .byte(bytes[offset - 1])
        case .boolean:
            let v = try read(UInt32.self)
            guard v <= 1 else { throw .invalid("a boolean of \(v)") }
            return .boolean(v == 1)
        case .int16: return .int16(try read(Int16.self))
        case .uint16: return .uint16(try read(UInt16.self))
        case .int32: return .int32(try read(Int32.self))
        case .uint32: return .uint32(try read(UInt32.self))
        case .int64: return .int64(try read(Int64.self))
        case .uint64: return .uint64(try read(UInt64.self))
        case .double: return .double(Double(bitPattern: try read(UInt64.self)))
        case .unixFD: return .unixFD(try read(UInt32.self))
        case .string: return .string(try readString())
        case .objectPath:
            let path = try readString()
            guard DBusMessage.isValidObjectPath(path) else { throw .invalid("\"\(path)\" is not an object path") }
            return .objectPath(path)
        case .signature:
            let text = try readSignature()
            guard DBusType.parse(signature: text) != nil else { throw .invalid("\"\(text)\" is not a signature") }
            return .signature(text)
        case .variant:
            let text = try readSignature()
            guard let types = DBusType.parse(signature: text), types.count == 1 else {
                throw .invalid("variant signature \"\(text)\" is not one complete type")
            }
            return .variant(try read(types[0], depth: depth + 1))
        case let .array(element):
            let length = Int(try read(UInt32.self))
            guard length <= DBusMessage.maximumArrayLength else { throw .invalid("an array of \(length) bytes") }
            try skipPadding(to: element.alignment)
            guard bytes.count - offset >= length else { throw .invalid("message ends inside an array") }
            let end = offset + length
            var values: [DBusValue] = []
            while offset < end {
                values.append(try read(element, depth: depth + 1))
            }
            guard offset == end else { throw .invalid("an array's last element runs past its length") }
            return .array(element, values)
        case let .structure(fields):
            try skipPadding(to: 8)
            var values: [DBusValue] = []
            for f in fields { values.append(try read(f, depth: depth + 1)) }
            return .structure(values)
        case let .dictEntry(key, value):
            try skipPadding(to: 8)
            let k = try read(key, depth: depth + 1)
            return .dictEntry(k, try read(value, depth: depth + 1))
        }
    }
}
