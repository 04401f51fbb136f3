/// The HRESULT `status` field of the IC header (docs/PROTOCOL.md §5.3, Linux include/uapi/linux/hyperv.h).
public struct HResult: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ok = HResult(rawValue: 0x0000_0000)
    public static let fail = HResult(rawValue: 0x8000_4005)
    /// S_CONT / NO_MORE_ITEMS.
    public static let noMoreItems = HResult(rawValue: 0x8007_0103)
    public static let notSupported = HResult(rawValue: 0x8007_0032)
    public static let machineLocked = HResult(rawValue: 0x8007_04F7)
    public static let deviceNotConnected = HResult(rawValue: 0x8007_048F)
    public static let invalidArgument = HResult(rawValue: 0x8007_0057)
    /// GUID_NOTFOUND / NOT_FOUND.
    public static let notFound = HResult(rawValue: 0x8004_1002)
    public static let alreadyExists = HResult(rawValue: 0x8007_0050)
    public static let diskFull = HResult(rawValue: 0x8007_0070)

    public var isSuccess: Bool { rawValue & 0x8000_0000 == 0 }

    public var description: String {
        switch self {
        case .ok: "S_OK"
        case .fail: "E_FAIL"
        default: "0x" + String(rawValue, radix: 16, uppercase: true)
        }
    }
}
