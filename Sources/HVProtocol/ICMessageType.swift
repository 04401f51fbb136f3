/// `icmsgtype` (docs/PROTOCOL.md §5.3). A struct, not an enum, because the host may send any u16 and
/// an unknown value must survive decoding so it can be answered with E_FAIL.
public struct ICMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Version negotiation; first message after every channel open.
    public static let negotiate = ICMessageType(rawValue: 0)
    public static let heartbeat = ICMessageType(rawValue: 1)
    public static let kvpExchange = ICMessageType(rawValue: 2)
    public static let shutdown = ICMessageType(rawValue: 3)
    public static let timesync = ICMessageType(rawValue: 4)
    public static let vss = ICMessageType(rawValue: 5)
    /// openvmm only.
    public static let rdv = ICMessageType(rawValue: 6)
    /// FCOPY (Linux daemon) / GUEST_INTERFACE (openvmm).
    public static let fcopy = ICMessageType(rawValue: 7)
    /// openvmm only.
    public static let vmSession = ICMessageType(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 0: "negotiate"
        case 1: "heartbeat"
        case 2: "kvp"
        case 3: "shutdown"
        case 4: "timesync"
        case 5: "vss"
        case 6: "rdv"
        case 7: "fcopy"
        case 8: "vm-session"
        default: "type-\(rawValue)"
        }
    }
}
