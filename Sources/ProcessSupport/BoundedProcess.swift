import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Runs a helper program (shutdown hook, the shutdown command) with a deadline, waiting for it.
///
/// For callers that may block: shutdown hooks run while the guest is going down anyway. Helpers
/// the event loop must not wait for (health probes) run as a ``BackgroundProcess``. Both start
/// the child the same way (``ChildSpawn``): empty signal mask, default dispositions, own process
/// group; the whole group is killed (SIGTERM, then SIGKILL after a second) at the deadline.
public enum BoundedProcess {
    public enum Outcome: Hashable, Sendable {
        /// Exited with this status.
        case exited(Int32)
        /// Killed by a signal it did not get from us.
        case signalled(Int32)
        /// Still running at the deadline: killed.
        case timedOut
        /// Could not be started (errno).
        case failedToStart(Int32)
    }

    /// Grace between SIGTERM and SIGKILL for a helper past its deadline.
    static let graceSeconds = 1.0

    /// Runs `path` with `arguments` (argv[0] is `path`), stdin from /dev/null, stdout and
    /// stderr to /dev/null unless `inheritOutput`.
    public static func run(path: String, arguments: [String] = [], environment: [String: String]? = nil,
                           deadline: Date, inheritOutput: Bool = false) -> Outcome {
        let pid: pid_t
        switch ChildSpawn.spawn(path: path, arguments: arguments, environment: environment, inheritOutput: inheritOutput,
                                retryWhileBusy: true) {
        case .success(let started): pid = started
        case .failure(let failure): return .failedToStart(failure.errno)
        }
        while Date() < deadline {
            if let reaped = ChildSpawn.reap(pid, block: false) { return outcome(reaped) }
            usleep(10_000)
        }
        kill(-pid, SIGTERM)
        let grace = Date().addingTimeInterval(graceSeconds)
        while Date() < grace {
            if ChildSpawn.reap(pid, block: false) != nil {
                kill(-pid, SIGKILL)  // stragglers left in the group
                return .timedOut
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        _ = ChildSpawn.reap(pid, block: true)
        return .timedOut
    }

    static func outcome(_ reaped: Result<Int32, SpawnFailure>) -> Outcome {
        switch reaped {
        case .success(let status): outcome(status)
        case .failure(let failure): .failedToStart(failure.errno)
        }
    }

    static func outcome(_ status: Int32) -> Outcome {
        status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
    }
}
