import HVProtocol

/// The agent's request to `hvagent ip-helper`: one host SET_IP_INFO (``HostIPSettings``), one
/// SOCK_SEQPACKET packet (docs/PROTOCOL.md §7.19.1).
///
/// Layout, little-endian: `version` u8 (1), `addressFamily` u8, `dhcpEnabled` u8 (0 or 1),
/// reserved u8 (0), then five strings, each a u16 byte count and that many bytes of UTF-8 with no
/// NUL: adapter id, addresses, subnets, gateways, DNS servers. Nothing may follow. Each string has
/// a maximum (``limits``): the host's field size in UTF-16 units times 3, the most UTF-8 bytes one
/// unit becomes, so any request a front end decoded fits, and the helper can bound what it reads.
public struct IPHelperRequest: Equatable, Sendable {
    public static let version: UInt8 = 1
    /// Byte limits of the five strings, in order: the host's `adapter_id[128]`, `ip_addr[1024]`,
    /// `sub_net[1024]`, `gate_way[512]`, `dns_addr[1024]` (UTF-16 units) times 3.
    public static let limits = [128 * 3, 1024 * 3, 1024 * 3, 512 * 3, 1024 * 3]
    /// The largest valid request: the 4-byte header, five length fields and the strings at their limits.
    public static let maximumSize = 4 + 2 * limits.count + limits.reduce(0, +)

    public var settings: HostIPSettings

    public init(_ settings: HostIPSettings) {
        self.settings = settings
    }

    private var strings: [String] {
        [settings.adapterID, settings.addresses, settings.subnets, settings.gateways, settings.dnsServers]
    }

    /// The packet; nil when a string is over its limit or holds a NUL (never from a front end,
    /// whose fields are smaller; the client then answers HV_INVALIDARG without asking).
    public var encoded: [UInt8]? {
        var bytes: [UInt8] = [Self.version, settings.addressFamily, settings.dhcpEnabled ? 1 : 0, 0]
        for (text, limit) in zip(strings, Self.limits) {
            let utf8 = Array(text.utf8)
            guard utf8.count <= limit, !utf8.contains(0) else { return nil }
            LittleEndian.append(UInt16(utf8.count), to: &bytes)
            bytes += utf8
        }
        return bytes
    }

    /// Nil for anything malformed: short or oversized, another version, a reserved byte or DHCP
    /// flag out of range, a length past the end or over its limit, invalid UTF-8, a NUL, or bytes
    /// after the last string.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 4, bytes.count <= Self.maximumSize, bytes[0] == Self.version, bytes[2] <= 1, bytes[3] == 0 else {
            return nil
        }
        var offset = 4
        var strings: [String] = []
        for limit in Self.limits {
            guard let length = LittleEndian.u16(bytes, at: offset).map(Int.init), length <= limit,
                  offset + 2 + length <= bytes.count else { return nil }
            let field = bytes[(offset + 2)..<(offset + 2 + length)]
            guard !field.contains(0), let text = String(validating: field, as: UTF8.self) else { return nil }
            strings.append(text)
            offset += 2 + length
        }
        guard offset == bytes.count else { return nil }
        settings = HostIPSettings(adapterID: strings[0], addressFamily: bytes[1], dhcpEnabled: bytes[2] == 1,
                                  addresses: strings[1], subnets: strings[2], gateways: strings[3], dnsServers: strings[4])
    }
}
