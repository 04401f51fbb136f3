import AgentConfig
import AgentCore
import DaemonSupport
import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import KVPAgent
import KVPStore
import NetInfo
import Logging
import ShutdownSvc
import SimTransport
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
            try DaemonRunner(live: live, dryRunShutdown: dryRunShutdown).run()
            return
        }
        let signals = try SignalEvents([SIGTERM, SIGINT, SIGHUP])
        let timeline = Timeline()
        let mode = timesyncMode ?? DefaultTimesyncMode.detected
        let clock: any GuestClock
        if systemClock || mode == .chrony {
            // chrony mode only reads the clock (chronyd owns it), and its samples must carry
            // the real system time that chronyd compares them with.
            #if canImport(Glibc)
            clock = SystemClock()
            #else
            throw ValidationError("--system-clock is only available on Linux")
            #endif
        } else {
            clock = SimulatedClock(source: SystemTimeSource(), initialOffsetNanoseconds: Int64(simulatedClockOffsetMs * 1e6),
                                   driftPPM: simulatedClockDriftPpm)
        }
        let chrony = mode == .chrony ? try ChronySocketSender(path: chronySocket) : nil
        let performer: any ShutdownPerformer = actOnShutdown ? ConfiguredShutdownPerformer(live: live) : DryRunShutdownPerformer()
        // KVP only into a directory the user named: a simulated host must never write /var/lib/hyperv by default.
        let facts = kvpPoolDir == nil ? nil : try? NetworkFacts(configuration: .init(rules: live.interfaceRules))
        if let facts { live.follow(facts) }
        let kvpEngine = try kvpPoolDir.map { KVPEngine(store: try PoolStore(directory: $0, writable: true), autoPool: facts, ipInfo: facts) }
        let board = StatusBoard(version: HVAgentVersion.string, services: (["heartbeat", "shutdown", "timesync"] + (kvpEngine == nil ? [] : ["kvp"])).map {
            AgentStatus.Service(name: $0, mode: "simulated", reason: "simulated VMBus at \(simSocket)")
        })
        let notifier = SystemdNotifier()
        let gate = ReadinessGate(board: board, notifier: notifier, logger: Logger(label: "hvagent"))
        let limiter = RefusalLogLimiter()
        let agent = try IntegrationAgent(
            endpoint: SimGuestEndpoint(connectingTo: simSocket),
            configuration: AgentConfiguration(shutdownPerformer: performer, timesyncMode: mode, clock: clock, chrony: chrony,
                                              heartbeatProbe: live.healthProbe, kvpEngine: kvpEngine,
                                              timesyncStepThreshold: { [live] in live.stepThresholdNanoseconds }),
            observer: { event in
                board.record(event)
                gate.check()
                if let line = limiter.line(for: event, describe: Timeline.describe) { timeline.log("agent", line) }
            })
        if let facts {
            agent.inputs.append(PollInput(descriptor: facts.fileDescriptor) { _ = try? facts.processPendingEvents() })
        }
        let plumbing = DaemonPlumbing(agent: agent, board: board, gate: gate, signals: signals, notifier: notifier,
                                      statusSocket: statusSocket, logger: Logger(label: "hvagent"), live: live)
        timeline.log("agent", "connected to \(simSocket); timesync mode \(mode.rawValue), \(systemClock ? "system" : "simulated") clock")
        try plumbing.run()
        timeline.log("agent", "stopped")
    }
}
