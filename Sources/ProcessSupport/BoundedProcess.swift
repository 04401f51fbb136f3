import CProcessSupport
import FoundationEssentials
import HVSystem
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
        switch ChildSpawn.spawn(path: path, arguments: arguments, environment: environment, inheritOutput: inheritOutput,
                                retryWhileBusy: true) {
        case .success(let pid): wait(for: pid, deadline: deadline) {}
        case .failure(let failure): .failedToStart(failure.errno)
        }
    }

    /// Like ``run(path:arguments:environment:deadline:inheritOutput:)`` (stdout to /dev/null),
    /// and also returns the first `limit` bytes the helper wrote to stderr: for a helper whose
    /// complaint belongs in the caller's error message (`netplan apply`). The pipe is drained
    /// while the helper runs, so a chatty helper never blocks on it; bytes past `limit` are read
    /// and dropped.
    public static func runCapturingErrors(path: String, arguments: [String] = [], deadline: Date,
                                          limit: Int = 4096) -> (outcome: Outcome, errors: String) {
        var fds: [Int32] = [-1, -1]
        guard cprocess_capture_pipe(&fds) == 0 else { return (.failedToStart(errno), "") }
        let spawned = ChildSpawn.spawn(path: path, arguments: arguments, environment: nil, inheritOutput: false,
                                       errorOutput: fds[1], retryWhileBusy: true)
        close(fds[1])
        defer { close(fds[0]) }
        var captured: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        func drain() {
            for _ in 0..<64 {  // bounded, so that a helper writing without pause still meets its deadline
                let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fds[0], raw.baseAddress, raw.count) } }
                guard n > 0 else { return }
                captured.append(contentsOf: chunk.prefix(min(n, max(0, limit - captured.count))))
            }
        }
        let outcome: Outcome = switch spawned {
        case .success(let pid): wait(for: pid, deadline: deadline, drain)
        case .failure(let failure): .failedToStart(failure.errno)
        }
        drain()
        return (outcome, String(decoding: captured, as: UTF8.self))
    }

    /// Waits for `pid` until `deadline` (calling `poll` every 10 ms), then kills its group.
    private static func wait(for pid: pid_t, deadline: Date, _ poll: () -> Void) -> Outcome {
        while Date() < deadline {
            poll()
            if let reaped = ChildSpawn.reap(pid, block: false) { return outcome(reaped) }
            usleep(10_000)
        }
        kill(-pid, SIGTERM)
        let grace = Date().addingTimeInterval(graceSeconds)
        while Date() < grace {
            poll()
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
