#if canImport(Glibc)
import Glibc
#endif

/// One IP address assigned to an interface, as rtnetlink reports it (an `RTM_NEWADDR` message).
///
/// A value type so that snapshots can cross threads and tests can build fake address lists
/// without a kernel.
public struct InterfaceAddress: Sendable, Hashable {
    /// The two families KVP knows about; everything else is ignored at the netlink boundary.
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// `ifa_index`: the interface the address belongs to.
    public var interfaceIndex: Int32
    public var family: Family
    /// The local address (`IFA_LOCAL`, or `IFA_ADDRESS` where the kernel sends only that), network
    /// byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8]
    /// `ifa_prefixlen`.
    public var prefixLength: Int
    /// `ifa_scope` (RT_SCOPE_UNIVERSE 0, RT_SCOPE_SITE 200, RT_SCOPE_LINK 253, RT_SCOPE_HOST 254).
    /// The kernel orders each interface's list by scope, so the tracker needs it to reproduce
    /// the dump order.
    public var scope: UInt8
    /// `IFA_FLAGS` / `ifa_flags` (IFA_F_SECONDARY 0x01, IFA_F_PERMANENT 0x80, ...).
    public var flags: UInt32

    /// `flags` defaults to IFA_F_PERMANENT: a statically configured address.
    public init(interfaceIndex: Int32, family: Family, bytes: [UInt8], prefixLength: Int, scope: UInt8 = 0, flags: UInt32 = 0x80) {
        self.interfaceIndex = interfaceIndex
        self.family = family
        self.bytes = bytes
        self.prefixLength = prefixLength
        self.scope = scope
        self.flags = flags
    }

    /// Parses a textual address (`inet_pton`); nil when it is neither IPv4 nor IPv6.
    public init?(interfaceIndex: Int32, text: String, prefixLength: Int, scope: UInt8 = 0, flags: UInt32 = 0x80) {
        if let v4 = InterfaceAddress.parse(text, family: AF_INET, size: 4) {
            self.init(interfaceIndex: interfaceIndex, family: .ipv4, bytes: v4, prefixLength: prefixLength, scope: scope, flags: flags)
        } else if let v6 = InterfaceAddress.parse(text, family: AF_INET6, size: 16) {
            self.init(interfaceIndex: interfaceIndex, family: .ipv6, bytes: v6, prefixLength: prefixLength, scope: scope, flags: flags)
        } else {
            return nil
        }
    }

    /// `inet_ntop` text: dotted quad, or the compressed lower-case IPv6 form without a %scope
    /// suffix — exactly what hv_kvp_daemon prints.
    public var text: String { InterfaceAddress.format(bytes, family: family) }

    /// fe80::/10. Excluded from the auto pool unless the rules ask for it.
    public var isIPv6LinkLocal: Bool {
        family == .ipv6 && bytes.count == 16 && bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80
    }

    /// IFA_F_SECONDARY: the kernel keeps secondaries after all primaries.
    public var isSecondary: Bool { flags & 0x01 != 0 }

    /// IFA_F_PERMANENT: unset when the address has a finite lifetime, which is how DHCP clients
    /// (NetworkManager, systemd-networkd, dhcpcd, dhclient-script) install leased addresses.
    public var isPermanent: Bool { flags & 0x80 != 0 }

    /// IFA_F_TENTATIVE: IPv6 duplicate address detection has not finished, or has failed (the
    /// kernel sets IFA_F_DADFAILED 0x08 with it and never clears it): the address is listed but
    /// not usable, so it does not count as configured (SET_IP_INFO verification).
    public var isTentative: Bool { flags & 0x40 != 0 }

    /// `inet_pton` of `text` for `family` (AF_INET, AF_INET6): `size` bytes, or nil.
    public static func parse(_ text: String, family: Int32, size: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let ok = buffer.withUnsafeMutableBytes { raw in inet_pton(family, text, raw.baseAddress) }
        return ok == 1 ? Array(buffer.prefix(size)) : nil
    }

    /// `inet_ntop` text of network-order bytes; empty for a wrong length.
    public static func format(_ bytes: [UInt8], family: Family) -> String {
        let af = family == .ipv4 ? AF_INET : AF_INET6
        guard bytes.count == (family == .ipv4 ? 4 : 16) else { return "" }
        var out = [CChar](repeating: 0, count: 64)
        let ok = bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in
                inet_ntop(af, src.baseAddress, dst.baseAddress, socklen_t(dst.count)) != nil
            }
        }
        guard ok else { return "" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
