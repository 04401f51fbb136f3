import FoundationEssentials
import Synchronization
import ProcessSupport

/// Health from a command: exit status 0 = healthy, anything else = critical.
///
/// For a list of systemd units use `systemctl is-active --quiet UNIT...`, which exits 0
/// only if every unit is active. The result is cached for `cacheSeconds` so the heartbeat
/// path stays fast; the command is killed after `timeoutSeconds`.
public final class CommandHealthProbe: HealthProbe, @unchecked Sendable {
    private let executable: String
    private let arguments: [String]
    private let cacheSeconds: Double
    private let timeoutSeconds: Double
    private let lock = Mutex(())
    private var cached: (state: ApplicationState, at: Date)?

    public init(executable: String, arguments: [String], cacheSeconds: Double = 10, timeoutSeconds: Double = 5) {
        self.executable = executable
        self.arguments = arguments
        self.cacheSeconds = cacheSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// Probe for "all these systemd units are active".
    public static func systemdUnits(_ units: [String]) -> CommandHealthProbe {
        CommandHealthProbe(executable: "/usr/bin/systemctl", arguments: ["is-active", "--quiet"] + units)
    }

    public func applicationState() -> ApplicationState? {
        return lock.withLock { _ in
            if let cached, Date().timeIntervalSince(cached.at) < cacheSeconds { return cached.state }
            let state = run()
            cached = (state, Date())
            return state
        }
    }

    private func run() -> ApplicationState {
        switch BoundedProcess.run(path: executable, arguments: arguments, deadline: Date().addingTimeInterval(timeoutSeconds)) {
        case .exited(0): return .healthy
        case .exited, .signalled, .timedOut: return .critical
        case .failedToStart: return .unknown
        }
    }
}
