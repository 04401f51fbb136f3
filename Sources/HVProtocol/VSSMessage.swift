/// The part of every VSS body Linux reads and writes: `struct hv_vss_msg` on the wire, 12 bytes
/// at P+28 (docs/PROTOCOL.md §6.5.3; uapi `hyperv.h`).
///
/// Body offsets (add 28 for P+n):
///
/// | Off | Size | Field |
/// |---|---|---|
/// | 0 | u8 | operation (``VSSOperation``) |
/// | 1 | u8[7] | reserved |
/// | 8 | u32 | `vss_cf.flags` (HOT_BACKUP reply) / `dm_info.flags` (GET_DM_INFO reply) |
///
/// The host sends longer bodies for FREEZE (``VSSFreezeBody``); the reply echoes the whole body,
/// so this type only reads and patches fields in place and never shortens a body.
public enum VSSMessage {
    /// Linux drops a VSS packet shorter than 28 + 12 = 40 bytes (`hv_snapshot.c`).
    public static let minimumSize = 12
    public static let operationOffset = 0
    public static let reservedSize = 7
    public static let flagsOffset = 8

    /// `VSS_HBU_NO_AUTO_RECOVERY` = 0x5: the HOT_BACKUP reply flags that tell the host not to send
    /// AUTO_RECOVER (whose 12,500-byte body a kernel receive buffer cannot hold). Defect V1: Linux
    /// in kernel mode never sets it (docs/PROTOCOL.md §6.5.4, COMPATIBILITY.md).
    public static let noAutoRecoveryFlags: UInt32 = 0x0000_0005

    /// The operation, or nil for a body shorter than the header.
    public static func operation(_ body: [UInt8]) -> VSSOperation? {
        guard body.count >= minimumSize else { return nil }
        return VSSOperation(rawValue: body[operationOffset])
    }

    /// The flags u32 at +8, or nil for a short body.
    public static func flags(_ body: [UInt8]) -> UInt32? {
        guard body.count >= minimumSize else { return nil }
        return LittleEndian.u32(body, at: flagsOffset)
    }

    /// Sets the flags u32 at +8 in place; false for a short body.
    @discardableResult
    public static func setFlags(_ flags: UInt32, in body: inout [UInt8]) -> Bool {
        guard body.count >= minimumSize else { return false }
        return LittleEndian.store(flags, into: &body, at: flagsOffset)
    }

    /// A 12-byte body as a host sends it: the operation, zero reserved bytes, `flags`.
    public static func encode(operation: VSSOperation, flags: UInt32 = 0) -> [UInt8] {
        var bytes: [UInt8] = [operation.rawValue] + [UInt8](repeating: 0, count: reservedSize)
        LittleEndian.append(flags, to: &bytes)
        return bytes
    }
}
