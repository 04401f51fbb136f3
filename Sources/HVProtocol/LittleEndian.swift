/// Explicit little-endian field access over byte arrays.
///
/// Every IC wire structure is decoded field by field from a private copy of the packet
/// (never from shared memory) so that a host changing bytes after validation cannot
/// affect what was checked. Callers check the length first; these helpers still return
/// `nil` rather than trap if an offset is out of range, so a missed check cannot crash.
public enum LittleEndian {
    @inlinable
    public static func u8(_ bytes: [UInt8], at offset: Int) -> UInt8? {
        bytes.withUnsafeBytes { u8($0, at: offset) }
    }

    @inlinable
    public static func u16(_ bytes: [UInt8], at offset: Int) -> UInt16? {
        bytes.withUnsafeBytes { u16($0, at: offset) }
    }

    @inlinable
    public static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32? {
        bytes.withUnsafeBytes { u32($0, at: offset) }
    }

    @inlinable
    public static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64? {
        bytes.withUnsafeBytes { u64($0, at: offset) }
    }

    // The same over raw bytes: a ring packet's private copy is decoded where the ring put it,
    // without copying it into an array first (docs/PERFORMANCE.md, "Where the round trip goes").

    @inlinable
    public static func u8(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt8? {
        guard offset >= 0, offset < bytes.count else { return nil }
        return bytes[offset]
    }

    @inlinable
    public static func u16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable
    public static func u32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable
    public static func u64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64? {
        guard offset >= 0, offset <= bytes.count - 8 else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable
    public static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    @inlinable
    public static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for index in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))) }
    }

    @inlinable
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for index in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    /// Overwrites `value` at `offset`; returns false (and writes nothing) if it does not fit.
    @discardableResult @inlinable
    public static func store(_ value: UInt16, into bytes: inout [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset <= bytes.count - 2 else { return false }
        bytes[offset] = UInt8(truncatingIfNeeded: value)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        return true
    }

    @discardableResult @inlinable
    public static func store(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset <= bytes.count - 4 else { return false }
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self) }
        return true
    }

    @discardableResult @inlinable
    public static func store(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset <= bytes.count - 8 else { return false }
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self) }
        return true
    }
}
