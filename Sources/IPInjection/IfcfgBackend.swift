#if canImport(Glibc)
import Glibc
#endif

/// The RHEL layout (initscripts' network-scripts, NetworkManager's ifcfg-rh plugin):
/// `/etc/sysconfig/network-scripts/ifcfg-<if>` written so the configuration survives a reboot,
/// and the configuration applied now by another backend (``NetlinkBackend``): for a system where
/// that directory is read but neither NetworkManager nor systemd-networkd manages the interface
/// (docs/ARCHITECTURE.md, "IP injection"; the keys are in docs/PROTOCOL.md §7.19).
///
/// The file is replaced as a whole, as upstream's `hv_set_ifconfig` replaces it by copying; the
/// undo undoes the live change and puts the file's previous bytes back (or removes it).
public struct IfcfgBackend: IPConfigurationBackend {
    public var name: String { "ifcfg+\(live.name)" }
    private let root: String
    private let live: any IPConfigurationBackend

    /// - Parameters:
    ///   - live: applies the configuration to the running system (``NetlinkBackend``).
    ///   - root: prefix for `/etc/sysconfig` ("" on a live system, a temporary directory in tests).
    public init(live: any IPConfigurationBackend, root: String = "") {
        self.live = live
        self.root = root == "/" ? "" : root
    }

    static func directory(root: String) -> String { (root == "/" ? "" : root) + "/etc/sysconfig/network-scripts" }

    /// Whether this system has the RHEL layout (its network-scripts directory exists).
    public static func applies(root: String = "") -> Bool {
        var st = stat()
        return stat(directory(root: root), &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    struct Undo: IPConfigurationUndo {
        let live: any IPConfigurationUndo
        let backup: ConfigurationFileBackup
        func undo() throws(IPConfigurationError) {
            var failure: IPConfigurationError?
            do { try live.undo() } catch { failure = error }
            do { try backup.restore() } catch { failure = failure ?? error }
            if let failure { throw failure }
        }
    }

    public func apply(_ configuration: IPConfiguration, to interface: InjectionInterface) throws(IPConfigurationError)
        -> any IPConfigurationUndo {
        try interface.checkedForConfigurationFiles()
        let backup = try ConfigurationFileBackup(directory: Self.directory(root: root), name: "ifcfg-" + interface.name)
        try backup.replace(with: Self.ifcfg(configuration, for: interface), mode: 0o644)
        do {
            return Undo(live: try live.apply(configuration, to: interface), backup: backup)
        } catch {
            do throws(IPConfigurationError) {
                try backup.restore()
            } catch let restoring {
                throw .failed("\(error); and putting the previous \(backup.name) back failed: \(restoring)")
            }
            throw error
        }
    }

    /// The `ifcfg-<if>` file for `configuration`: the keys both initscripts (`sysconfig.txt`) and
    /// NetworkManager's ifcfg-rh (`nm-settings-ifcfg-rh(5)`) read. Addresses as `IPADDRn`/`PREFIXn`
    /// from 0; the first IPv4 gateway as `GATEWAY` and the first IPv6 one as `IPV6_DEFAULTGW`
    /// (the format has one default gateway per family; further ones are applied live only);
    /// `IPV6_AUTOCONF=no` when static IPv6 addresses are given (the keyfile's `method=manual`),
    /// SLAAC left on otherwise; DNS servers of both families as `DNS1…`. Values need no quoting
    /// (addresses, numbers, a checked interface name) except the space-separated secondaries.
    static func ifcfg(_ c: IPConfiguration, for interface: InjectionInterface) -> String {
        var out = """
            # Written by hvagent for the Hyper-V host's SET_IP_INFO; replaced by the next one.
            DEVICE=\(interface.name)
            HWADDR=\(interface.upperCaseMAC)
            TYPE=Ethernet
            ONBOOT=yes
            BOOTPROTO=\(c.dhcpV4 ? "dhcp" : "none")

            """
        for (n, a) in c.ipv4Addresses.enumerated() {
            out += "IPADDR\(n)=\(a.address)\nPREFIX\(n)=\(a.prefixLength)\n"
        }
        if let gateway = c.gateways.first(where: { $0.family == .ipv4 }) { out += "GATEWAY=\(gateway)\n" }
        out += "IPV6INIT=yes\n"
        let v6 = c.ipv6Addresses
        if let first = v6.first {
            out += "IPV6_AUTOCONF=no\nIPV6ADDR=\(first)\n"
            if v6.count > 1 { out += "IPV6ADDR_SECONDARIES=\"\(v6.dropFirst().map(\.description).joined(separator: " "))\"\n" }
        }
        if let gateway = c.gateways.first(where: { $0.family == .ipv6 }) { out += "IPV6_DEFAULTGW=\(gateway)\n" }
        for (n, server) in c.dnsServers.enumerated() { out += "DNS\(n + 1)=\(server)\n" }
        return out
    }
}
