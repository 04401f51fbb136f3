/// The IP configuration of one adapter for GET_IP_INFO, as data (docs/PROTOCOL.md §7.18). The KVP engine
/// renders the wire text (`;` lists, dotted masks / `/NN`, field caps); this type only decides
/// what is listed and in which order.
public struct AdapterIPConfig: Sendable, Equatable {
    /// The interface that matched the MAC (not sent to the host; for logs).
    public var interfaceName: String
    public var interfaceIndex: Int32
    /// IPv4 addresses, then IPv6, each family in kernel dump order (what upstream's getifaddrs
    /// walk produces); IPv6 link-local only when the rules include it.
    public var addresses: [InterfaceAddress]
    /// Gateways of live default-route next hops through this interface, IPv4 first, then by
    /// metric; each address once.
    public var gateways: [String]
    /// Name servers for this interface (`ResolverConfig`), each once.
    public var dnsServers: [String]
    /// Whether DHCP configures the interface (`DHCPState`).
    public var dhcpEnabled: Bool

    public init(interfaceName: String, interfaceIndex: Int32, addresses: [InterfaceAddress], gateways: [String], dnsServers: [String], dhcpEnabled: Bool) {
        self.interfaceName = interfaceName
        self.interfaceIndex = interfaceIndex
        self.addresses = addresses
        self.gateways = gateways
        self.dnsServers = dnsServers
        self.dhcpEnabled = dhcpEnabled
    }

    /// Selects and orders the facts of `interface` out of whole-system lists.
    public static func make(interface: NetworkInterface, addresses: [InterfaceAddress], gateways: [DefaultGateway], dnsServers: [String], dhcpEnabled: Bool, rules: InterfaceRules) -> AdapterIPConfig {
        let own = addresses.filter { $0.interfaceIndex == interface.index && rules.admits($0) }
        return AdapterIPConfig(
            interfaceName: interface.name,
            interfaceIndex: interface.index,
            addresses: own.filter { $0.family == .ipv4 } + own.filter { $0.family == .ipv6 },
            gateways: unique(gateways.filter { $0.interfaceIndex == interface.index }.map(\.text)),
            dnsServers: unique(dnsServers),
            dhcpEnabled: dhcpEnabled
        )
    }

    /// First occurrences only: the same gateway reached by two routes (or a name server listed
    /// twice) is one entry for the host.
    static func unique(_ entries: [String]) -> [String] {
        var seen = Set<String>()
        return entries.filter { seen.insert($0).inserted }
    }
}
