/// The gateway of one next hop of a default route (`0.0.0.0/0` or `::/0` in the main table),
/// with the interface it leaves through. GET_IP_INFO reports the ones of the adapter asked for.
public struct DefaultGateway: Sendable, Hashable {
    public var interfaceIndex: Int32
    public var family: InterfaceAddress.Family
    /// `RTA_GATEWAY` (or the next hop's gateway for multipath routes), network byte order.
    public var bytes: [UInt8]

    public init(interfaceIndex: Int32, family: InterfaceAddress.Family, bytes: [UInt8]) {
        self.interfaceIndex = interfaceIndex
        self.family = family
        self.bytes = bytes
    }

    public init?(interfaceIndex: Int32, text: String) {
        guard let a = InterfaceAddress(interfaceIndex: interfaceIndex, text: text, prefixLength: 0) else { return nil }
        self.init(interfaceIndex: interfaceIndex, family: a.family, bytes: a.bytes)
    }

    public var text: String { InterfaceAddress.format(bytes, family: family) }
}
