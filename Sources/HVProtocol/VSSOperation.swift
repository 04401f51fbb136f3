/// `hv_vss_hdr.operation` (docs/PROTOCOL.md §6.5.3, uapi `hyperv.h enum hv_vss_op`, openvmm `vss.rs`).
///
/// A struct, not an enum: the host may send any byte, and an unknown one must survive decoding so
/// it can be answered (Linux: S_OK echo, docs/PROTOCOL.md §6.5.4).
public struct VSSOperation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let create = VSSOperation(rawValue: 0)
    public static let delete = VSSOperation(rawValue: 1)
    /// "Is the guest ready to freeze?"; the host falls back to a standard checkpoint on E_FAIL.
    public static let hotBackup = VSSOperation(rawValue: 2)
    public static let getDMInfo = VSSOperation(rawValue: 3)
    /// Version 4.0 and later.
    public static let backupComplete = VSSOperation(rawValue: 4)
    /// Version 5.0 and later: freeze, thaw and shadow-LUN auto-recovery.
    public static let freeze = VSSOperation(rawValue: 5)
    public static let thaw = VSSOperation(rawValue: 6)
    public static let autoRecover = VSSOperation(rawValue: 7)
    /// Version 6.0 (WS2016): guest cluster information.
    public static let queryGuestClusterInformation = VSSOperation(rawValue: 8)
    /// Char-device only: the legacy registration (no reply from the kernel).
    public static let register = VSSOperation(rawValue: 128)
    /// Char-device only: the registration the kernel answers with a 4-byte 129.
    public static let register1 = VSSOperation(rawValue: 129)

    public var description: String {
        switch rawValue {
        case 0: "CREATE"
        case 1: "DELETE"
        case 2: "HOT_BACKUP"
        case 3: "GET_DM_INFO"
        case 4: "BACKUP_COMPLETE"
        case 5: "FREEZE"
        case 6: "THAW"
        case 7: "AUTO_RECOVER"
        case 8: "QUERY_GUEST_CLUSTER_INFORMATION"
        case 128: "REGISTER"
        case 129: "REGISTER1"
        default: "op-\(rawValue)"
        }
    }
}
