/// An IC framework or service version as it appears on the wire: `{u16 major, u16 minor}`.
///
/// Why a struct and not Linux's `int (major << 16) | minor`: stored as a little-endian u32
/// that int would put the *minor* first, which is the classic encoding bug (docs/PROTOCOL.md §8 Q13).
public struct ICVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Major version (first u16 on the wire).
    public var major: UInt16
    /// Minor version (second u16 on the wire).
    public var minor: UInt16

    /// Encoded size in bytes.
    public static let size = 4

    public init(_ major: UInt16, _ minor: UInt16) {
        self.major = major
        self.minor = minor
    }

    public static func < (lhs: ICVersion, rhs: ICVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "\(major).\(minor)" }

    /// Decodes a version at `offset`, or nil if the bytes are not there.
    public static func decode(_ bytes: [UInt8], at offset: Int) -> ICVersion? {
        guard let major = LittleEndian.u16(bytes, at: offset),
              let minor = LittleEndian.u16(bytes, at: offset + 2) else { return nil }
        return ICVersion(major, minor)
    }

    public func encode(into bytes: inout [UInt8]) {
        LittleEndian.append(major, to: &bytes)
        LittleEndian.append(minor, to: &bytes)
    }
}
