/// Body of a NEGOTIATE message (docs/PROTOCOL.md §5.4, Linux `struct icmsg_negotiate`).
///
/// Body offsets: +0 u16 `icframe_vercnt` (F), +2 u16 `icmsg_vercnt` (M), +4 u32 reserved,
/// +8 F framework versions then M service versions, each {u16 major, u16 minor}.
public struct NegotiateBody: Hashable, Sendable {
    /// Framework versions offered (host request) or chosen (guest reply).
    public var frameworkVersions: [ICVersion]
    /// Service (message) versions offered or chosen.
    public var serviceVersions: [ICVersion]
    /// The reserved u32, echoed as received.
    public var reserved: UInt32

    /// Size of the fixed part (the two counts and the reserved word).
    public static let fixedSize = 8
    /// Bytes a negotiate body must have before the counts can be read
    /// (Linux: `offsetof(struct icmsg_negotiate, reserved)`).
    public static let countsSize = 4
    /// Linux IC_VERSION_NEGOTIATION_MAX_VER_COUNT: more than this in either list is malformed.
    public static let maximumVersionCount = 100

    public init(frameworkVersions: [ICVersion], serviceVersions: [ICVersion], reserved: UInt32 = 0) {
        self.frameworkVersions = frameworkVersions
        self.serviceVersions = serviceVersions
        self.reserved = reserved
    }

    /// Encodes counts, reserved and both lists, as a host writes a request.
    public func encode(into bytes: inout [UInt8]) {
        LittleEndian.append(UInt16(truncatingIfNeeded: frameworkVersions.count), to: &bytes)
        LittleEndian.append(UInt16(truncatingIfNeeded: serviceVersions.count), to: &bytes)
        LittleEndian.append(reserved, to: &bytes)
        for version in frameworkVersions { version.encode(into: &bytes) }
        for version in serviceVersions { version.encode(into: &bytes) }
    }

    /// Decodes a body whose counts are within limits and whose lists are all present;
    /// nil otherwise. (Used by the host side to read guest replies.)
    public static func decode(_ body: [UInt8]) -> NegotiateBody? {
        guard let frameworkCount = LittleEndian.u16(body, at: 0),
              let serviceCount = LittleEndian.u16(body, at: 2),
              let reserved = LittleEndian.u32(body, at: 4),
              Int(frameworkCount) <= maximumVersionCount, Int(serviceCount) <= maximumVersionCount,
              fixedSize + ICVersion.size * (Int(frameworkCount) + Int(serviceCount)) <= body.count
        else { return nil }
        var versions: [ICVersion] = []
        for index in 0..<(Int(frameworkCount) + Int(serviceCount)) {
            guard let version = ICVersion.decode(body, at: fixedSize + ICVersion.size * index) else { return nil }
            versions.append(version)
        }
        return NegotiateBody(
            frameworkVersions: Array(versions.prefix(Int(frameworkCount))),
            serviceVersions: Array(versions.dropFirst(Int(frameworkCount))), reserved: reserved)
    }
}
