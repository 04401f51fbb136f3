/// The body of a host SET_IP_INFO request (`struct hv_kvp_ipaddr_value`) as text, the form both
/// front ends decode it into: the ring front end from the host's UTF-16LE fields, the kernel
/// front end from the UTF-8 that hv_utils converted (docs/PROTOCOL.md §7.19).
///
/// The lists stay the host's raw ';'-separated text here: the compatibility files must be written
/// from exactly these bytes (``CompatibilityFiles``), and the typed ``IPConfiguration`` is parsed
/// from them separately.
public struct HostIPSettings: Equatable, Sendable {
    /// The NIC's VMBus instance GUID as the host sends it (`{…}`, lower-case on Hyper-V).
    public var adapterID: String
    /// `addr_family`: bit 0 IPv4, bit 1 IPv6. Carried for logging only: like hv_kvp_daemon, what
    /// is configured follows from the address lists.
    public var addressFamily: UInt8
    /// `dhcp_enabled`: IPv4 by DHCP (the host sets it for IPv6-only injections too).
    public var dhcpEnabled: Bool
    /// `ip_addr`: addresses, ';'-separated, IPv4 and IPv6 mixed.
    public var addresses: String
    /// `sub_net`: one entry per address, index-aligned: a dotted mask for IPv4, a prefix length
    /// for IPv6.
    public var subnets: String
    /// `gate_way`: default gateways.
    public var gateways: String
    /// `dns_addr`: DNS servers.
    public var dnsServers: String

    public init(adapterID: String, addressFamily: UInt8 = 0, dhcpEnabled: Bool = false, addresses: String = "",
                subnets: String = "", gateways: String = "", dnsServers: String = "") {
        self.adapterID = adapterID
        self.addressFamily = addressFamily
        self.dhcpEnabled = dhcpEnabled
        self.addresses = addresses
        self.subnets = subnets
        self.gateways = gateways
        self.dnsServers = dnsServers
    }
}
