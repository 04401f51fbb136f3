/// What reloading the configuration (SIGHUP, `systemctl reload hvagent`) does with a newly read
/// file: the changed keys that take effect now, and those that wait for the next start.
///
/// A running agent keeps the values it started with for keys that choose modes, devices, paths and
/// sockets (``ConfigKey/appliesOnReload`` is false): switching them under open channels would drop
/// host requests in flight. ``effective`` is therefore the new file for the keys that apply on
/// reload and the running values for the rest, so a later reload still reports a pending restart
/// and `hvagent status` shows what is really in force.
public struct ConfigReload: Sendable, Equatable {
    /// Changed keys now in force, in table order.
    public let applied: [ConfigKey]
    /// Changed keys that take effect only when the daemon restarts, in table order.
    public let needRestart: [ConfigKey]
    /// The settings to run with from now on.
    public let effective: AgentSettings

    /// Compares `loaded` (the file just read, with the command-line overrides applied) with the
    /// settings the agent runs with.
    public init(running: AgentSettings, loaded: AgentSettings) {
        var effective = running
        var applied: [ConfigKey] = []
        var needRestart: [ConfigKey] = []
        for key in ConfigKey.all {
            let name = key.qualifiedName
            if key.appliesOnReload {
                if running.values[name] != loaded.values[name] { applied.append(key) }
                effective.values[name] = loaded.values[name]
                effective.origins[name] = loaded.origins[name]
            } else if running.values[name] != loaded.values[name] {
                needRestart.append(key)
            }
        }
        self.applied = applied
        self.needRestart = needRestart
        self.effective = effective
    }

    /// The one log line a reload writes.
    public var summary: String {
        if applied.isEmpty && needRestart.isEmpty { return "configuration unchanged" }
        var parts: [String] = []
        if !applied.isEmpty {
            parts.append("applied " + applied.map(\.qualifiedName).joined(separator: ", "))
        }
        if !needRestart.isEmpty {
            parts.append("changed but applied only at the next start (systemctl restart hvagent): "
                + needRestart.map(\.qualifiedName).joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }
}
