import Synchronization
import ProcessSupport

/// Health from a command: exit status 0 = healthy, any other exit, a signal or the timeout =
/// critical, a command that cannot be started = unknown.
///
/// For a list of systemd units use `systemctl is-active --quiet UNIT...`, which exits 0 only if
/// every unit is active.
///
/// The command never runs in the caller's time, because the caller is the event loop that also
/// serves timesync and KVP: ``applicationState()`` returns the last answer and, when that is older
/// than `cacheSeconds` (or there is none), starts the command in the background unless it is
/// running already. Its end is a loop event: the loop polls ``descriptor`` and calls
/// ``handleReadable()``, which records the answer (and kills the command's process group at
/// `timeoutSeconds`). The first run starts at creation so that the first heartbeat usually has an
/// answer; until there is one the probe reports nil and the heartbeat echoes the host's value, as
/// with no probe configured. Nothing refreshes on a timer: only a heartbeat asking starts a run, so
/// an idle guest is never woken. Ages are measured on a monotonic clock (timesync may step the
/// wall clock).
public final class CommandHealthProbe: HealthProbe, @unchecked Sendable {
    private let executable: String
    private let arguments: [String]
    private let cacheSeconds: Double
    private let timeoutSeconds: Double
    private let lock = Mutex(())
    /// The running command; nil when no descriptor was left at creation (the answer is then unknown).
    private let process: BackgroundProcess?
    private var answer: (state: ApplicationState, at: ContinuousClock.Instant)?
    /// A reload dropped this probe: it starts nothing more.
    private var cancelled = false

    public init(executable: String, arguments: [String], cacheSeconds: Double = 10, timeoutSeconds: Double = 5) {
        self.executable = executable
        self.arguments = arguments
        self.cacheSeconds = cacheSeconds
        self.timeoutSeconds = timeoutSeconds
        process = BackgroundProcess()
        refreshIfStale()
    }

    /// Probe for "all these systemd units are active".
    public static func systemdUnits(_ units: [String]) -> CommandHealthProbe {
        CommandHealthProbe(executable: "/usr/bin/systemctl", arguments: ["is-active", "--quiet"] + units)
    }

    /// The same for the probe's whole life: the running command's pidfd and deadline timer are
    /// watched inside it.
    public var descriptor: Int32 { process?.descriptor ?? -1 }

    public var isRunning: Bool {
        lock.withLock { _ in process?.isRunning ?? false }
    }

    /// The last answer, never waiting; starts a run when it is stale.
    public func applicationState() -> ApplicationState? {
        lock.withLock { _ in
            refreshIfStale()
            return answer?.state
        }
    }

    public func handleReadable() {
        lock.withLock { _ in
            if let outcome = process?.handleReadable() { record(outcome) }
        }
    }

    public func cancel() {
        lock.withLock { _ in
            cancelled = true
            process?.cancel()
        }
    }

    /// Called with the lock held (or from init).
    private func refreshIfStale() {
        guard !cancelled else { return }
        guard let process else {
            answer = (.unknown, .now)
            return
        }
        guard !process.isRunning else { return }
        if let answer, answer.at.duration(to: .now) < .seconds(cacheSeconds) { return }
        if let outcome = process.start(path: executable, arguments: arguments, timeoutSeconds: timeoutSeconds) {
            record(outcome)
        }
    }

    private func record(_ outcome: BoundedProcess.Outcome) {
        let state: ApplicationState = switch outcome {
        case .exited(0): .healthy
        case .exited, .signalled, .timedOut: .critical
        case .failedToStart: .unknown
        }
        answer = (state, .now)
    }
}
