/// Supplies the IP configuration of one network adapter for GET_IP_INFO
/// (docs/PROTOCOL.md §7.18), and finds adapters by VMBus GUID for SET_IP_INFO (§7.19).
///
/// The source returns data; the engine owns the wire text formats, so both
/// front ends render them identically.
public protocol IPInfoSource {
    /// The configuration of the interface whose MAC (upper-case,
    /// ':'-separated, as the host sends it) equals `adapterID`, or nil when
    /// no interface with addresses has that MAC.
    func ipInfo(adapterID: String) -> IPInfo?
    /// The interface whose VMBus instance GUID text equals `adapterID`.
    func interfaceName(forAdapterGUID adapterID: String) -> String?
}

/// IP configuration of one adapter, as data.
public struct IPInfo: Equatable, Sendable {
    /// One address of the interface with its mask.
    public struct Address: Equatable, Sendable {
        /// inet_ntop text, e.g. "10.0.0.4" or "fe80::215:5dff:fe01:2".
        public var address: String
        /// Prefix length in bits (0…32 for IPv4, 0…128 for IPv6).
        public var prefixLength: Int
        public init(address: String, prefixLength: Int) {
            self.address = address
            self.prefixLength = prefixLength
        }
        /// IPv6 when the text has a ':'.
        public var isIPv6: Bool { address.contains(":") }
    }

    /// Addresses in the order they are reported (getifaddrs / netlink dump order).
    public var addresses: [Address]
    /// Default gateways of this interface (IPv4 and IPv6).
    public var gateways: [String]
    /// DNS servers for this interface.
    public var dnsServers: [String]
    /// Whether the interface is configured by DHCP.
    public var dhcpEnabled: Bool

    public init(addresses: [Address], gateways: [String], dnsServers: [String], dhcpEnabled: Bool) {
        self.addresses = addresses
        self.gateways = gateways
        self.dnsServers = dnsServers
        self.dhcpEnabled = dhcpEnabled
    }
}

/// GET_IP_INFO reply fields in hv_kvp_daemon's text formats (docs/PROTOCOL.md §7.18).
public struct IPInfoReply: Equatable, Sendable {
    /// Echo of the request's adapter id.
    public var adapterID: String
    /// Bit 0 = has IPv4, bit 1 = has IPv6 (ADDR_FAMILY_IPV4 1 / IPV6 2).
    public var addressFamily: UInt8
    public var dhcpEnabled: Bool
    /// "10.0.0.4;fe80::1" — ';'-joined, no trailing ';'.
    public var ipAddresses: String
    /// "255.255.255.0;/64" — dotted mask for IPv4, "/NN" for IPv6, aligned with ipAddresses.
    public var subnets: String
    /// "10.0.0.1;fe80::1;" — each followed by ';'.
    public var gateways: String
    /// "168.63.129.16;" — each followed by ';'.
    public var dnsServers: String
}
