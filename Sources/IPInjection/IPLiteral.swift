import NetInfo
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address literal from the host, parsed with `inet_pton` — the parser
/// hv_kvp_daemon uses, so the same tokens are accepted (no leading zeros in IPv4 octets, no zone
/// suffix, at most 45 characters).
public struct IPLiteral: Hashable, Sendable, CustomStringConvertible {
    /// The two families NetInfo's addresses have.
    public typealias Family = InterfaceAddress.Family

    public let family: Family
    /// Network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// nil when `text` is neither an IPv4 nor an IPv6 literal.
    public init?(_ text: String) {
        // INET6_ADDRSTRLEN - 1: nothing longer is an address (and upstream copies tokens into a
        // 46-byte buffer, COMPATIBILITY.md B9).
        guard text.utf8.count < 46, !text.utf8.contains(0) else { return nil }
        if let v4 = InterfaceAddress.parse(text, family: AF_INET, size: 4) {
            family = .ipv4
            bytes = v4
        } else if let v6 = InterfaceAddress.parse(text, family: AF_INET6, size: 16) {
            family = .ipv6
            bytes = v6
        } else {
            return nil
        }
    }

    /// Dotted quad or RFC 5952 text (`inet_ntop`).
    public var description: String { InterfaceAddress.format(bytes, family: family) }

    /// IPv6 in the fully expanded form the ifcfg file uses (`expand_ipv6()`: eight groups of four
    /// lower-case hex digits); IPv4 unchanged.
    public var expanded: String {
        guard family == .ipv6 else { return description }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for (i, b) in bytes.enumerated() {
            if i > 0 && i % 2 == 0 { out.append(UInt8(ascii: ":")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The prefix length of an IPv4 netmask, nil unless the mask is contiguous ones then zeros.
    public var contiguousMaskLength: Int? {
        guard family == .ipv4 else { return nil }
        let ones = leadingOnes
        return maskValue << ones == 0 ? ones : nil   // Swift's << by 32 gives 0
    }

    /// Leading one bits of an IPv4 netmask, as `kvp_subnet_to_plen()` counts them (a
    /// non-contiguous mask still counts only its leading ones).
    var leadingOnes: Int { (~maskValue).leadingZeroBitCount }

    private var maskValue: UInt32 { bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
}

extension IPLiteral {
    /// From network-order bytes (4 or 16); nil for any other length.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self.init(family: .ipv4, bytes: bytes)
        case 16: self.init(family: .ipv6, bytes: bytes)
        default: return nil
        }
    }

    private init(family: Family, bytes: [UInt8]) {
        self.family = family
        self.bytes = bytes
    }
}
