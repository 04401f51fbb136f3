import HVProtocol
import RingTransport
import AgentConfig
import AgentCore
import DaemonSupport
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Heartbeat
import KVPAgent
import KVPStore
import NetInfo
import Logging
import ShutdownSvc
import Timesync
import VMBusDiscovery
import HVProtocol

/// The installed daemon (`hvagent run` without `--sim-socket`): discovers the integration-service
/// devices, decides uio or kernel mode per service, takes the uio ones through uio_hv_generic, and
/// serves them in one event loop together with signals, uevents, the status socket and the
/// systemd watchdog. Nothing in the loop wakes while the host is quiet.
struct DaemonRunner {
    /// The configuration: modes, devices and paths are read once here; the rest is read from
    /// `live` when used, so SIGHUP applies it (``LiveSettings``).
    let live: LiveSettings
    var dryRunShutdown: Bool
    var logger = Logger(label: "hvagent")
    /// The running settings; for the keys a reload cannot change, the values at start.
    var config: AgentSettings { live.current }

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
        for service in ICServiceID.allCases {
            guard let preference = ModePreference(rawValue: config.string("services", service.rawValue)) else {
                statuses.append(.init(name: service.rawValue, mode: "off", reason: "off in the configuration"))
                continue
            }
            let decision = selector.decide(service, preference: preference, device: discovery.devices(of: service.deviceClass).first)
            let mode = decision.mode?.rawValue ?? "unavailable"
            logger.notice("\(service): \(mode) mode (\(decision.reason))")
            statuses.append(.init(name: service.rawValue, mode: mode, reason: decision.reason))
            if decision.mode == .uio { uioServices.append(service.deviceClass) }
        }

        let uevents = try? UEventMonitor()
        let source = UIOChannelSource(sysfs: sysfs, services: uioServices,
                                      uevents: uevents.map { m in (m.descriptor, { !m.drain().isEmpty }) })
        source.scan()
        for error in source.errors { logger.error("\(error)") }

        let board = StatusBoard(version: HVAgentVersion.string, services: statuses)
        let gate = ReadinessGate(board: board, notifier: notifier, logger: logger)
        let timesyncMode = Self.timesyncMode(config.string("timesync", "mode"))
        let chrony = timesyncMode == .chrony ? try? ChronySocketSender(path: config.string("timesync", "chrony_socket")) : nil
        let performer: any ShutdownPerformer = dryRunShutdown ? DryRunShutdownPerformer() : ConfiguredShutdownPerformer(live: live)
        // KVP over uio: the ring front end (KVPICService) serves the same engine the kernel mode uses.
        let ringKVP = uioServices.contains(.kvp) ? try makeKVPEngine() : nil
        let limiter = RefusalLogLimiter()
        let agent = try IntegrationAgent(
            source: source,
            configuration: AgentCore.AgentConfiguration(
                shutdownPerformer: performer, timesyncMode: timesyncMode, clock: SystemClock(), chrony: chrony,
                heartbeatProbe: live.healthProbe, kvpEngine: ringKVP?.engine,
                timesyncStepThreshold: { [live] in live.stepThresholdNanoseconds }),
            observer: { event in
                board.record(event)
                gate.check()
                if let line = limiter.line(for: event, describe: Timeline.describe) { Logger(label: "hvagent").info("\(line)") }
            })

        let plumbing = DaemonPlumbing(agent: agent, board: board, gate: gate, signals: signals, notifier: notifier,
                                      statusSocket: config.string("agent", "status_socket"), logger: logger, live: live)
        if statuses.contains(where: { $0.name == "kvp" && $0.mode == "kernel" }) {
            let kvp = try startKernelKVP(board: board)
            agent.inputs += kvp
        }
        if let facts = ringKVP?.facts {
            agent.inputs.append(PollInput(descriptor: facts.fileDescriptor) { _ = try? facts.processPendingEvents() })
        }
        if statuses.contains(where: { $0.name == "timesync" && $0.mode == "kernel" }), timesyncMode != .off {
            agent.inputs += followKernelPTPClock(mode: timesyncMode, chrony: chrony, board: board)
        }
        try agent.acceptPendingChannels()
        try plumbing.run()
        if live.current.bool("agent", "release_on_stop") {
            for problem in source.releaseAll() { logger.error("release: \(problem)") }
        }
    }

    /// KVP over /dev/vmbus/hv_kvp (kernel mode) in the same loop: the device and the network facts
    /// behind the auto pool become two more poll inputs. The device is never waited for in the
    /// loop: when it fails (or another program holds it), a one-shot timer reopens it after the
    /// front end's back-off while the other services go on.
    func startKernelKVP(board: StatusBoard) throws -> [PollInput] {
        let (engine, facts, log) = try makeKVPEngine()
        let frontEnd = KernelDeviceFrontEnd(engine: engine, devicePath: config.string("kvp", "device"), log: log)
        let retry = try LoopTimer()
        let limiter = RefusalLogLimiter()
        let logger = logger
        func failed(_ reason: String) {
            board.record(.channelClosed(service: "kvp", reason: reason))
            // Delay at least 0.1 s: a device that cannot be opened at all must not spin the loop.
            let delay = max(frontEnd.reopenDelayMicroseconds, 100_000)
            if let line = limiter.line(kind: "kvp-device", text: "KVP: \(reason); reopening in \(delay / 1000) ms") {
                logger.error("\(line)")
            }
            try? retry.arm(afterMicroseconds: delay)
        }
        func opened() {
            board.record(.channelOpened(service: "kvp"))
        }
        do {
            try frontEnd.start()
            opened()
        } catch {
            failed("\(error)")
        }
        var inputs = [
            PollInput(currentDescriptor: { frontEnd.descriptor }) {
                do {
                    if try frontEnd.serviceOne() { board.record(.packet(service: "kvp", event: .handled(type: .kvpExchange, status: .ok))) }
                    if frontEnd.descriptor < 0 { failed("\(frontEnd.devicePath) keeps failing") }
                } catch {
                    failed("\(error)")
                }
            },
            PollInput(descriptor: retry.descriptor) {
                retry.acknowledge()
                do {
                    try frontEnd.reopen()
                    opened()
                } catch {
                    failed("\(error)")
                }
            },
        ]
        if let facts {
            inputs.append(PollInput(descriptor: facts.fileDescriptor) { _ = try? facts.processPendingEvents() })
        }
        return inputs
    }

    /// The KVP engine both front ends serve: the configured pool directory (read-only with a
    /// logged reason when it cannot be written), live network facts, and host-triggered log lines
    /// rate limited (once per distinct line per minute).
    func makeKVPEngine() throws -> (engine: KVPEngine, facts: NetworkFacts?, log: (String) -> Void) {
        let limiter = RefusalLogLimiter()
        let log: (String) -> Void = { [logger] line in if let text = limiter.line(kind: line, text: line) { logger.info("\(text)") } }
        let store = try PoolStore.openForDaemon(directory: config.string("kvp", "pool_dir"), lockTimeout: 10,
                                                log: { [logger] in logger.warning("\($0)") })
        let facts = try? NetworkFacts(configuration: .init(rules: live.interfaceRules))
        if let facts { live.follow(facts) } else { logger.warning("KVP: network facts unavailable; the auto pool will be empty") }
        let engine = KVPEngine(store: store, autoPool: facts, ipInfo: facts, log: log)
        return (engine, facts, log)
    }

    /// Timesync in kernel mode: hv_utils keeps the channel and exposes host time as the `hyperv`
    /// PTP clock; a 5 s timer reads it and slews the clock (or feeds chronyd), like a host sample.
    func followKernelPTPClock(mode: TimesyncMode, chrony: ChronySocketSender?, board: StatusBoard) -> [PollInput] {
        guard let path = PTPHostClock.findHyperV() else {
            logger.warning("timesync: kernel mode but no hyperv PTP clock (hv_utils not loaded?); the clock is not disciplined")
            return []
        }
        let ptp: PTPHostClock
        let timer: LoopTimer
        do {
            ptp = try PTPHostClock(devicePath: path)
            timer = try LoopTimer(everyMicroseconds: UInt64(PTPFollower.tickSeconds) * 1_000_000)
        } catch {
            logger.error("timesync: \(error)")
            return []
        }
        logger.notice("timesync: following the kernel's hyperv PTP clock \(path) (\(mode.rawValue))")
        let actuator = TimesyncActuator(clock: SystemClock(), chrony: chrony)
        let follower = Box(PTPFollower(mode: mode, clock: actuator.clock, host: ptp))
        return [PollInput(descriptor: timer.descriptor) { [logger, live] in
            timer.acknowledge()
            follower.value.stepThresholdNanoseconds = live.stepThresholdNanoseconds
            guard let action = follower.value.tick() else { return }
            board.record(.packet(service: "timesync", event: .handled(type: .timesync, status: .ok)))
            do { try actuator.apply(action) } catch { logger.error("timesync: \(error)") }
        }]
    }

    static func timesyncMode(_ configured: String) -> TimesyncMode {
        switch configured {
        case "discipline": .discipline
        case "chrony": .chrony
        case "off": .off
        default: DefaultTimesyncMode.detected
        }
    }

}

/// Runs the configured command for each kind of host request, as configured when the host asks
/// (`[shutdown]` applies on reload).
struct ConfiguredShutdownPerformer: ShutdownPerformer {
    let live: LiveSettings

    func perform(_ request: ShutdownRequest) throws {
        let config = live.current
        let command: String
        switch request.kind {
        case .powerOff: command = config.string("shutdown", "poweroff_command")
        case .reboot: command = config.string("shutdown", "reboot_command")
        case .hibernate: command = config.string("shutdown", "hibernate_command")
        }
        // Hooks run before acting, bounded by the host's timeout.
        let hookDirectory = config.string("shutdown", "hook_dir")
        let hooks = hookDirectory.isEmpty ? nil : ShutdownHookRunner(directory: hookDirectory)
        try CommandShutdownPerformer(executable: "/bin/sh", leadingArguments: ["-c", command + " #"], hooks: hooks).perform(request)
    }
}

/// The event-loop plumbing every `hvagent run` shares (real or simulated VMBus): signals
/// (SIGTERM/SIGINT stop, SIGHUP reload), the status socket, systemd readiness and watchdog.
final class DaemonPlumbing {
    let agent: IntegrationAgent
    let notifier: SystemdNotifier
    let logger: Logger
    private let statusServer: LocalSocketServer?
    private let watchdog: LoopTimer?

    let gate: ReadinessGate
    private var readinessTimer: LoopTimer?

    init(agent: IntegrationAgent, board: StatusBoard, gate: ReadinessGate, signals: SignalEvents, notifier: SystemdNotifier,
         statusSocket: String?, logger: Logger, live: LiveSettings) {
        self.agent = agent
        self.notifier = notifier
        self.logger = logger
        self.gate = gate
        var inputs: [PollInput] = []
        inputs.append(PollInput(descriptor: signals.descriptor) { [agent, notifier, logger] in
            for signal in signals.drain() {
                if signal == SIGHUP {
                    // systemd (>= 253) wants the monotonic time with RELOADING=1 to match the
                    // reload to the request.
                    notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(SystemTimeSource.read(CLOCK_MONOTONIC) / 1000)")
                    Self.reload(live, board: board, logger: logger)
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
        if let usec = notifier.watchdogMicroseconds, let timer = try? LoopTimer(everyMicroseconds: usec / 2) {
            inputs.append(PollInput(descriptor: timer.descriptor) {
                timer.acknowledge()
                notifier.notify("WATCHDOG=1")
            })
            watchdog = timer
        } else {
            watchdog = nil
        }
        agent.inputs += inputs
    }

    /// SIGHUP: re-reads the configuration file and applies what may change while running; an
    /// invalid file changes nothing (the error, with file:line, is logged and shown by status).
    static func reload(_ live: LiveSettings, board: StatusBoard, logger: Logger) {
        do {
            let plan = try live.reload()
            // Restart-only keys keep their running values, so this lists every one the file changed.
            board.recordReload(restartPending: plan.needRestart.map(\.qualifiedName))
            logger.notice("SIGHUP: \(live.path): \(plan.summary)")
        } catch {
            board.recordReloadFailure(error.description)
            logger.error("SIGHUP: keeping the running configuration: \(error)")
        }
    }

    /// Serves until stopped; READY goes out when the channels have negotiated (the gate is checked
    /// on every agent event) or after the start-up window, whose one-shot timer then goes away.
    func run() throws {
        gate.check()
        if !gate.sent, let timer = try? LoopTimer(), (try? timer.arm(afterMicroseconds: ReadinessGate.windowMicroseconds)) != nil {
            readinessTimer = timer
            gate.onSent = { [weak self] in self?.dropReadinessTimer() }
            agent.inputs.append(PollInput(descriptor: timer.descriptor) { [weak self] in
                timer.acknowledge()
                self?.gate.check(windowExpired: true)
            })
        }
        try agent.run()
    }

    private func dropReadinessTimer() {
        guard let timer = readinessTimer else { return }
        agent.inputs.removeAll { $0.descriptor() == timer.descriptor }
        readinessTimer = nil
    }
}

/// A mutable value captured by an event-loop closure (the loop runs on one thread).
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// systemd readiness (Type=notify): READY=1 once every open channel has negotiated with the host,
/// or when the start-up window runs out (a host that never negotiates must not hold the boot).
/// Used only on the agent's thread (its observer and poll inputs).
final class ReadinessGate: @unchecked Sendable {
    let board: StatusBoard
    let notifier: SystemdNotifier
    let logger: Logger
    private(set) var sent = false
    /// Called once READY went out (the plumbing drops its start-up timer).
    var onSent: () -> Void = {}
    /// How long start-up may wait for negotiations.
    static let windowMicroseconds: UInt64 = 5_000_000

    init(board: StatusBoard, notifier: SystemdNotifier, logger: Logger) {
        self.board = board
        self.notifier = notifier
        self.logger = logger
    }

    /// Every open channel negotiated (kernel-mode services have nothing to negotiate).
    var negotiated: Bool {
        board.status.services.filter(\.open).allSatisfy { $0.frameworkVersion != nil || $0.mode == "kernel" }
    }

    /// Sends READY once, when negotiated or when `windowExpired`.
    func check(windowExpired: Bool = false) {
        guard !sent, negotiated || windowExpired else { return }
        sent = true
        let open = board.status.services.filter(\.open)
        let pending = open.filter { $0.frameworkVersion == nil && $0.mode != "kernel" }.map(\.name)
        let status = open.isEmpty ? "no channels open" : "serving " + open.map(\.name).joined(separator: ", ")
            + (pending.isEmpty ? "" : "; not negotiated yet: " + pending.joined(separator: ", "))
        notifier.notify("READY=1\nSTATUS=\(status)")
        logger.notice("ready: \(status)")
        onSent()
    }
}
