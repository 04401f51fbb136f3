import HVProtocol

/// The host's VSS codecs, written from the layout table of docs/PROTOCOL.md §6.5.3 and not from
/// the guest's encoders: a layout mistake must not match on both sides.
public enum VSSHostLogic {
    /// Operation bytes (uapi `hyperv.h`).
    public static let hotBackup: UInt8 = 2
    public static let getDMInfo: UInt8 = 3
    public static let freeze: UInt8 = 5
    public static let thaw: UInt8 = 6
    public static let autoRecover: UInt8 = 7

    /// A 12-byte request body: operation at +0, 7 reserved bytes, flags u32 at +8.
    public static func body(operation: UInt8, flags: UInt32 = 0) -> [UInt8] {
        [operation, 0, 0, 0, 0, 0, 0, 0,
         UInt8(flags & 0xff), UInt8((flags >> 8) & 0xff), UInt8((flags >> 16) & 0xff), UInt8(flags >> 24)]
    }

    /// A FREEZE body (`Message2`): header, backup_type @8, flags @12, lun_count @16, then one
    /// 24-byte LUN (bus 1, a zero controller GUID, port/target/lun) per LUN; zero-padded to
    /// 6,260 bytes when `full`, else trimmed after the LUNs.
    public static func freezeBody(lunCount: Int, full: Bool) -> [UInt8] {
        var bytes = body(operation: freeze)
        bytes += [0, 0, 0, 0]  // backup_type
        bytes += [0, 0, 0, 0]  // flags
        bytes += [UInt8(lunCount & 0xff), UInt8((lunCount >> 8) & 0xff), 0, 0]
        for index in 0..<lunCount {
            bytes += [1, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [0, 0, UInt8(index & 0xff), 0]
        }
        if full, bytes.count < 6260 { bytes += [UInt8](repeating: 0, count: 6260 - bytes.count) }
        return bytes
    }

    /// The reply's flags u32 at body +8 (P+36), or nil for a reply too short to have it.
    public static func flags(_ reply: [UInt8]) -> UInt32? {
        guard reply.count >= 12 else { return nil }
        return UInt32(reply[8]) | UInt32(reply[9]) << 8 | UInt32(reply[10]) << 16 | UInt32(reply[11]) << 24
    }

    public static func describe(reply: [UInt8]) -> String {
        guard let operation = reply.first else { return "empty body" }
        let name = switch operation {
        case hotBackup: "HOT_BACKUP"
        case getDMInfo: "GET_DM_INFO"
        case freeze: "FREEZE"
        case thaw: "THAW"
        default: "op \(operation)"
        }
        return "\(name), \(reply.count) bytes, flags 0x\(String(flags(reply) ?? 0, radix: 16))"
    }
}
