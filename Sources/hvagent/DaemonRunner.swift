import RingTransport
import AgentConfig
import AgentCore
import DaemonSupport
import Foundation
import Heartbeat
import KVPAgent
import KVPStore
import NetInfo
import Logging
import ShutdownSvc
import Timesync
import VMBusDiscovery

/// The installed daemon (`hvagent run` without `--sim-socket`): discovers the integration-service
/// devices, decides uio or kernel mode per service, takes the uio ones through uio_hv_generic, and
/// serves them in one event loop together with signals, uevents, the status socket and the
/// systemd watchdog. Nothing in the loop wakes while the host is quiet.
struct DaemonRunner {
    var config: AgentSettings
    var configPath: String
    var overrides: [String]
    var dryRunShutdown: Bool
    var logger = Logger(label: "hvagent")

    func run() throws {
        // Signals first: the mask must be in place before any thread starts, so that SIGTERM
        // reaches the signalfd and not a default handler.
        let signals = try SignalEvents([SIGTERM, SIGINT, SIGHUP])
        let notifier = SystemdNotifier()
        let sysfs = DirectorySysfs(root: "/")
        let discovery = VMBusDiscovery(sysfs: sysfs)
        guard discovery.busPresent else {
            throw CommandFailure("\(VMBusDiscovery.devicesPath) does not exist: this is not a Hyper-V guest (or hv_vmbus is not loaded); see `hvagent doctor`")
        }
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)).flatMap { KernelRelease($0) }
        let selector = ModeSelector(kernel: kernel, assumeUIOSignalling: config.bool("agent", "uio_signal_backport"))

        var uioServices: [VMBusDeviceClass] = []
        var statuses: [AgentStatus.Service] = []
        for service in VMBusDeviceClass.agentServices {
            guard let preference = ModePreference(rawValue: config.string("services", service.name)) else {
                statuses.append(.init(name: service.name, mode: "off", reason: "off in the configuration"))
                continue
            }
            var decision = selector.decide(service, preference: preference, device: discovery.devices(of: service).first)
            if service == .kvp && decision.mode == .uio {
                // KVP over our own ring needs the KVP integration component front end, which this
                // build does not have yet: serve KVP through the kernel's device instead.
                decision = ModeDecision(service: "kvp", mode: .kernel, reason: "KVP over uio is not available in this build; using /dev/vmbus/hv_kvp")
            }
            let mode = decision.mode?.rawValue ?? "unavailable"
            logger.notice("\(service.name): \(mode) mode (\(decision.reason))")
            statuses.append(.init(name: service.name, mode: mode, reason: decision.reason))
            if decision.mode == .uio { uioServices.append(service) }
        }

        let uevents = try? UEventMonitor()
        let source = UIOChannelSource(sysfs: sysfs, services: uioServices,
                                      uevents: uevents.map { m in (m.descriptor, { !m.drain().isEmpty }) })
        source.scan()
        for error in source.errors { logger.error("\(error)") }

        let board = StatusBoard(version: HVAgentVersion.string, services: statuses)
        let timesyncMode = Self.timesyncMode(config.string("timesync", "mode"))
        let chrony = timesyncMode == .chrony ? try? ChronySocketSender(path: config.string("timesync", "chrony_socket")) : nil
        let performer: any ShutdownPerformer = dryRunShutdown ? DryRunShutdownPerformer() : ConfiguredShutdownPerformer(config: config)
        let limiter = RefusalLogLimiter()
        let agent = try IntegrationAgent(
            source: source,
            configuration: AgentCore.AgentConfiguration(
                shutdownPerformer: performer, timesyncMode: timesyncMode, clock: SystemClock(), chrony: chrony,
                heartbeatProbe: Self.healthProbe(config)),
            observer: { event in
                board.record(event)
                if let line = limiter.line(for: event, describe: Timeline.describe) { Logger(label: "hvagent").info("\(line)") }
            })

        let plumbing = DaemonPlumbing(agent: agent, board: board, signals: signals, notifier: notifier,
                                      statusSocket: config.string("agent", "status_socket"), logger: logger) {
            do {
                _ = try AgentSettings.load(path: configPath, overrides: overrides)
                logger.notice("SIGHUP: \(configPath) is valid; service modes and paths apply at the next start")
            } catch {
                logger.error("SIGHUP: keeping the running configuration: \(error)")
            }
        }
        if statuses.contains(where: { $0.name == "kvp" && $0.mode == "kernel" }) {
            let kvp = try startKernelKVP(board: board)
            agent.inputs += kvp
        }
        try agent.acceptPendingChannels()
        try plumbing.run()
        if config.bool("agent", "release_on_stop") {
            for problem in source.releaseAll() { logger.error("release: \(problem)") }
        }
    }

    /// KVP over /dev/vmbus/hv_kvp (kernel mode) in the same loop: the device and the network facts
    /// behind the auto pool become two more poll inputs.
    func startKernelKVP(board: StatusBoard) throws -> [PollInput] {
        // Host-triggered lines (a failing SET, a malformed message) once per distinct line per minute.
        let limiter = RefusalLogLimiter()
        let log: (String) -> Void = { line in if let text = limiter.line(kind: line, text: line) { logger.info("\(text)") } }
        let store = try PoolStore.openForDaemon(directory: config.string("kvp", "pool_dir"), lockTimeout: 10,
                                                log: { logger.warning("\($0)") })
        let facts = try? NetworkFacts(configuration: .init(rules: KVPDaemonCommand.rules(config)))
        if facts == nil { logger.warning("KVP: network facts unavailable; the auto pool will be empty") }
        let engine = KVPEngine(store: store, autoPool: facts, ipInfo: facts, log: log)
        let frontEnd = KernelDeviceFrontEnd(engine: engine, devicePath: config.string("kvp", "device"), log: log)
        do {
            try frontEnd.start()
        } catch {
            board.record(.channelClosed(service: "kvp", reason: "\(error)"))
            logger.error("KVP: \(error)")
            return []
        }
        board.record(.channelOpened(service: "kvp"))
        var inputs = [PollInput(currentDescriptor: { frontEnd.descriptor }) {
            do {
                if try frontEnd.serviceOne() { board.record(.packet(service: "kvp", event: .handled(type: .kvpExchange, status: .ok))) }
            } catch {
                board.record(.channelClosed(service: "kvp", reason: "\(error)"))
                logger.error("KVP: \(error)")
            }
        }]
        if let facts {
            inputs.append(PollInput(descriptor: facts.fileDescriptor) { _ = try? facts.processPendingEvents() })
        }
        return inputs
    }

    static func timesyncMode(_ configured: String) -> TimesyncMode {
        switch configured {
        case "discipline": .discipline
        case "chrony": .chrony
        case "off": .off
        default: DefaultTimesyncMode.detected
        }
    }

    static func healthProbe(_ config: AgentSettings) -> (any HealthProbe)? {
        let units = config.list("heartbeat", "health_units")
        if !units.isEmpty {
            // Exit 0 only when every unit is active.
            return CommandHealthProbe(executable: "/usr/bin/systemctl", arguments: ["is-active", "--quiet"] + units)
        }
        let command = config.string("heartbeat", "health_command")
        return command.isEmpty ? nil : CommandHealthProbe(executable: "/bin/sh", arguments: ["-c", command])
    }
}

/// Runs the configured command for each kind of host request.
struct ConfiguredShutdownPerformer: ShutdownPerformer {
    var poweroff: String
    var reboot: String
    var hibernate: String

    init(config: AgentSettings) {
        poweroff = config.string("shutdown", "poweroff_command")
        reboot = config.string("shutdown", "reboot_command")
        hibernate = config.string("shutdown", "hibernate_command")
    }

    func perform(_ request: ShutdownRequest) throws {
        let command: String
        switch request.kind {
        case .powerOff: command = poweroff
        case .reboot: command = reboot
        case .hibernate: command = hibernate
        }
        try CommandShutdownPerformer(executable: "/bin/sh", leadingArguments: ["-c", command + " #"]).perform(request)
    }
}

/// The event-loop plumbing every `hvagent run` shares (real or simulated VMBus): signals
/// (SIGTERM/SIGINT stop, SIGHUP reload), the status socket, systemd readiness and watchdog.
final class DaemonPlumbing {
    let agent: IntegrationAgent
    let notifier: SystemdNotifier
    let logger: Logger
    private let statusServer: LocalSocketServer?
    private let watchdog: PeriodicTimer?

    init(agent: IntegrationAgent, board: StatusBoard, signals: SignalEvents, notifier: SystemdNotifier,
         statusSocket: String?, logger: Logger, onReload: @escaping () -> Void) {
        self.agent = agent
        self.notifier = notifier
        self.logger = logger
        var inputs: [PollInput] = []
        inputs.append(PollInput(descriptor: signals.descriptor) { [agent, notifier, logger] in
            for signal in signals.drain() {
                if signal == SIGHUP {
                    notifier.notify("RELOADING=1")
                    onReload()
                    notifier.notify("READY=1")
                } else {
                    logger.notice("signal \(signal): stopping")
                    notifier.notify("STOPPING=1")
                    agent.stop()
                }
            }
        })
        var server: LocalSocketServer?
        if let statusSocket {
            do {
                server = try LocalSocketServer(path: statusSocket)
            } catch {
                logger.warning("status socket unavailable, `hvagent status` will not work: \(error)")
            }
        }
        if let server {
            inputs.append(PollInput(descriptor: server.descriptor) { server.serve { board.json() } })
        }
        statusServer = server
        if let usec = notifier.watchdogMicroseconds, let timer = try? PeriodicTimer(intervalMicroseconds: usec / 2) {
            inputs.append(PollInput(descriptor: timer.descriptor) {
                timer.acknowledge()
                notifier.notify("WATCHDOG=1")
            })
            watchdog = timer
        } else {
            watchdog = nil
        }
        agent.inputs = inputs
    }

    /// Tells systemd we are ready and serves until stopped.
    func run() throws {
        let open = agent.openServices
        notifier.notify("READY=1\nSTATUS=serving \(open.isEmpty ? "nothing yet" : open.joined(separator: ", "))")
        logger.notice("ready: \(open.isEmpty ? "no channels open yet" : open.joined(separator: ", "))")
        try agent.run()
    }
}
