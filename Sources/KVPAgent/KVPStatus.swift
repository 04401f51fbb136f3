/// HRESULT status of a KVP reply (docs/PROTOCOL.md §5.3, §7.12).  Sent to the host in the IC
/// header and, on /dev/vmbus/hv_kvp, in the first 4 bytes of the reply.
public struct KVPStatus: RawRepresentable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Success.
    public static let ok = KVPStatus(rawValue: 0x0000_0000)
    /// Generic failure; also what the kernel answers on a daemon timeout.
    public static let fail = KVPStatus(rawValue: 0x8000_4005)
    /// ERROR_NO_MORE_ITEMS: "not found", "end of enumeration", "store failed".
    public static let noMoreItems = KVPStatus(rawValue: 0x8007_0103)
    /// ERROR_NOT_SUPPORTED: unknown operation, or a write to the auto pool.
    public static let notSupported = KVPStatus(rawValue: 0x8007_0032)
    /// E_INVALIDARG: a pool number the protocol does not define.
    public static let invalidArgument = KVPStatus(rawValue: 0x8007_0057)
    /// WBEM_E_NOT_FOUND as used by SET_IP_INFO: no adapter with that GUID.
    public static let guidNotFound = KVPStatus(rawValue: 0x8004_1002)

    public var description: String {
        switch self {
        case .ok: return "HV_S_OK"
        case .fail: return "HV_E_FAIL"
        case .noMoreItems: return "HV_S_CONT"
        case .notSupported: return "HV_ERROR_NOT_SUPPORTED"
        case .invalidArgument: return "HV_INVALIDARG"
        case .guidNotFound: return "HV_GUID_NOTFOUND"
        default:
            let hex = String(rawValue, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
        }
    }
}
