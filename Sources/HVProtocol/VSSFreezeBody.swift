/// The FREEZE / AUTO_RECOVER body (openvmm `Message2` / `Message2Ex`, sizes confirmed by the 2022
/// kernel comment on VSS_MAX_PKT_SIZE; docs/PROTOCOL.md §6.5.3).
///
/// | Off | Size | Field |
/// |---|---|---|
/// | 0 | 8 | VSS header (operation 5 or 7) |
/// | 8 | u32 | backup_type |
/// | 12 | u32 | flags |
/// | 16 | u32 | lun_count |
/// | 20 | 24 × 260 | luns (``VSSLunInfo``) |
/// | 6260 | 24 × 260 | shadow_luns (`Message2Ex` only) |
///
/// Whether a host sends the full 6,260 bytes or trims to lun_count is unknown (docs/PROTOCOL.md
/// §9), so decoding accepts any length from 20 bytes and reads only the LUNs that are present.
/// hvagent uses the LUNs for logs only.
public struct VSSFreezeBody: Hashable, Sendable {
    public var operation: VSSOperation
    public var backupType: UInt32
    public var flags: UInt32
    /// As the host wrote it (may exceed ``maximumLuns`` or the LUNs present).
    public var lunCount: UInt32
    /// The LUNs present in the body, at most min(lun_count, 260).
    public var luns: [VSSLunInfo]

    public static let backupTypeOffset = 8
    public static let flagsOffset = 12
    public static let lunCountOffset = 16
    public static let lunsOffset = 20
    /// `MAX_VHD_COUNT`.
    public static let maximumLuns = 260
    /// `Message2`: 8 + 4 + 4 + 4 + 24 × 260.
    public static let size = 6260
    /// `Message2Ex`: adds shadow_luns[260].
    public static let extendedSize = 12500
    /// The fixed fields before the LUN array.
    public static let headerSize = 20

    public init(operation: VSSOperation = .freeze, backupType: UInt32 = 0, flags: UInt32 = 0, lunCount: UInt32,
                luns: [VSSLunInfo]) {
        self.operation = operation
        self.backupType = backupType
        self.flags = flags
        self.lunCount = lunCount
        self.luns = luns
    }

    /// Decodes a body of any length ≥ 20; LUNs past the end of the body are not invented.
    public static func decode(_ body: [UInt8]) -> VSSFreezeBody? {
        guard body.count >= headerSize, let backupType = LittleEndian.u32(body, at: backupTypeOffset),
              let flags = LittleEndian.u32(body, at: flagsOffset), let count = LittleEndian.u32(body, at: lunCountOffset)
        else { return nil }
        let present = (body.count - lunsOffset) / VSSLunInfo.size
        let wanted = min(Int(min(count, UInt32(maximumLuns))), present)
        var luns: [VSSLunInfo] = []
        luns.reserveCapacity(wanted)
        for index in 0..<wanted {
            let start = lunsOffset + index * VSSLunInfo.size
            guard let lun = VSSLunInfo.decode(Array(body[start..<start + VSSLunInfo.size])) else { break }
            luns.append(lun)
        }
        return VSSFreezeBody(operation: VSSOperation(rawValue: body[0]), backupType: backupType, flags: flags,
                             lunCount: count, luns: luns)
    }

    /// Encodes as a host would: `paddedTo` nil gives a trimmed body (header + lun_count LUNs),
    /// otherwise zero-padded to that size (``size`` or ``extendedSize``).
    public func encode(paddedTo: Int? = nil) -> [UInt8] {
        var bytes = VSSMessage.encode(operation: operation, flags: 0).prefix(8).map { $0 }
        LittleEndian.append(backupType, to: &bytes)
        LittleEndian.append(flags, to: &bytes)
        LittleEndian.append(lunCount, to: &bytes)
        for lun in luns.prefix(Self.maximumLuns) { lun.encode(into: &bytes) }
        if let paddedTo, bytes.count < paddedTo { bytes += [UInt8](repeating: 0, count: paddedTo - bytes.count) }
        return bytes
    }
}

/// One `LunInfo` (24 bytes, openvmm `vss.rs`): which virtual disk the host is snapshotting.
public struct VSSLunInfo: Hashable, Sendable {
    /// +0 u8.
    public var busType: UInt8
    /// +4 16-byte GUID (+1..+3 reserved).
    public var controller: VMBusGUID
    /// +20, +21, +22 u8 (+23 reserved).
    public var port: UInt8
    public var target: UInt8
    public var lun: UInt8

    public static let size = 24

    public init(busType: UInt8, controller: VMBusGUID, port: UInt8, target: UInt8, lun: UInt8) {
        self.busType = busType
        self.controller = controller
        self.port = port
        self.target = target
        self.lun = lun
    }

    public static func decode(_ bytes: [UInt8]) -> VSSLunInfo? {
        guard bytes.count >= size, let guid = VMBusGUID(wireBytes: Array(bytes[4..<20])) else { return nil }
        return VSSLunInfo(busType: bytes[0], controller: guid, port: bytes[20], target: bytes[21], lun: bytes[22])
    }

    public func encode(into bytes: inout [UInt8]) {
        bytes += [busType, 0, 0, 0]
        bytes += controller.bytes
        bytes += [port, target, lun, 0]
    }
}
