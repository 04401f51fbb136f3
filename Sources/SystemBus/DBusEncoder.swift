/// Writes values in D-Bus's little-endian marshalling (docs/PROTOCOL.md §7.20): each value aligned
/// to its type's boundary from the start of the message, padding zero.
struct DBusEncoder {
    private(set) var bytes: [UInt8] = []

    init() {}

    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        pad(to: MemoryLayout<T>.size)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendString(_ text: String) {
        append(UInt32(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
        bytes.append(0)
    }

    mutating func appendSignature(_ text: String) {
        bytes.append(UInt8(truncatingIfNeeded: text.utf8.count))
        bytes.append(contentsOf: text.utf8)
        bytes.append(0)
    }

    mutating func append(_ value: DBusValue) throws(DBusError) {
        switch value {
        case let .byte(v): bytes.append(v)
        case let .boolean(v): append(UInt32(v ? 1 : 0))
        case let .int16(v): append(v)
        case let .uint16(v): append(v)
        case let .int32(v): append(v)
        case let .uint32(v): append(v)
        case let .int64(v): append(v)
        case let .uint64(v): append(v)
        case let .double(v): append(v.bitPattern)
        case let .unixFD(v): append(v)
        case let .string(s):
            guard !s.utf8.contains(0) else { throw .invalid("a string holds a NUL byte") }
            appendString(s)
        case let .objectPath(p):
            guard DBusMessage.isValidObjectPath(p) else { throw .invalid("\"\(p)\" is not an object path") }
            appendString(p)
        case let .signature(g):
            guard DBusType.parse(signature: g) != nil else { throw .invalid("\"\(g)\" is not a signature") }
            appendSignature(g)
        case let .variant(inner):
            appendSignature(inner.type.description)
            try append(inner)
        case let .array(element, values):
            append(UInt32(0))
            let lengthAt = bytes.count - 4
            pad(to: element.alignment)
            let start = bytes.count
            for v in values {
                guard v.type == element else { throw .invalid("an a\(element) array holds a \(v.type)") }
                try append(v)
            }
            let length = bytes.count - start
            guard length <= DBusMessage.maximumArrayLength else { throw .invalid("an array of \(length) bytes") }
            withUnsafeBytes(of: UInt32(length).littleEndian) { raw in
                for k in 0..<4 { bytes[lengthAt + k] = raw[k] }
            }
        case let .structure(fields):
            pad(to: 8)
            for f in fields { try append(f) }
        case let .dictEntry(key, v):
            pad(to: 8)
            try append(key)
            try append(v)
        }
    }
}
