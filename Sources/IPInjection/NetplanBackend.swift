import FoundationEssentials
import HVSystem
import NetInfo
import ProcessSupport
#if canImport(Glibc)
import Glibc
#endif

/// Applies a configuration where netplan generates the interface's configuration (Ubuntu, and
/// Debian with netplan.io): a YAML file of hvagent's own, `/etc/netplan/90-hvagent-<if>.yaml`, then
/// netplan's own `netplan apply`, so the result persists across reboots and netplan stays the one
/// source of the interface's configuration (docs/PROTOCOL.md §7.19, docs/ARCHITECTURE.md "IP
/// injection").
///
/// The definition's ID is the interface name — the ID cloud-init and the installers give it — so
/// hvagent's file, read after theirs, amends their definition: its `dhcp4` replaces theirs and
/// its addresses, routes and name servers are added (netplan appends lists across files; it has no
/// way to remove an entry another file lists, COMPATIBILITY.md "SET_IP_INFO").
///
/// The undo puts the file's previous bytes back (or removes it) and applies again.
public struct NetplanBackend: IPConfigurationBackend {
    public var name: String { "netplan" }
    private let root: String
    private let netplan: String
    private let applyTimeout: Duration

    /// - Parameters:
    ///   - root: prefix for `/etc/netplan` ("" on a live system, a temporary directory in tests).
    ///   - netplan: the program run as `<netplan> apply`.
    ///   - applyTimeout: how long `netplan apply` may run before it is killed (plus a second's
    ///     grace) and the file put back. The host's reply waits for the apply, the verification
    ///     (``IPInjector/Policy/verifyTimeout``) and, when that fails, the undo's second apply: all
    ///     three must fit in hv_utils' 30 s transaction timeout, e.g. 8 + 1, 10, 8 + 1 s.
    public init(root: String = "", netplan: String = "/usr/sbin/netplan", applyTimeout: Duration = .seconds(8)) {
        self.root = root == "/" ? "" : root
        self.netplan = netplan
        self.applyTimeout = applyTimeout
    }

    /// What is left of hv_utils' 30 s for the verification after the apply and the undo's apply
    /// (each bounded by `applyTimeout` plus a second's grace), with 2 s to spare.
    public var longestVerification: Duration? {
        max(.seconds(1), .seconds(28) - (applyTimeout + .seconds(1)) * 2)
    }

    static func fileName(_ interface: InjectionInterface) -> String { "90-hvagent-\(interface.name).yaml" }

    struct Undo: IPConfigurationUndo {
        let backend: NetplanBackend
        let backup: ConfigurationFileBackup
        func undo() throws(IPConfigurationError) {
            try backup.restore()
            try backend.runApply()
        }
    }

    public func apply(_ configuration: IPConfiguration, to interface: InjectionInterface) throws(IPConfigurationError)
        -> any IPConfigurationUndo {
        try interface.checkedForConfigurationFiles()
        let backup = try ConfigurationFileBackup(directory: root + "/etc/netplan", name: Self.fileName(interface))
        // 0600: netplan warns about configuration files others can read.
        try backup.replace(with: Self.yaml(configuration, for: interface), mode: 0o600)
        do {
            try runApply()
        } catch {
            var message = "\(error); "
            do throws(IPConfigurationError) {
                try backup.restore()
                try runApply()
                message += "previous \(backup.name) restored and applied"
            } catch {
                message += "and putting the previous \(backup.name) back failed: \(error)"
            }
            throw .failed(message)
        }
        return Undo(backend: self, backup: backup)
    }

    /// `netplan apply`, bounded; its stderr goes into the error.
    func runApply() throws(IPConfigurationError) {
        let (seconds, attoseconds) = applyTimeout.components
        let deadline = Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
        let (outcome, errors) = BoundedProcess.runCapturingErrors(path: netplan, arguments: ["apply"], deadline: deadline)
        let said = errors.split(whereSeparator: \.isNewline).suffix(5).joined(separator: " / ")
        let complaint = said.isEmpty ? "" : ": " + String(said.prefix(1000))
        switch outcome {
        case .exited(0): return
        case let .exited(status): throw .failed("\(netplan) apply exited with status \(status)\(complaint)")
        case let .signalled(signal): throw .failed("\(netplan) apply was killed by signal \(signal)\(complaint)")
        case .timedOut: throw .failed("\(netplan) apply did not finish within \(applyTimeout); killed\(complaint)")
        case let .failedToStart(code): throw .failed("cannot run \(netplan): \(Errno(rawValue: code))")
        }
    }

    /// hvagent's netplan file for `configuration` on `interface` (netplan 0.106's keys: `routes:`
    /// with `to: default` instead of the deprecated `gateway4`/`gateway6`). Every value is
    /// double-quoted: an unquoted `2001:db8::1` or a name like `null` would mean something else
    /// to a YAML 1.1 reader. A second gateway of a family gets a metric (IPv4 1, 2, …; IPv6 1025,
    /// …, the kernel's 1024 being the first's), as ``NetlinkBackend`` does, so it is a fallback and
    /// netplan sees no conflicting default routes.
    static func yaml(_ c: IPConfiguration, for interface: InjectionInterface) -> String {
        var out = """
            # Written by hvagent for the Hyper-V host's SET_IP_INFO; replaced by the next one.
            network:
              version: 2
              ethernets:
                "\(interface.name)":
                  match:
                    macaddress: "\(interface.mac)"
                  dhcp4: \(c.dhcpV4)

            """
        if !c.addresses.isEmpty {
            out += "      addresses:\n" + c.addresses.map { "        - \"\($0)\"\n" }.joined()
        }
        if !c.gateways.isEmpty {
            out += "      routes:\n"
            for family in [IPLiteral.Family.ipv4, .ipv6] {
                for (n, gateway) in c.gateways.filter({ $0.family == family }).enumerated() {
                    out += "        - to: default\n          via: \"\(gateway)\"\n"
                    if n > 0 { out += "          metric: \(family == .ipv4 ? n : 1024 + n)\n" }
                }
            }
        }
        if !c.dnsServers.isEmpty {
            out += "      nameservers:\n        addresses:\n" + c.dnsServers.map { "          - \"\($0)\"\n" }.joined()
        }
        return out
    }

    /// Whether netplan generates the configuration of `interface` here: a file netplan generated
    /// names it (`/run/systemd/network/10-netplan-*.network` by `Name=` or MAC,
    /// `/run/NetworkManager/system-connections/netplan-*.nmconnection` by `interface-name=` or
    /// `mac-address=`), or a netplan YAML file (`/etc/netplan`, `/run/netplan`, `/lib/netplan`)
    /// mentions its name or MAC. A definition that matches it only by a pattern (`en*`, a driver)
    /// is seen through the generated files alone, which exist once netplan has run.
    /// - Parameter root: prefix for those directories ("" or "/" on a live system).
    public static func generates(_ interface: InjectionInterface, root: String = "") -> Bool {
        let root = root == "/" ? "" : root
        let name = interface.name, mac = interface.mac.lowercased()
        for text in texts(in: root + "/run/systemd/network", prefix: "10-netplan-", suffix: ".network") {
            for line in text.split(whereSeparator: \.isNewline) {
                let (key, value) = KeyValueLine.split(line)
                if key == "Name" && value.split(separator: " ").contains(Substring(name)) { return true }
                if (key == "MACAddress" || key == "PermanentMACAddress") && value.lowercased().split(separator: " ").contains(Substring(mac)) {
                    return true
                }
            }
        }
        for text in texts(in: root + "/run/NetworkManager/system-connections", prefix: "netplan-", suffix: ".nmconnection") {
            for line in text.split(whereSeparator: \.isNewline) {
                let (key, value) = KeyValueLine.split(line)
                if (key == "interface-name" && value == name) || (key == "mac-address" && value.lowercased() == mac) { return true }
            }
        }
        for directory in ["/etc/netplan", "/run/netplan", "/lib/netplan"] {
            for text in texts(in: root + directory, prefix: "", suffix: ".yaml")
            where mentions(text, name) || mentions(text.lowercased(), mac) {
                return true
            }
        }
        return false
    }

    /// `word` in `text` with no name character ([A-Za-z0-9_.-]) right before or after it.
    static func mentions(_ text: String, _ word: String) -> Bool {
        let t = Array(text.utf8), w = Array(word.utf8)
        guard !w.isEmpty, t.count >= w.count else { return false }
        func isNameByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
        }
        for start in 0...(t.count - w.count) where t[start..<(start + w.count)].elementsEqual(w) {
            let before = start == 0 || !isNameByte(t[start - 1])
            let after = start + w.count == t.count || !isNameByte(t[start + w.count])
            if before && after { return true }
        }
        return false
    }

    /// The contents of the regular files in `directory` whose names have that prefix and suffix
    /// (none if the directory cannot be read); each read up to 1 MiB.
    private static func texts(in directory: String, prefix: String, suffix: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(prefix) && name.hasSuffix(suffix) && !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().compactMap { readTextFile(directory + "/" + $0) }
    }
}
