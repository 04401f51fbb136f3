import NetInfo
import SystemBus
#if canImport(Glibc)
import Glibc
#endif

/// Applies a configuration where systemd-networkd manages the interface: a `.network` file of
/// hvagent's own, `/etc/systemd/network/00-hvagent-<if>.network`, then networkd's own D-Bus API
/// (`Reload`, `ReconfigureLink`), so the result persists across reboots and networkd stays the one
/// manager of the interface (docs/PROTOCOL.md §7.19, docs/ARCHITECTURE.md "IP injection").
///
/// The file name: networkd gives a link the first `.network` file that matches it, in lexical
/// order of the file names across `/etc`, `/run` and `/lib` (systemd.network(5)). Installers,
/// cloud-init's netplan (`10-netplan-*`) and admins number theirs from 10 up, Debian's examples
/// from 80; `00-hvagent-` sorts before all of them, so hvagent's file replaces the one that
/// configures the interface today without editing it. A file that sorts earlier still and matches
/// the interface (an admin's `00-a.network`) would win over hvagent's: the backend reads which file
/// networkd applies (`/run/systemd/netif/links/<ifindex>`, `NETWORK_FILE=`) and refuses before
/// writing anything, rather than write a file networkd would never use.
///
/// If networkd refuses (not running, polkit denies the caller), the previous file is put back and
/// networkd reloaded again before the error goes up; the undo does the same.
public struct NetworkdBackend: IPConfigurationBackend {
    public var name: String { "systemd-networkd" }
    private let root: String
    private let busPath: String
    private let busTimeout: Duration

    /// - Parameters:
    ///   - root: prefix for `/etc/systemd/network` and `/run/systemd/netif` ("" on a live system,
    ///     a temporary directory in tests).
    ///   - busPath: the system bus socket (a private bus in tests).
    ///   - busTimeout: the bound of one reload: connecting, `Reload` and `ReconfigureLink` together.
    ///     networkd answers both calls at once (it re-reads its files and queues the link's
    ///     reconfiguration; the addresses come later, which ``IPInjector`` verifies), so a few
    ///     seconds are plenty. The host's reply waits for the apply's reload, the verification
    ///     (``IPInjector/Policy/verifyTimeout``) and, when that fails, the undo's reload: 3 + 20 + 3 s
    ///     stay inside hv_utils' 30 s transaction timeout.
    public init(root: String = "", busPath: String = DBusConnection.systemBusPath, busTimeout: Duration = .seconds(3)) {
        self.root = root == "/" ? "" : root
        self.busPath = busPath
        self.busTimeout = busTimeout
    }

    static func fileName(_ interface: InjectionInterface) -> String { "00-hvagent-\(interface.name).network" }

    struct Undo: IPConfigurationUndo {
        let backend: NetworkdBackend
        let backup: ConfigurationFileBackup
        let interface: InjectionInterface
        func undo() throws(IPConfigurationError) {
            try backup.restore()
            try backend.reload(interface)
        }
    }

    public func apply(_ configuration: IPConfiguration, to interface: InjectionInterface) throws(IPConfigurationError)
        -> any IPConfigurationUndo {
        try interface.checkedForConfigurationFiles()
        let ours = Self.fileName(interface)
        if let current = Self.linkState(interface, root: root)["NETWORK_FILE"], !current.isEmpty {
            let currentName = String(current.split(separator: "/").last ?? "")
            if currentName != ours && Array(currentName.utf8).lexicographicallyPrecedes(ours.utf8) {
                throw .failed("systemd-networkd configures \(interface.name) from \(current), which sorts before \(ours) "
                    + "and would still win over it; not applying (docs/PROTOCOL.md §7.19)")
            }
        }
        let backup = try ConfigurationFileBackup(directory: root + "/etc/systemd/network", name: ours)
        try backup.replace(with: Self.network(configuration, for: interface), mode: 0o644)
        do {
            try reload(interface)
        } catch {
            do throws(IPConfigurationError) {
                try backup.restore()
            } catch let restoring {
                throw .failed("\(error); and putting the previous \(backup.name) back failed: \(restoring)")
            }
            do throws(IPConfigurationError) {
                try reload(interface)
            } catch let reloading {
                throw .failed("\(error); previous \(backup.name) restored, but reloading networkd again failed too: \(reloading)")
            }
            throw .failed("\(error); previous \(backup.name) restored and networkd reloaded")
        }
        return Undo(backend: self, backup: backup, interface: interface)
    }

    /// `org.freedesktop.network1.Manager.Reload()` (networkd re-reads its `.network` files), then
    /// `ReconfigureLink(i ifindex)` so the link is configured from its file again even when
    /// networkd sees the file as unchanged (org.freedesktop.network1(5) of systemd 252), all within
    /// `busTimeout`. A bus error reply is thrown with its name and message.
    func reload(_ interface: InjectionInterface) throws(IPConfigurationError) {
        let deadline = ContinuousClock.now.advanced(by: busTimeout)
        do {
            let bus = try DBusConnection(path: busPath, timeout: busTimeout)
            for (member, body) in [("Reload", [DBusValue]()), ("ReconfigureLink", [.int32(interface.index)])] {
                try bus.call(destination: "org.freedesktop.network1", path: "/org/freedesktop/network1",
                             interface: "org.freedesktop.network1.Manager", member: member, body: body,
                             timeout: ContinuousClock.now.duration(to: deadline))
            }
        } catch {
            throw .failed("systemd-networkd: \(error)")
        }
    }

    /// hvagent's `.network` file for `configuration` on `interface` (systemd.network(5) of
    /// systemd 252). `[Match]` by MAC **and** name: with accelerated networking the SR-IOV virtual
    /// function has the synthetic NIC's MAC, and must not get its addresses. The first gateway of
    /// each family as `[Network] Gateway=` (metric 0 for IPv4, the kernel's 1024 for IPv6), further
    /// ones as `[Route]` sections with metrics 1, 2 … / 1025, … — fallbacks, as ``NetlinkBackend``
    /// and ``NetplanBackend`` add them, not equal-cost routes. `IPv6AcceptRA=no` with static IPv6
    /// addresses, as upstream's keyfile says `method=manual` then (``IfcfgBackend``:
    /// `IPV6_AUTOCONF=no`). Values need no quoting: addresses and a checked interface name.
    static func network(_ c: IPConfiguration, for interface: InjectionInterface) -> String {
        var out = """
            # Written by hvagent for the Hyper-V host's SET_IP_INFO; replaced by the next one.
            [Match]
            MACAddress=\(interface.mac)
            Name=\(interface.name)

            [Network]
            DHCP=\(c.dhcpV4 ? "ipv4" : "no")

            """
        if !c.ipv6Addresses.isEmpty { out += "IPv6AcceptRA=no\n" }
        for address in c.addresses { out += "Address=\(address)\n" }
        var fallbacks = ""
        for family in [IPLiteral.Family.ipv4, .ipv6] {
            for (n, gateway) in c.gateways.filter({ $0.family == family }).enumerated() {
                if n == 0 {
                    out += "Gateway=\(gateway)\n"
                } else {
                    fallbacks += "\n[Route]\nGateway=\(gateway)\nMetric=\(family == .ipv4 ? n : 1024 + n)\n"
                }
            }
        }
        for server in c.dnsServers { out += "DNS=\(server)\n" }
        return out + fallbacks
    }

    /// Whether systemd-networkd manages `interface` here: it runs (it writes
    /// `/run/systemd/netif/state` once started; the directories alone are made by tmpfiles.d
    /// whether it runs or not) and the link's state file names the `.network` file it applies
    /// (`NETWORK_FILE=`; an unmanaged link's file has `ADMIN_STATE=unmanaged` and no
    /// `NETWORK_FILE=`, `link_save()` of systemd 252). The state file stays after networkd stops;
    /// the D-Bus call then fails and the apply is rolled back.
    /// - Parameter root: prefix for `/run/systemd/netif` ("" or "/" on a live system).
    public static func manages(_ interface: InjectionInterface, root: String = "") -> Bool {
        let root = root == "/" ? "" : root
        var st = stat()
        guard stat(root + "/run/systemd/netif/state", &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        let state = linkState(interface, root: root)
        guard let file = state["NETWORK_FILE"], !file.isEmpty else { return false }
        return state["ADMIN_STATE"] != "unmanaged" && state["ADMIN_STATE"] != "linger"
    }

    /// The keys of `/run/systemd/netif/links/<ifindex>` (empty when there is none).
    static func linkState(_ interface: InjectionInterface, root: String) -> [String: String] {
        let root = root == "/" ? "" : root
        guard let text = readTextFile(root + "/run/systemd/netif/links/\(interface.index)", limit: 65536) else { return [:] }
        var keys: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let (key, value) = KeyValueLine.split(line)
            if !key.isEmpty && keys[key] == nil { keys[key] = value }
        }
        return keys
    }
}
