import AgentConfig
import AgentDaemon
import ArgumentParser
import Timesync
import HVSystem

/// `hvagent run`: the agent. On a Hyper-V guest it is the installed daemon (configuration file,
/// uio or kernel mode per service); with `--sim-socket` it serves the simulated VMBus of a separate
/// `hvagent sim-host` instead.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent (heartbeat, shutdown, timesync, KVP).")

    @Option(help: "Connect to a simulated host (`hvagent sim-host --socket PATH`) instead of the real VMBus.")
    var simSocket: String?

    @Option(name: .shortAndLong, help: "The configuration file; SIGHUP re-reads it. With --sim-socket, the flags below choose modes and paths.")
    var config = AgentSettings.defaultPath

    @Option(name: .customLong("set"), help: "Override a configuration key (section.key=value); repeatable.")
    var overrides: [String] = []

    @Flag(help: "Log shutdown requests instead of acting on them (real VMBus only).")
    var dryRunShutdown = false

    @Option(help: "Serve `hvagent status` on this socket (simulated VMBus; the real daemon uses agent.status_socket).")
    var statusSocket: String?

    @Option(help: "Timesync mode: discipline, chrony or off (default: chrony if chronyd is installed).")
    var timesyncMode: TimesyncMode?

    @Option(help: "chronyd's SOCK refclock socket (chrony mode).")
    var chronySocket: String = "/run/chrony.hvagent.sock"

    @Flag(help: "Discipline the machine's clock instead of a simulated one (needs CAP_SYS_TIME).")
    var systemClock = false

    @Option(help: "Initial error of the simulated guest clock, milliseconds.")
    var simulatedClockOffsetMs: Double = -2500

    @Option(help: "Drift of the simulated guest clock, ppm.")
    var simulatedClockDriftPpm: Double = 100

    @Option(help: "Serve the simulated host's KVP channel with pools in this directory (simulated VMBus; default: KVP not served).")
    var kvpPoolDir: String?

    @Flag(help: "Really run the configured shutdown commands when the simulated host asks (default: dry run).")
    var actOnShutdown = false

    @Option(help: ArgumentHelp("Hand the simulated host's SET_IP_INFO to `hvagent ip-helper` on this socket, as the installed daemon does (`kvp.ip_helper_socket`; default: applied in this process).", valueName: "socket"))
    var ipHelperSocket: String?

    func run() throws {
        let settings: AgentSettings
        do {
            settings = try AgentSettings.load(path: config, overrides: overrides)
        } catch {
            throw CommandFailure("refusing to start: \(error)")
        }
        let live = LiveSettings(settings, path: config, overrides: overrides)
        LiveLogLevel.bootstrap()
        guard let simSocket else {
            try InstalledDaemon.run(live: live, dryRunShutdown: dryRunShutdown)
            return
        }
        try SimulatedVMBusAgent.run(
            socketPath: simSocket, live: live, timesyncMode: timesyncMode ?? DefaultTimesyncMode.detected,
            systemClock: systemClock, simulatedClockOffsetNanoseconds: Int64(simulatedClockOffsetMs * 1e6),
            simulatedClockDriftPPM: simulatedClockDriftPpm, chronySocket: chronySocket, kvpPoolDirectory: kvpPoolDir,
            actOnShutdown: actOnShutdown, statusSocket: statusSocket, ipHelperSocket: ipHelperSocket ?? "")
    }
}

extension TimesyncMode: ExpressibleByArgument {}
