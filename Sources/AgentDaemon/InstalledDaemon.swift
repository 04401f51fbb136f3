import AgentConfig
import AgentCore
import DaemonSupport
import FoundationEssentials
import HVProtocol
import Logging
import ShutdownSvc
import Timesync
import VMBusDiscovery
#if canImport(Glibc)
import Glibc
#endif

/// The installed daemon (`hvagent run` without `--sim-socket`): discovers the integration-service
/// devices, decides uio or kernel mode per service, takes the uio ones through uio_hv_generic, and
/// serves everything in one event loop together with signals, uevents, the status socket and the
/// systemd watchdog. Nothing in the loop wakes while the host is quiet.
public enum InstalledDaemon {
    /// - Parameters:
    ///   - live: the configuration; modes, devices and paths are read once here, the rest is read
    ///     from `live` when used, so SIGHUP applies it (``LiveSettings``).
    ///   - dryRunShutdown: log host shutdown requests instead of acting on them.
    public static func run(live: LiveSettings, dryRunShutdown: Bool) throws {
        let logger = Logger(label: "hvagent")
        let config = live.current
        // Signals first: the mask must be in place before any thread starts, so that SIGTERM
        // reaches the signalfd and not a default handler.
        let signals = try SignalEvents([SIGTERM, SIGINT, SIGHUP])
        let sysfs = DirectorySysfs(root: "/")
        let discovery = VMBusDiscovery(sysfs: sysfs)
        guard discovery.busPresent else {
            throw CommandFailure("\(VMBusDiscovery.devicesPath) does not exist: this is not a Hyper-V guest (or hv_vmbus is not loaded); see `hvagent doctor`")
        }
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)).flatMap { KernelRelease($0) }
        let selector = ModeSelector(kernel: kernel, assumeUIOSignalling: config[.uioSignalBackport],
                                    confidentialGuest: ConfidentialGuest.detect())

        var modes: [ICServiceID: ServiceMode] = [:]
        var statuses: [AgentStatus.Service] = []
        for service in ServiceTable.all {
            let preference = config.mode(of: service)
            guard preference != .off else {
                statuses.append(.init(name: service, mode: .off, reason: "off in the configuration"))
                continue
            }
            let decision = selector.decide(service, preference: preference, device: discovery.devices(of: service.deviceClass).first)
            let mode: AgentStatus.Service.Mode = switch decision.mode {
            case .uio: .uio
            case .kernel: .kernel
            case nil: .unavailable
            }
            logger.notice("\(service): \(mode.rawValue) mode (\(decision.reason))")
            statuses.append(.init(name: service, mode: mode, reason: decision.reason))
            modes[service] = decision.mode
        }
        let uio = ServiceTable.all.filter { modes[$0] == .uio }

        let uevents = try? UEventMonitor()
        let source = UIOChannelSource(sysfs: sysfs, services: uio,
                                      uevents: uevents.map { m in (m.descriptor, { !m.drain().isEmpty }) })
        source.scan()
        for error in source.errors { logger.error("\(error)") }

        let notifier = SystemdNotifier()
        let board = StatusBoard(version: HVAgentVersion.string, services: statuses)
        let gate = ReadinessGate(board: board, notifier: notifier, logger: logger)
        let timesyncMode = TimesyncMode(config[.timesyncMode], auto: DefaultTimesyncMode.detected)
        let chrony = timesyncMode == .chrony ? try? ChronySocketSender(path: config[.chronySocket]) : nil
        let performer: any ShutdownPerformer = dryRunShutdown ? DryRunShutdownPerformer() : ConfiguredShutdownPerformer(live: live)
        let services = try ServiceTable.build(
            Set(modes.keys),
            in: .init(live: live, shutdownPerformer: performer, timesyncMode: timesyncMode, clock: SystemClock(), chrony: chrony))
        let agent = try IntegrationAgent(
            source: source, services: services,
            observer: AgentObserver.make(board: board, gate: gate, log: { logger.info("\($0)") },
                                                         routine: { logger.debug("\($0)") }))
        for service in services {
            let events = agent.events(for: service.id)
            agent.inputs += service.inputs(events: events)
            guard modes[service.id] == .kernel else { continue }
            do {
                agent.inputs += try service.kernelModeInputs(events: events)
            } catch {
                logger.error("\(service.id): \(error)")
            }
        }
        let plumbing = DaemonPlumbing(agent: agent, board: board, gate: gate, signals: signals, notifier: notifier,
                                      statusSocket: config[.statusSocket], logger: logger, live: live)
        try agent.acceptPendingChannels()
        // VSS thaws what it froze before the process ends (SIGTERM, docs/PROTOCOL.md §6.5.7).
        defer { for service in services { service.stop() } }
        try plumbing.run()
        // A probe still running would outlive the daemon (outside systemd's cgroup).
        live.healthProbe.cancel()
        if live.current[.releaseOnStop] {
            for problem in source.releaseAll() { logger.error("release: \(problem)") }
        }
    }
}
