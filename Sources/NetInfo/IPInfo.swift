/// The answer to a GET_IP_INFO request for one adapter, in the daemon-side text forms of spec
/// §5.2 (the kernel converts them to UTF-16 for the host).
public struct IPInfo: Sendable, Equatable {
    /// The interface that matched the MAC (not sent to the host; for logs).
    public var interfaceName: String
    /// `addr_family`: bit 1 (value 1) IPv4 present, bit 2 (value 2) IPv6 present.
    public var addressFamily: UInt8
    /// `dhcp_enabled`.
    public var dhcpEnabled: Bool
    /// `ip_addr`: `10.0.0.4;fd00::4;fe80::1`, no trailing ';'.
    public var addresses: String
    /// `sub_net`, index-aligned with `addresses`: `255.255.255.0;/64;/64`.
    public var subnets: String
    /// `gate_way`: every entry followed by ';' (`10.0.0.1;fe80::1;`).
    public var gateways: String
    /// `dns_addr`: every entry followed by ';' (`168.63.129.16;`).
    public var dnsServers: String

    public init(interfaceName: String, addressFamily: UInt8, dhcpEnabled: Bool, addresses: String, subnets: String, gateways: String, dnsServers: String) {
        self.interfaceName = interfaceName
        self.addressFamily = addressFamily
        self.dhcpEnabled = dhcpEnabled
        self.addresses = addresses
        self.subnets = subnets
        self.gateways = gateways
        self.dnsServers = dnsServers
    }

    /// Host field capacities in UTF-16 units, one kept for the NUL (hv_kvp_ipaddr_value:
    /// ip_addr/sub_net/dns_addr 1024, gate_way 512).
    public static let addressFieldLimit = 1023
    public static let gatewayFieldLimit = 511

    /// Builds the answer. Lists are cut at an entry boundary when a field would overflow
    /// (upstream fails the whole request with HV_E_FAIL instead); `addresses` and `subnets`
    /// stay index-aligned.
    public static func make(interface: NetworkInterface, addresses: [InterfaceAddress], gateways: [DefaultGateway], dnsServers: [String], dhcpEnabled: Bool, rules: InterfaceRules) -> IPInfo {
        var family: UInt8 = 0
        var ips: [String] = [], masks: [String] = []
        var ipUnits = 0, maskUnits = 0
        let ordered = addresses.filter { $0.family == .ipv4 } + addresses.filter { $0.family == .ipv6 }
        for a in ordered where a.interfaceIndex == interface.index && rules.admits(a) {
            let ip = a.text, mask = a.subnetText
            let ipCost = ip.utf16.count + (ips.isEmpty ? 0 : 1)
            let maskCost = mask.utf16.count + (masks.isEmpty ? 0 : 1)
            guard ipUnits + ipCost <= addressFieldLimit, maskUnits + maskCost <= addressFieldLimit else { break }
            ips.append(ip)
            masks.append(mask)
            ipUnits += ipCost
            maskUnits += maskCost
            family |= a.family == .ipv4 ? 1 : 2
        }
        let gw = terminatedList(unique(gateways.filter { $0.interfaceIndex == interface.index }.map(\.text)), limit: gatewayFieldLimit)
        let dns = terminatedList(unique(dnsServers), limit: addressFieldLimit)
        return IPInfo(
            interfaceName: interface.name,
            addressFamily: family,
            dhcpEnabled: dhcpEnabled,
            addresses: ips.joined(separator: ";"),
            subnets: masks.joined(separator: ";"),
            gateways: gw,
            dnsServers: dns
        )
    }

    /// First occurrences only: the same gateway reached by two routes (or a DNS server listed
    /// twice) is one entry for the host.
    static func unique(_ entries: [String]) -> [String] {
        var seen = Set<String>()
        return entries.filter { seen.insert($0).inserted }
    }

    /// Each entry followed by ';', whole entries only, within `limit` UTF-16 units.
    static func terminatedList(_ entries: [String], limit: Int) -> String {
        var out = ""
        for e in entries {
            let next = out + e + ";"
            guard next.utf16.count <= limit else { break }
            out = next
        }
        return out
    }
}
