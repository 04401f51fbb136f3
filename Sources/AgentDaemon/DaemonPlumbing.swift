import AgentCore
import DaemonSupport
import HVSystem
import Logging
import Timesync
#if canImport(Glibc)
import Glibc
#endif

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
    /// Hands the start-up code pages back a second after start-up is over (one wake-up, once).
    private var pagesTimer: LoopTimer?

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
        // The start-up code pages go back a second after start-up is over, not at once: the host's
        // first messages right after negotiation (timesync's SYNC sample, which steps the clock)
        // must not pay for mapping the code again — under QEMU/TCG that re-translation cost tens
        // of milliseconds of step error (docs/PERFORMANCE.md, "Start-up code pages").
        if let pages = try? LoopTimer() {
            let logger = self.logger
            gate.onStartupOver = { try? pages.arm(afterMicroseconds: 1_000_000) }
            agent.inputs.append(PollInput(descriptor: pages.descriptor) { [weak self] in
                pages.acknowledge()
                releaseStartupPages(logger)
                self?.agent.inputs.removeAll { $0.descriptor() == pages.descriptor }
                self?.pagesTimer = nil
            })
            pagesTimer = pages
        }
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
