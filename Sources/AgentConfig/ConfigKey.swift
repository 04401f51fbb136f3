/// One configuration key: where it lives, its default, what values it takes, and what it does.
///
/// The table in ``ConfigKey/all`` is the single description of the configuration: the parser
/// validates against it, `hvagent config --default` prints the documented default file from it, and
/// the man page lists the same keys.
public struct ConfigKey: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// One of a fixed set of words.
        case choice([String])
        /// `true` / `false` (also yes/no, on/off, 1/0).
        case boolean
        /// Free text (a command line, a path).
        case text
        /// An absolute path.
        case path
        /// Space-separated words (may be empty).
        case list
        /// A whole number within bounds.
        case integer(ClosedRange<Int>)
    }

    public let section: String
    public let name: String
    public let kind: Kind
    public let defaultValue: String
    public let help: String
    /// Whether a changed value takes effect when the daemon reloads (SIGHUP, `systemctl reload
    /// hvagent`) or only at the next start. Keys that choose devices, modes, paths or sockets wait
    /// for a restart: changing them under open channels would drop host requests in flight.
    public let appliesOnReload: Bool

    init(section: String, name: String, kind: Kind, defaultValue: String, help: String, appliesOnReload: Bool = false) {
        self.section = section
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.appliesOnReload = appliesOnReload
    }

    public var qualifiedName: String { "\(section).\(name)" }

    /// The sentence the documented default file and hvagent.conf(5) add to the key's help.
    public var whenApplied: String {
        appliesOnReload ? "Takes effect on reload (SIGHUP)." : "Takes effect at the next start."
    }

    public static let serviceModes = ["auto", "uio", "kernel", "off"]

    public static let all: [ConfigKey] = [
        ConfigKey(section: "agent", name: "log_level", kind: .choice(["debug", "info", "notice", "warning", "error"]), defaultValue: "info",
                  help: "Messages below this level are not logged.", appliesOnReload: true),
        ConfigKey(section: "agent", name: "uio_signal_backport", kind: .boolean, defaultValue: "false",
                  help: "Set when the kernel is older than 6.10 but has commit 547fa4ffd799 (uio_hv_generic signals the host on write) backported; enables uio mode there."),
        ConfigKey(section: "agent", name: "release_on_stop", kind: .boolean, defaultValue: "false",
                  help: "Hand channels taken through uio_hv_generic back to hv_utils when the daemon stops (they are always handed back on package removal).", appliesOnReload: true),
        ConfigKey(section: "agent", name: "status_socket", kind: .path, defaultValue: "/run/hvagent/status.sock",
                  help: "Where `hvagent status` asks the running daemon for its state (readable by root only)."),
        ConfigKey(section: "services", name: "heartbeat", kind: .choice(serviceModes), defaultValue: "auto",
                  help: "auto: uio where the kernel supports it, else leave it to the kernel; uio or kernel force a mode; off leaves the device alone."),
        ConfigKey(section: "services", name: "shutdown", kind: .choice(serviceModes), defaultValue: "auto", help: "As for heartbeat."),
        ConfigKey(section: "services", name: "timesync", kind: .choice(serviceModes), defaultValue: "auto",
                  help: "As for heartbeat. Taking timesync through uio removes the kernel's hyperv PTP clock."),
        ConfigKey(section: "services", name: "kvp", kind: .choice(serviceModes), defaultValue: "auto",
                  help: "As for heartbeat. In kernel mode KVP is served through /dev/vmbus/hv_kvp (instead of hv_kvp_daemon)."),
        ConfigKey(section: "heartbeat", name: "health_units", kind: .list, defaultValue: "",
                  help: "systemd units whose state is reported to the host as application health: all active = healthy, any failed = critical. Empty: no health reporting. Checked in the background when a heartbeat asks and the last answer is over 10 s old; heartbeats carry the last answer (the host's own value until the first).", appliesOnReload: true),
        ConfigKey(section: "heartbeat", name: "health_command", kind: .text, defaultValue: "",
                  help: "A command whose exit status is the application health (0 healthy, otherwise critical; killed after 5 s: critical). Used when health_units is empty; run in the background like health_units.", appliesOnReload: true),
        ConfigKey(section: "shutdown", name: "poweroff_command", kind: .text, defaultValue: "systemctl poweroff", help: "Run for a host power-off request.", appliesOnReload: true),
        ConfigKey(section: "shutdown", name: "reboot_command", kind: .text, defaultValue: "systemctl reboot", help: "Run for a host restart request.", appliesOnReload: true),
        ConfigKey(section: "shutdown", name: "hibernate_command", kind: .text, defaultValue: "systemctl hibernate",
                  help: "Run for a host hibernate request (only when the VM can hibernate and no device is bound to uio).", appliesOnReload: true),
        ConfigKey(section: "shutdown", name: "hook_dir", kind: .path, defaultValue: "/etc/hvagent/shutdown.d",
                  help: "Executables here run (in name order) before the action, bounded by the host's timeout.", appliesOnReload: true),
        ConfigKey(section: "timesync", name: "mode", kind: .choice(["auto", "discipline", "chrony", "off"]), defaultValue: "auto",
                  help: "discipline: step and slew the clock from host samples; chrony: feed chronyd's SOCK refclock; auto: chrony when chronyd is installed, else discipline."),
        ConfigKey(section: "timesync", name: "chrony_socket", kind: .path, defaultValue: "/run/chrony.hvagent.sock",
                  help: "The socket named by chrony's `refclock SOCK` line."),
        ConfigKey(section: "timesync", name: "step_threshold_seconds", kind: .integer(1...3600), defaultValue: "5",
                  help: "A sample showing the guest this far behind is treated as a resume and steps the clock.", appliesOnReload: true),
        ConfigKey(section: "kvp", name: "pool_dir", kind: .path, defaultValue: "/var/lib/hyperv", help: "Where the .kvp_pool_0..4 files live."),
        ConfigKey(section: "kvp", name: "device", kind: .path, defaultValue: "/dev/vmbus/hv_kvp", help: "The kernel's KVP device (kernel mode)."),
        ConfigKey(section: "network", name: "exclude", kind: .list, defaultValue: "lo docker* veth* virbr* cni* flannel*",
                  help: "Interfaces (shell patterns) whose addresses are not reported to the host.", appliesOnReload: true),
        ConfigKey(section: "network", name: "include", kind: .list, defaultValue: "",
                  help: "If not empty, only these interfaces (shell patterns) are reported.", appliesOnReload: true),
        ConfigKey(section: "network", name: "ipv6_link_local", kind: .boolean, defaultValue: "false",
                  help: "Report fe80::/10 addresses too.", appliesOnReload: true),
    ]

    private static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.qualifiedName, $0) })

    public static func lookup(section: String, name: String) -> ConfigKey? { byName["\(section).\(name)"] }

    /// Validates and normalises a value; `nil` with a message when it does not fit.
    func normalise(_ raw: String) -> Result<String, ConfigError.Problem> {
        switch kind {
        case .choice(let words):
            let v = raw.lowercased()
            return words.contains(v) ? .success(v) : .failure(.badValue("\(qualifiedName) must be one of \(words.joined(separator: ", ")), not \"\(raw)\""))
        case .boolean:
            switch raw.lowercased() {
            case "true", "yes", "on", "1": return .success("true")
            case "false", "no", "off", "0": return .success("false")
            default: return .failure(.badValue("\(qualifiedName) must be true or false, not \"\(raw)\""))
            }
        case .text:
            return .success(raw)
        case .path:
            return raw.hasPrefix("/") ? .success(raw) : .failure(.badValue("\(qualifiedName) must be an absolute path, not \"\(raw)\""))
        case .list:
            return .success(raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
        case .integer(let range):
            guard let n = Int(raw), range.contains(n) else {
                return .failure(.badValue("\(qualifiedName) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(raw)\""))
            }
            return .success(String(n))
        }
    }
}
