import AgentCore
import DaemonSupport
import Logging
import VMBusDiscovery

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
        onStartupOver = { releaseStartupPages(logger) }
    }

    /// Every open channel negotiated (kernel-mode services have nothing to negotiate).
    var negotiated: Bool {
        board.status.services.filter(\.open).allSatisfy { $0.frameworkVersion != nil || $0.mode == .kernel }
    }

    /// Start-up is over (READY out, channels negotiated): the plumbing hands the start-up code
    /// pages back a moment later (StartupPages); by default at once.
    var onStartupOver: () -> Void
    private(set) var startupOver = false

    /// Sends READY once, when negotiated or when `windowExpired`. Start-up is over once READY is out
    /// and channels are open and negotiated (or the window ran out): ``onStartupOver`` then runs,
    /// once. READY itself can go out before any channel opened (none offered yet).
    func check(windowExpired: Bool = false) {
        if !sent, negotiated || windowExpired {
            sent = true
            let open = board.status.services.filter(\.open)
            let pending = open.filter { $0.frameworkVersion == nil && $0.mode != .kernel }.map(\.name.rawValue)
            let status = open.isEmpty ? "no channels open" : "serving " + open.map(\.name.rawValue).joined(separator: ", ")
                + (pending.isEmpty ? "" : "; not negotiated yet: " + pending.joined(separator: ", "))
            notifier.notify("READY=1\nSTATUS=\(status)")
            logger.notice("ready: \(status)")
            onSent()
        }
        if sent, !startupOver, windowExpired || (negotiated && board.status.services.contains(where: \.open)) {
            startupOver = true
            onStartupOver()
        }
    }
}

/// Hands back the code pages start-up touched (docs/PERFORMANCE.md, "Idle agent"); a failure
/// only costs memory, so it is logged and the daemon goes on.
func releaseStartupPages(_ logger: Logger) {
    do {
        let bytes = try StartupPages.release()
        logger.debug("start-up code pages released (\(bytes / 1024) KB of read-only mappings)")
    } catch {
        logger.warning("could not release start-up code pages: \(error)")
    }
}
