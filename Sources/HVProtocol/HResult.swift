/// An HRESULT as the IC header's `status` field and the KVP device's first word carry it
/// (docs/PROTOCOL.md §5.3; Linux include/uapi/linux/hyperv.h and include/linux/hyperv.h `HV_*`).
///
/// One type for every service: KVP's statuses are the same values the IC header carries, so they
/// are not a type of their own. The names printed are the kernel's `HV_*` names.
public struct HResult: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// HV_S_OK.
    public static let ok = HResult(rawValue: 0x0000_0000)
    /// HV_E_FAIL: generic failure; also what the kernel answers when its daemon times out.
    public static let fail = HResult(rawValue: 0x8000_4005)
    /// HV_S_CONT (ERROR_NO_MORE_ITEMS): KVP "not found", "end of enumeration", "store failed".
    public static let noMoreItems = HResult(rawValue: 0x8007_0103)
    /// HV_ERROR_NOT_SUPPORTED: an unknown operation, or a host write to the KVP auto pool.
    public static let notSupported = HResult(rawValue: 0x8007_0032)
    /// HV_ERROR_MACHINE_LOCKED.
    public static let machineLocked = HResult(rawValue: 0x8007_04F7)
    /// HV_ERROR_DEVICE_NOT_CONNECTED.
    public static let deviceNotConnected = HResult(rawValue: 0x8007_048F)
    /// HV_INVALIDARG: e.g. a KVP pool number the protocol does not define.
    public static let invalidArgument = HResult(rawValue: 0x8007_0057)
    /// HV_GUID_NOTFOUND (WBEM_E_NOT_FOUND): SET_IP_INFO for an adapter the guest does not have.
    public static let guidNotFound = HResult(rawValue: 0x8004_1002)
    /// HV_ERROR_ALREADY_EXISTS.
    public static let alreadyExists = HResult(rawValue: 0x8007_0050)
    /// HV_ERROR_DISK_FULL.
    public static let diskFull = HResult(rawValue: 0x8007_0070)

    /// Bit 31 clear.
    public var isSuccess: Bool { rawValue & 0x8000_0000 == 0 }

    public var description: String {
        switch self {
        case .ok: "HV_S_OK"
        case .fail: "HV_E_FAIL"
        case .noMoreItems: "HV_S_CONT"
        case .notSupported: "HV_ERROR_NOT_SUPPORTED"
        case .machineLocked: "HV_ERROR_MACHINE_LOCKED"
        case .deviceNotConnected: "HV_ERROR_DEVICE_NOT_CONNECTED"
        case .invalidArgument: "HV_INVALIDARG"
        case .guidNotFound: "HV_GUID_NOTFOUND"
        case .alreadyExists: "HV_ERROR_ALREADY_EXISTS"
        case .diskFull: "HV_ERROR_DISK_FULL"
        default: Self.hex(rawValue)
        }
    }

    /// `0x` and eight hex digits, as the kernel's logs print an HRESULT.
    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
