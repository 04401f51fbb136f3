/// The two files hv_kvp_daemon writes for SET_IP_INFO — `ifcfg-<if>` and `<if>.nmconnection` in
/// `/var/lib/hyperv` — byte for byte as the current upstream daemon (Linux 6.12's
/// `kvp_set_ip_info()`) writes them, because tools and distribution scripts read them
/// (docs/PROTOCOL.md §7.19, checked against that daemon by Tests/kvp-setip).
///
/// Only the bytes are reproduced, not the daemon's failure modes: hvagent writes them only for a
/// request ``IPConfiguration`` accepted, into temporary files renamed into place, so a bad request
/// leaves the previous files as they were (COMPATIBILITY.md B9).
public struct CompatibilityFiles: Equatable, Sendable {
    /// `ifcfg-<if>`: RHEL network-scripts syntax.
    public var ifcfg: String
    /// `<if>.nmconnection`: NetworkManager keyfile syntax.
    public var keyfile: String

    public static func ifcfgName(_ interface: String) -> String { "ifcfg-" + interface }
    public static func keyfileName(_ interface: String) -> String { interface + ".nmconnection" }

    /// - Parameters:
    ///   - mac: `/sys/class/net/<if>/address` without its newline; upper-cased here as upstream does.
    public init(interface: String, mac: String, settings: HostIPSettings) throws(IPConfigurationError) {
        let mac = InjectionInterface.upperCased(mac)
        var ifcfg = "HWADDR=\(mac)\nDEVICE=\(interface)\n"
        ifcfg += "BOOTPROTO=\(settings.dhcpEnabled ? "dhcp" : "none")\n"
        ifcfg += try Self.ifcfgLines(settings.addresses, .address)
        ifcfg += try Self.ifcfgLines(settings.subnets, .netmask)
        ifcfg += try Self.ifcfgLines(settings.gateways, .gateway)
        ifcfg += try Self.ifcfgLines(settings.dnsServers, .dns)

        var keyfile = "\n[connection]\ninterface-name=\(interface)\n\n[ethernet]\nmac-address=\(mac)\n"
        for family in [IPLiteral.Family.ipv4, .ipv6] {
            keyfile += family == .ipv4 ? "\n[ipv4]\n" : "\n[ipv6]\n"
            let lines = try Self.keyfileAddresses(settings.addresses, settings.subnets, family)
            keyfile += lines
            switch family {
            case .ipv4: keyfile += "method=" + (settings.dhcpEnabled ? "auto" : lines.isEmpty ? "disabled" : "manual") + "\n"
            case .ipv6: keyfile += "method=" + (lines.isEmpty ? "auto" : "manual") + "\n"
            }
            keyfile += Self.keyfileList("gateway", settings.gateways, family)
            keyfile += Self.keyfileList("dns", settings.dnsServers, family)
        }
        self.ifcfg = ifcfg
        self.keyfile = keyfile
    }

    private enum ListKind {
        case address, netmask, gateway, dns
    }

    /// `process_ip_string()`: one `NAME<suffix>=value` line per token. IPv4 and IPv6 count
    /// separately (IPADDR0, IPADDR1 / IPV6ADDR, IPV6ADDR_1), the first IPv4 gateway has no number,
    /// DNS servers share one counter from 1, IPv6 values are written expanded, and in the netmask
    /// list anything that is not IPv4 is an IPv6 prefix written as sent.
    private static func ifcfgLines(_ list: String, _ kind: ListKind) throws(IPConfigurationError) -> String {
        var out = ""
        var v4 = 0, v6 = 0
        for token in HostIPList.tokens(list) {
            let literal = IPLiteral(token)
            let (v4Name, v6Name) = switch kind {
            case .address: ("IPADDR", "IPV6ADDR")
            case .netmask: ("NETMASK", "IPV6NETMASK")
            case .gateway: ("GATEWAY", "IPV6_DEFAULTGW")
            case .dns: ("DNS", "DNS")
            }
            if let literal, literal.family == .ipv4 {
                let suffix: String
                switch kind {
                case .dns: v4 += 1; suffix = String(v4)
                case .gateway where v4 == 0: v4 += 1; suffix = ""
                default: suffix = String(v4); v4 += 1
                }
                out += "\(v4Name)\(suffix)=\(token)\n"
            } else if literal != nil || kind == .netmask {
                let suffix: String
                switch kind {
                case .dns: v4 += 1; suffix = String(v4)
                default: suffix = v6 == 0 ? "" : "_\(v6)"; v6 += 1
                }
                out += "\(v6Name)\(suffix)=\(literal?.expanded ?? token)\n"
            } else {
                throw .invalid("\"\(token)\" is not an IP address")
            }
        }
        return out
    }

    /// `process_ip_string_nm()`: `addressN=<addr>/<plen>` for the addresses of one family, paired
    /// with the same-index subnet entry (the shorter list ends the pairing). IPv4 prefix = leading
    /// one bits of the mask, IPv6 = the entry's leading decimal digits (`atoi`).
    private static func keyfileAddresses(_ addresses: String, _ subnets: String,
                                         _ family: IPLiteral.Family) throws(IPConfigurationError) -> String {
        var out = ""
        var n = 0
        for (token, subnet) in zip(HostIPList.tokens(addresses), HostIPList.tokens(subnets)) {
            guard let literal = IPLiteral(token), literal.family == family else { continue }
            let plen: Int
            switch family {
            case .ipv4:
                guard let mask = IPLiteral(subnet), mask.family == .ipv4 else {
                    throw .invalid("subnet \"\(subnet)\" of \(token) is not an IPv4 netmask")
                }
                plen = mask.leadingOnes
            case .ipv6:
                plen = atoi(subnet)
            }
            n += 1
            out += "address\(n)=\(token)/\(plen)\n"
        }
        return out
    }

    /// `process_dns_gateway_nm()`: the family's entries ','-joined as sent; no line if none.
    private static func keyfileList(_ name: String, _ list: String, _ family: IPLiteral.Family) -> String {
        let entries = HostIPList.tokens(list).filter { IPLiteral($0)?.family == family }
        return entries.isEmpty ? "" : "\(name)=\(entries.joined(separator: ","))\n"
    }

    /// C's `atoi` on the leading part of a token: optional spaces and sign, then digits.
    private static func atoi(_ text: String) -> Int {
        var bytes = Substring(text).utf8.drop { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
        var sign = 1
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            sign = first == UInt8(ascii: "-") ? -1 : 1
            bytes = bytes.dropFirst()
        }
        var value = 0
        for b in bytes {
            guard b >= 0x30 && b <= 0x39, value < 1 << 40 else { break }
            value = value * 10 + Int(b - 0x30)
        }
        return sign * value
    }
}
