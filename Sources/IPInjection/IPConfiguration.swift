import HVProtocol

/// What the host asked an interface to be, as types: the result of checking every token of a
/// SET_IP_INFO request (docs/PROTOCOL.md §7.19). Backends apply this, verification compares the
/// kernel's state against it, and GET_IP_INFO reports it back.
///
/// Stricter than hv_kvp_daemon where it would apply something other than what the host sent
/// (COMPATIBILITY.md B9): every address needs its subnet entry, an IPv4 mask must be contiguous
/// and an IPv6 prefix a number from 0 to 128.
public struct IPConfiguration: Equatable, Sendable {
    /// An address with its prefix length.
    public struct Address: Hashable, Sendable, CustomStringConvertible {
        public var address: IPLiteral
        public var prefixLength: Int

        public init(address: IPLiteral, prefixLength: Int) {
            self.address = address
            self.prefixLength = prefixLength
        }

        public var description: String { "\(address)/\(prefixLength)" }
    }

    /// IPv4 by DHCP (static IPv4 addresses, if any, are added to the lease, as NetworkManager
    /// does with the upstream keyfile's `method=auto` plus `address1=`).
    public var dhcpV4: Bool
    /// Static addresses in the host's order (IPv4 and IPv6).
    public var addresses: [Address]
    /// Default gateways in the host's order.
    public var gateways: [IPLiteral]
    /// DNS servers in the host's order.
    public var dnsServers: [IPLiteral]

    public init(dhcpV4: Bool, addresses: [Address] = [], gateways: [IPLiteral] = [], dnsServers: [IPLiteral] = []) {
        self.dhcpV4 = dhcpV4
        self.addresses = addresses
        self.gateways = gateways
        self.dnsServers = dnsServers
    }

    public var ipv4Addresses: [Address] { addresses.filter { $0.address.family == .ipv4 } }
    public var ipv6Addresses: [Address] { addresses.filter { $0.address.family == .ipv6 } }

    /// Parses the host's lists; the error names the first bad token.
    public init(parsing settings: HostIPSettings) throws(IPConfigurationError) {
        let addressTokens = HostIPList.tokens(settings.addresses)
        let subnetTokens = HostIPList.tokens(settings.subnets)
        guard addressTokens.count == subnetTokens.count else {
            throw .invalid("\(addressTokens.count) addresses but \(subnetTokens.count) subnet entries")
        }
        var addresses: [Address] = []
        for (token, subnet) in zip(addressTokens, subnetTokens) {
            guard let address = IPLiteral(token) else { throw .invalid("address \"\(token)\" is not an IP address") }
            switch address.family {
            case .ipv4:
                guard let mask = IPLiteral(subnet), let length = mask.contiguousMaskLength else {
                    throw .invalid("subnet \"\(subnet)\" of \(token) is not a contiguous IPv4 netmask")
                }
                addresses.append(Address(address: address, prefixLength: length))
            case .ipv6:
                guard !subnet.isEmpty, subnet.utf8.count <= 3, subnet.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let length = Int(subnet), length <= 128 else {
                    throw .invalid("prefix length \"\(subnet)\" of \(token) is not a number from 0 to 128")
                }
                addresses.append(Address(address: address, prefixLength: length))
            }
        }
        func literals(_ list: String, _ what: String) throws(IPConfigurationError) -> [IPLiteral] {
            var out: [IPLiteral] = []
            for token in HostIPList.tokens(list) {
                guard let literal = IPLiteral(token) else { throw .invalid("\(what) \"\(token)\" is not an IP address") }
                out.append(literal)
            }
            return out
        }
        self.init(dhcpV4: settings.dhcpEnabled, addresses: addresses,
                  gateways: try literals(settings.gateways, "gateway"),
                  dnsServers: try literals(settings.dnsServers, "DNS server"))
    }
}

/// Why a SET_IP_INFO was not applied, with the status the host gets.
public enum IPConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A token is not what its list needs (HV_INVALIDARG, as upstream for a bad address).
    case invalid(String)
    /// No interface has that VMBus instance GUID (HV_GUID_NOTFOUND, as upstream).
    case adapterNotFound(String)
    /// Anything else: no MAC, a file not written, the backend refused, verification failed
    /// (HV_E_FAIL).
    case failed(String)

    public var status: HResult {
        switch self {
        case .invalid: .invalidArgument
        case .adapterNotFound: .guidNotFound
        case .failed: .fail
        }
    }

    public var description: String {
        switch self {
        case let .invalid(why): "invalid request: \(why)"
        case let .adapterNotFound(id): "no network interface has VMBus instance \(id)"
        case let .failed(why): why
        }
    }
}
