#if canImport(Glibc)
import Glibc
#endif

/// Which interfaces and addresses feed the auto pool's NetworkAddressIPv4 / NetworkAddressIPv6.
///
/// hv_kvp_daemon lists every address of every non-loopback interface, so Hyper-V Manager shows
/// container bridges, veth ends and IPv6 link-local addresses next to the VM's real address,
/// and a busy container host overflows the 1022-character value (docs/COMPATIBILITY.md B6). These rules are
/// the fix; the defaults drop what is never the VM's identity on the host's network.
///
/// Evaluation, per interface name (shell-style globs, `fnmatch(3)` without flags):
/// 1. An interface with IFF_LOOPBACK is always excluded (upstream's rule).
/// 2. If `includeOnly` is non-empty, the interface is included exactly when its name matches one
///    of those patterns; `exclude` is then not consulted (an explicit include wins).
/// 3. Otherwise the interface is included unless its name matches one of `exclude`.
/// Per address: IPv6 link-local (fe80::/10) addresses are included only when
/// `includeIPv6LinkLocal` is true (default false; upstream includes them).
///
/// Defaults: `exclude` = `InterfaceRules.defaultExclude`, `includeOnly` = [],
/// `includeIPv6LinkLocal` = false. GET_IP_INFO applies only the link-local rule: the host names
/// the adapter itself (by MAC), so name patterns do not apply there.
public struct InterfaceRules: Sendable, Hashable {
    /// lo, and the virtual interfaces of Docker, libvirt, Kubernetes CNI plugins and flannel.
    public static let defaultExclude = ["lo", "docker*", "veth*", "virbr*", "cni*", "flannel*"]

    public var exclude: [String]
    public var includeOnly: [String]
    public var includeIPv6LinkLocal: Bool

    public init(exclude: [String] = InterfaceRules.defaultExclude, includeOnly: [String] = [], includeIPv6LinkLocal: Bool = false) {
        self.exclude = exclude
        self.includeOnly = includeOnly
        self.includeIPv6LinkLocal = includeIPv6LinkLocal
    }

    /// Whether the auto pool lists addresses of this interface.
    public func admits(_ interface: NetworkInterface) -> Bool {
        admits(interfaceNamed: interface.name, isLoopback: interface.isLoopback)
    }

    public func admits(interfaceNamed name: String, isLoopback: Bool) -> Bool {
        if isLoopback { return false }
        if !includeOnly.isEmpty { return includeOnly.contains { InterfaceRules.matches(pattern: $0, name: name) } }
        return !exclude.contains { InterfaceRules.matches(pattern: $0, name: name) }
    }

    /// Whether an address on an admitted interface is listed.
    public func admits(_ address: InterfaceAddress) -> Bool {
        includeIPv6LinkLocal || !address.isIPv6LinkLocal
    }

    static func matches(pattern: String, name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
