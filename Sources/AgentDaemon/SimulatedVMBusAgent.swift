import AgentConfig
import AgentCore
import DaemonSupport
import HVSystem
import HVProtocol
import Logging
import ShutdownSvc
import SimTransport
import Timesync
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent run --sim-socket`: the agent serving the simulated VMBus of a separately started
/// `hvagent sim-host`, with the same service table, observer and plumbing as the installed daemon.
public enum SimulatedVMBusAgent {
    /// - Parameters:
    ///   - systemClock: discipline the machine's clock instead of a simulated one (needs
    ///     CAP_SYS_TIME); chrony mode always reads the system clock.
    ///   - kvpPoolDirectory: serve KVP with pools here; nil leaves the KVP offer unopened (a
    ///     simulated host must never write /var/lib/hyperv by default).
    ///   - actOnShutdown: run the configured shutdown commands instead of a dry run.
    ///   - ipHelperSocket: where `hvagent ip-helper` applies SET_IP_INFO for the agent, as in the
    ///     installed daemon (the VM test runs the packaged units this way); "" applies it here.
    public static func run(
        socketPath: String, live: LiveSettings, timesyncMode: TimesyncMode, systemClock: Bool,
        simulatedClockOffsetNanoseconds: Int64, simulatedClockDriftPPM: Double, chronySocket: String,
        kvpPoolDirectory: String?, actOnShutdown: Bool, statusSocket: String?, ipHelperSocket: String = ""
    ) throws {
        let signals = try SignalEvents([SIGTERM, SIGINT, SIGHUP])
        let timeline = Timeline()
        let clock: any GuestClock
        if systemClock || timesyncMode == .chrony {
            // chrony mode only reads the clock (chronyd owns it), and its samples must carry
            // the real system time that chronyd compares them with.
            clock = SystemClock()
        } else {
            clock = SimulatedClock(source: SystemTimeSource(), initialOffsetNanoseconds: simulatedClockOffsetNanoseconds,
                                   driftPPM: simulatedClockDriftPPM)
        }
        let chrony = timesyncMode == .chrony ? try ChronySocketSender(path: chronySocket) : nil
        let performer: any ShutdownPerformer = actOnShutdown ? ConfiguredShutdownPerformer(live: live) : DryRunShutdownPerformer()
        // File copy only where `fcopy.allowed_roots` confines it (a simulated host must never write
        // anywhere on this machine by default), real freezes only inside the roots `vss.only_under`
        // names.
        let served = ServiceTable.all.filter {
            ($0 != .kvp || kvpPoolDirectory != nil) && ($0 != .fcopy || !live.current[.fcopyAllowedRoots].isEmpty)
                && ($0 != .vss || !live.current[.vssOnlyUnder].isEmpty)
        }
        let services = try ServiceTable.build(
            Set(served),
            in: .init(live: live, shutdownPerformer: performer, timesyncMode: timesyncMode, clock: clock, chrony: chrony,
                      kvpPoolDirectory: kvpPoolDirectory, ipHelperSocket: ipHelperSocket))
        let board = StatusBoard(version: HVAgentVersion.string, services: served.map {
            AgentStatus.Service(name: $0, mode: .simulated, reason: "simulated VMBus at \(socketPath)")
        })
        let notifier = SystemdNotifier()
        let logger = Logger(label: "hvagent")
        let gate = ReadinessGate(board: board, notifier: notifier, logger: logger)
        let agent = try IntegrationAgent(
            endpoint: SimGuestEndpoint(connectingTo: socketPath), services: services,
            observer: AgentObserver.make(board: board, gate: gate, log: { timeline.log("agent", $0) }))
        for service in services { agent.inputs += service.inputs(events: agent.events(for: service.id)) }
        let plumbing = DaemonPlumbing(agent: agent, board: board, gate: gate, signals: signals, notifier: notifier,
                                      statusSocket: statusSocket, logger: logger, live: live)
        timeline.log("agent", "connected to \(socketPath); timesync mode \(timesyncMode.rawValue), \(systemClock ? "system" : "simulated") clock")
        defer { for service in services { service.stop() } }
        try plumbing.run()
        // A probe still running would outlive the daemon (outside systemd's cgroup).
        live.healthProbe.cancel()
        timeline.log("agent", "stopped")
    }
}
