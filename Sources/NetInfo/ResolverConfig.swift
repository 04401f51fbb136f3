#if canImport(Glibc)
import Glibc
#endif

/// DNS servers for GET_IP_INFO, read in-process instead of through hv_get_dns_info.
///
/// Order of sources:
/// 1. systemd-resolved's per-link state, `/run/systemd/resolve/netif/<ifindex>` (`SERVERS=`),
///    when it lists servers for that interface;
/// 2. `/etc/resolv.conf` `nameserver` lines (what upstream's Debian/upstream helper prints);
///    when those are only resolved's stub (127.0.0.53 / 127.0.0.54), the real upstream servers
///    in `/run/systemd/resolve/resolv.conf` instead.
/// Only valid IPv4/IPv6 literals are kept (port, `%scope` and `#name` suffixes removed).
public struct ResolverConfig: Sendable {
    /// Prefix for every path ("/" on a live system, a temp dir in tests).
    public var root: String

    public init(root: String = "/") {
        self.root = root
    }

    public func dnsServers(interfaceIndex: Int32) -> [String] {
        if let link = readTextFile(path("/run/systemd/resolve/netif/\(interfaceIndex)")) {
            let servers = ResolverConfig.parseResolvedLinkState(link)
            if !servers.isEmpty { return servers }
        }
        let main = readTextFile(path("/etc/resolv.conf")).map(ResolverConfig.parseResolvConf) ?? []
        let stubs: Set<String> = ["127.0.0.53", "127.0.0.54"]
        if !main.isEmpty, main.allSatisfy({ stubs.contains($0) }),
           let upstream = readTextFile(path("/run/systemd/resolve/resolv.conf")).map(ResolverConfig.parseResolvConf),
           !upstream.isEmpty {
            return upstream
        }
        return main
    }

    private func path(_ p: String) -> String { root == "/" ? p : root + p }

    /// `nameserver ADDR` lines; comments (`#`, `;`) and other keywords ignored.
    public static func parseResolvConf(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            return literal(String(words[1]))
        }
    }

    /// systemd-resolved link state file: `SERVERS=a b c` (entries may carry `:port`, `%ifindex`,
    /// `#server-name`, and IPv6 with a port is bracketed).
    public static func parseResolvedLinkState(_ text: String) -> [String] {
        for line in text.split(separator: "\n") where line.hasPrefix("SERVERS=") {
            return line.dropFirst("SERVERS=".count).split(separator: " ").compactMap { literal(String($0)) }
        }
        return []
    }

    /// The bare address of a server entry, or nil when it is not an IP literal.
    static func literal(_ entry: String) -> String? {
        var s = Substring(entry)
        if let hash = s.firstIndex(of: "#") { s = s[..<hash] }
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
            s = s[s.index(after: s.startIndex)..<close]
        } else if s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") {
            s = s[..<colon]  // IPv4 with :port
        }
        if let percent = s.firstIndex(of: "%") { s = s[..<percent] }
        let text = String(s)
        return InterfaceAddress(interfaceIndex: 0, text: text, prefixLength: 0) != nil ? text : nil
    }
}

/// Whether DHCP configures an interface, decided in-process instead of through
/// hv_get_dhcp_info.
///
/// 1. systemd-networkd: a lease file `/run/systemd/netif/leases/<ifindex>` ⇒ enabled.
/// 2. Otherwise the kernel's own record: an IPv4 address with a finite lifetime (no
///    IFA_F_PERMANENT) ⇒ enabled. NetworkManager, systemd-networkd, dhcpcd and dhclient-script
///    all install leased addresses with the lease time as lifetime; static configuration
///    installs permanent ones. This needs no knowledge of each manager's private state files.
/// 3. Otherwise disabled.
public struct DHCPState: Sendable {
    public var root: String

    public init(root: String = "/") {
        self.root = root
    }

    public func isEnabled(interfaceIndex: Int32, addresses: [InterfaceAddress]) -> Bool {
        let lease = (root == "/" ? "" : root) + "/run/systemd/netif/leases/\(interfaceIndex)"
        if access(lease, F_OK) == 0 { return true }
        return addresses.contains { $0.family == .ipv4 && !$0.isPermanent }
    }
}
