import AgentConfig
import ShutdownSvc

/// Runs the configured command for each kind of host request, as configured when the host asks
/// (`[shutdown]` applies on reload).
public struct ConfiguredShutdownPerformer: ShutdownPerformer {
    public let live: LiveSettings

    public init(live: LiveSettings) {
        self.live = live
    }

    public func perform(_ request: ShutdownRequest) throws {
        let config = live.current
        let command: String
        switch request.kind {
        case .powerOff: command = config[.poweroffCommand]
        case .reboot: command = config[.rebootCommand]
        case .hibernate: command = config[.hibernateCommand]
        }
        // Hooks run before acting, bounded by the host's timeout.
        let hookDirectory = config[.shutdownHookDir]
        let hooks = hookDirectory.isEmpty ? nil : ShutdownHookRunner(directory: hookDirectory)
        try CommandShutdownPerformer(executable: "/bin/sh", leadingArguments: ["-c", command + " #"], hooks: hooks).perform(request)
    }
}
