/// One pool-file record: a 512-byte key field followed by a 2048-byte value
/// field, each a NUL-terminated UTF-8 C string padded with NULs (docs/PROTOCOL.md §7.14).
///
/// `key` and `value` hold the bytes before the first NUL.  Encoding always
/// produces the whole 2560 bytes zero-filled, so no stale or uninitialised
/// byte ever follows the NUL (hv_kvp_daemon bug B2).
public struct PoolRecord: Equatable, Hashable, Sendable {
    /// Size of the key field in bytes, including room for the NUL.
    public static let keyFieldSize = 512
    /// Size of the value field in bytes, including room for the NUL.
    public static let valueFieldSize = 2048
    /// Size of one record in the file.
    public static let size = keyFieldSize + valueFieldSize
    /// Longest key we write: the field minus its NUL (the kernel's cap too).
    public static let maxKeyBytes = keyFieldSize - 1
    /// Longest value we write: the field minus its NUL.
    public static let maxValueBytes = valueFieldSize - 1

    /// Key bytes (UTF-8 by convention), without the terminating NUL.
    public var key: [UInt8]
    /// Value bytes (UTF-8 by convention), without the terminating NUL.
    public var value: [UInt8]

    /// Creates a record; fails when a field would not leave room for its NUL
    /// or contains a NUL (which would silently cut it).
    public init?(key: [UInt8], value: [UInt8]) {
        guard key.count <= Self.maxKeyBytes, value.count <= Self.maxValueBytes,
              !key.contains(0), !value.contains(0) else { return nil }
        self.key = key
        self.value = value
    }

    /// Convenience for UTF-8 strings.
    public init?(key: String, value: String) {
        self.init(key: Array(key.utf8), value: Array(value.utf8))
    }

    /// A record as a pool file holds it, unchecked: another program may have filled a field to
    /// the end without a NUL (taken whole, up to the field size).
    init(trustedKey key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }

    /// Decodes one record from exactly `size` bytes read from a pool file.
    /// Fields are read as C strings; a field without a NUL (written by
    /// another program) is taken whole.
    public init(decoding raw: ArraySlice<UInt8>) {
        precondition(raw.count == Self.size, "caller passes whole records")
        let k = raw.prefix(Self.keyFieldSize)
        let v = raw.dropFirst(Self.keyFieldSize)
        self.key = Array(k.prefix(while: { $0 != 0 }))
        self.value = Array(v.prefix(while: { $0 != 0 }))
    }

    /// The 2560 bytes of this record, zero padded.
    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        let k = key.prefix(Self.keyFieldSize)
        let v = value.prefix(Self.valueFieldSize)
        out.replaceSubrange(0..<k.count, with: k)
        out.replaceSubrange(Self.keyFieldSize..<(Self.keyFieldSize + v.count), with: v)
        return out
    }

    /// Key as text; invalid UTF-8 is repaired with U+FFFD.
    public var keyString: String { String(decoding: key, as: UTF8.self) }
    /// Value as text; invalid UTF-8 is repaired with U+FFFD.
    public var valueString: String { String(decoding: value, as: UTF8.self) }
}
