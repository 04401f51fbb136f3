import HVProtocol
import SystemBus

/// The NetworkManager connection profile (`a{sa{sv}}`, nm-settings-dbus(5)) that carries an
/// ``IPConfiguration`` for one interface: hvagent's own profile, `hvagent-<if>`, bound to the
/// interface's name and MAC, so applying it never edits a profile an admin made
/// (docs/PROTOCOL.md §7.19, "NetworkManager").
enum NetworkManagerSettings {
    /// The profile's `connection.id`.
    static func profileName(_ interface: InjectionInterface) -> String { "hvagent-\(interface.name)" }

    /// A UUID that is the same for the same interface name every time, so a second SET_IP_INFO
    /// updates the profile the first one made instead of adding another (RFC 4122 layout,
    /// version 4 bits; the value is a hash of the name, not random).
    static func profileUUID(_ interface: InjectionInterface) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in ("hvagent-ip-injection:" + interface.name).utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 0x9e37_79b9
        }
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        // VMBusGUID prints the first three fields from the Windows byte order; give it that order
        // so it prints `bytes` as they are.
        let wire = [bytes[3], bytes[2], bytes[1], bytes[0], bytes[5], bytes[4], bytes[7], bytes[6]] + bytes[8...]
        return VMBusGUID(wireBytes: wire)?.description ?? ""
    }

    /// The MAC's six bytes (`802-3-ethernet.mac-address` is `ay`).
    static func macBytes(_ mac: String) -> [UInt8]? {
        let groups = mac.split(separator: ":", omittingEmptySubsequences: false)
        guard groups.count == 6 else { return nil }
        var out: [UInt8] = []
        for g in groups {
            guard g.utf8.count == 2, let v = UInt8(g, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    /// The profile for `configuration` on `interface`.
    ///
    /// IPv4: `manual` with the host's addresses, or `auto` (DHCP) when the host asked for it (its
    /// static addresses, if any, added, as the upstream keyfile does); `disabled` when the host
    /// gave neither. IPv6: `manual` with the host's addresses, else `auto` — the host's request
    /// says nothing about IPv6 then, and the link keeps its router-advertised configuration. The
    /// first gateway of each family is the profile's `gateway`; further ones are default routes
    /// with metrics 1, 2… (IPv4) and 1025… (IPv6), as the other backends write them. DNS servers
    /// go to `dns` (`au` in network byte order for IPv4, `aay` for IPv6).
    static func profile(_ configuration: IPConfiguration, for interface: InjectionInterface) throws(IPConfigurationError) -> DBusValue {
        guard let mac = macBytes(interface.mac) else { throw .failed("\(interface.name)'s address \"\(interface.mac)\" is not an Ethernet MAC address") }
        let connection: [(String, DBusValue)] = [
            ("id", .string(profileName(interface))),
            ("uuid", .string(profileUUID(interface))),
            ("type", .string("802-3-ethernet")),
            ("interface-name", .string(interface.name)),
            ("autoconnect", .boolean(true)),
            // Above the default 0: at boot NetworkManager picks this profile over others for the NIC.
            ("autoconnect-priority", .int32(100)),
        ]
        let ethernet: [(String, DBusValue)] = [("mac-address", .array(.byte, mac.map { .byte($0) }))]
        return .settings([("connection", connection), ("802-3-ethernet", ethernet),
                          ("ipv4", family(configuration, .ipv4)), ("ipv6", family(configuration, .ipv6))])
    }

    private static func family(_ c: IPConfiguration, _ family: IPLiteral.Family) -> [(String, DBusValue)] {
        let addresses = c.addresses.filter { $0.address.family == family }
        let gateways = c.gateways.filter { $0.family == family }
        let dns = c.dnsServers.filter { $0.family == family }
        let method: String
        switch family {
        case .ipv4: method = c.dhcpV4 ? "auto" : (addresses.isEmpty ? "disabled" : "manual")
        case .ipv6: method = addresses.isEmpty ? "auto" : "manual"
        }
        var out: [(String, DBusValue)] = [("method", .string(method))]
        if !addresses.isEmpty {
            out.append(("address-data", .array(.array(.dictEntry(key: .string, value: .variant)), addresses.map {
                .dictionary([("address", .string($0.address.description)), ("prefix", .uint32(UInt32($0.prefixLength)))])
            })))
        }
        if let first = gateways.first, method != "disabled" {
            out.append(("gateway", .string(first.description)))
            let metricBase: UInt32 = family == .ipv4 ? 0 : 1024
            let more = gateways.dropFirst().enumerated().map { index, gateway in
                DBusValue.dictionary([("dest", .string(family == .ipv4 ? "0.0.0.0" : "::")), ("prefix", .uint32(0)),
                                      ("next-hop", .string(gateway.description)), ("metric", .uint32(metricBase + UInt32(index) + 1))])
            }
            if !more.isEmpty { out.append(("route-data", .array(.array(.dictEntry(key: .string, value: .variant)), more))) }
        }
        if !dns.isEmpty, method != "disabled" {
            switch family {
            case .ipv4:
                out.append(("dns", .array(.uint32, dns.map { d in
                    let b = d.bytes
                    return .uint32(UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
                })))
            case .ipv6:
                out.append(("dns", .array(.array(.byte), dns.map { .array(.byte, $0.bytes.map { .byte($0) }) })))
            }
            // The host's servers only, not the DHCP server's as well.
            if method == "auto", family == .ipv4 { out.append(("ignore-auto-dns", .boolean(true))) }
        }
        return out
    }
}
