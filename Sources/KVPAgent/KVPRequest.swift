import HVProtocol
import IPInjection
/// One host request, already decoded from its wire form by a front end
/// (kernel message or VMBus ring) into validated byte strings.
///
/// Keys and values are UTF-8 without the terminating NUL.  Front ends are
/// responsible for their wire's size fields; the engine re-checks lengths,
/// NULs and UTF-8 so no front end can store something the host cannot read.
public enum KVPRequest: Equatable, Sendable {
    case get(pool: UInt8, key: [UInt8])
    case set(pool: UInt8, key: [UInt8], value: [UInt8])
    case delete(pool: UInt8, key: [UInt8])
    case enumerate(pool: UInt8, index: UInt32)
    /// `adapterID` is the MAC text the host sends (upper-case, ':'-separated).
    case getIPInfo(adapterID: String)
    /// The host's address configuration for the NIC whose VMBus instance GUID is
    /// `settings.adapterID`.
    case setIPInfo(HostIPSettings)
    /// An operation code the protocol does not define.
    case unsupported(operation: UInt8)
}

/// The engine's answer.  A front end encodes it into its wire form.
public enum KVPResponse: Equatable, Sendable {
    /// Status only (SET, DELETE, SET_IP_INFO, and every failure).
    case status(HResult)
    /// HV_S_OK with a key/value pair (ENUMERATE, GET); both already valid
    /// UTF-8 of at most 511 / 2047 bytes.
    case record(key: [UInt8], value: [UInt8])
    /// HV_S_OK with the IP configuration of one adapter (GET_IP_INFO).
    case ipInfo(IPInfoReply)

    /// The status this response carries.
    public var status: HResult {
        if case let .status(s) = self { return s }
        return .ok
    }
}
