import AgentConfig
import DaemonSupport
import Heartbeat
import Logging
import NetInfo
import Synchronization

/// The settings the agent runs with, and what a reload (SIGHUP) does with them.
///
/// Everything that can change without reopening a channel reads its value from here when it
/// needs it (the shutdown commands when the host asks, the step threshold per time sample, the log
/// level per message) or is handed the new value by ``reload()`` (the heartbeat's health probe,
/// the auto pool's interface rules). Keys that choose modes, devices and paths keep their running
/// values until the next start, and the reload says so (``ConfigReload``).
public final class LiveSettings: Sendable {
    public let path: String
    public let overrides: [String]
    /// What the heartbeat reports as application health: replaced on reload.
    public let healthProbe: ReplaceableHealthProbe
    private let state: Mutex<AgentSettings>
    /// The network facts behind the auto pool and GET_IP_INFO, when KVP is served.
    private let facts = Mutex<[NetworkFacts]>([])

    public init(_ settings: AgentSettings, path: String, overrides: [String]) {
        self.path = path
        self.overrides = overrides
        state = Mutex(settings)
        healthProbe = ReplaceableHealthProbe(Self.healthProbe(settings))
        LiveLogLevel.set(settings)
    }

    public var current: AgentSettings { state.withLock { $0 } }

    /// `[timesync] step_threshold_seconds` in nanoseconds.
    public var stepThresholdNanoseconds: Int64 { Int64(current[.stepThresholdSeconds]) * 1_000_000_000 }

    /// The auto pool's interface rules from the `[network]` section.
    public var interfaceRules: InterfaceRules { Self.interfaceRules(current) }

    /// Network facts that take `[network]` changes on reload.
    public func follow(_ networkFacts: NetworkFacts) {
        facts.withLock { $0.append(networkFacts) }
    }

    /// Re-reads the file (with the same command-line overrides) and applies the keys that may
    /// change while running. A file that does not parse changes nothing: the error (file:line)
    /// is thrown and the running configuration stays.
    @discardableResult
    public func reload() throws(ConfigError) -> ConfigReload {
        let loaded = try AgentSettings.load(path: path, overrides: overrides)
        let plan = state.withLock { running in
            let plan = ConfigReload(running: running, loaded: loaded)
            running = plan.effective
            return plan
        }
        let now = plan.effective
        LiveLogLevel.set(now)
        if !Set(plan.applied).isDisjoint(with: [Setting.healthUnits.key, Setting.healthCommand.key]) {
            healthProbe.replace(with: Self.healthProbe(now))
        }
        if !Set(plan.applied).isDisjoint(with: [Setting.networkExclude.key, Setting.networkInclude.key, Setting.ipv6LinkLocal.key]) {
            let rules = Self.interfaceRules(now)
            for facts in facts.withLock({ $0 }) { facts.rules = rules }
        }
        return plan
    }

    public static func interfaceRules(_ settings: AgentSettings) -> InterfaceRules {
        InterfaceRules(exclude: settings[.networkExclude], includeOnly: settings[.networkInclude],
                       includeIPv6LinkLocal: settings[.ipv6LinkLocal])
    }

    /// `[heartbeat]`: systemd units (all active = healthy), else a command, else nothing (the
    /// host's value is echoed).
    static func healthProbe(_ settings: AgentSettings) -> (any HealthProbe)? {
        let units = settings[.healthUnits]
        if !units.isEmpty {
            return CommandHealthProbe.systemdUnits(units)
        }
        let command = settings[.healthCommand]
        return command.isEmpty ? nil : CommandHealthProbe(executable: "/bin/sh", arguments: ["-c", command])
    }
}

/// `[agent] log_level`: one ``LogLevelSetting`` for every logger of the process, so that a reload
/// changes it for all.
public enum LiveLogLevel {
    static let shared = LogLevelSetting()

    static func set(_ settings: AgentSettings) {
        shared.value = Logger.Level(settings[.logLevel])
    }

    /// Installs the process's log handler (journald priorities when standard error is journald's
    /// stream). Call once, first.
    public static func bootstrap() {
        let journal = JournalStream.isStandardError
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, level: shared, journal: journal) }
    }
}
