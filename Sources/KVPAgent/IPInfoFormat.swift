/// hv_kvp_daemon's GET_IP_INFO text formats (docs/PROTOCOL.md §7.18), with bounds:
/// entries are added whole while they fit the host's field (ip_addr,
/// sub_net, dns_addr 1024 UTF-16 units, gate_way 512, each with its NUL),
/// so a long list is cut at an entry boundary instead of mid-address
/// (bugs B6, B7), and ip_addr / sub_net stay index-aligned.
enum IPInfoFormat {
    static let addressFieldChars = 1023
    static let gatewayFieldChars = 511

    static func reply(adapterID: String, info: IPInfo) -> IPInfoReply {
        var family: UInt8 = 0
        var ips: [String] = [], subnets: [String] = []
        var ipLen = -1, subLen = -1  // joined length without trailing ';'
        for a in info.addresses {
            let mask = subnetText(a)
            guard ipLen + 1 + a.address.utf8.count <= addressFieldChars,
                  subLen + 1 + mask.utf8.count <= addressFieldChars else { break }
            ips.append(a.address)
            subnets.append(mask)
            ipLen += 1 + a.address.utf8.count
            subLen += 1 + mask.utf8.count
            family |= a.isIPv6 ? 2 : 1
        }
        return IPInfoReply(
            adapterID: adapterID, addressFamily: family, dhcpEnabled: info.dhcpEnabled,
            ipAddresses: ips.joined(separator: ";"), subnets: subnets.joined(separator: ";"),
            gateways: terminatedList(info.gateways, max: gatewayFieldChars),
            dnsServers: terminatedList(info.dnsServers, max: addressFieldChars))
    }

    /// "255.255.255.0" for IPv4, "/64" for IPv6 (the daemon's format).
    static func subnetText(_ a: IPInfo.Address) -> String {
        if a.isIPv6 { return "/\(min(max(a.prefixLength, 0), 128))" }
        let bits = min(max(a.prefixLength, 0), 32)
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return "\(mask >> 24).\((mask >> 16) & 0xFF).\((mask >> 8) & 0xFF).\(mask & 0xFF)"
    }

    /// Every entry followed by ';', whole entries only.
    static func terminatedList(_ items: [String], max: Int) -> String {
        var out = ""
        for i in items where out.utf8.count + i.utf8.count + 1 <= max {
            out += i + ";"
        }
        return out
    }
}
