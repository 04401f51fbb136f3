import CProcessSupport
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Runs a helper program (health probe, shutdown hook) with a deadline.
///
/// Why not Foundation's `Process`: the daemon blocks SIGTERM for its signalfd, children inherit
/// that mask, and `Process.terminate()` then does nothing. Here the child gets an empty signal
/// mask and default dispositions, runs in its own process group, and the whole group is
/// killed (SIGTERM, then SIGKILL after a second) at the deadline.
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

    /// Runs `path` with `arguments` (argv[0] is `path`), stdin from /dev/null, stdout and
    /// stderr to /dev/null unless `inheritOutput`.
    public static func run(path: String, arguments: [String] = [], environment: [String: String]? = nil,
                           deadline: Date, inheritOutput: Bool = false) -> Outcome {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = (environment ?? ProcessInfo.processInfo.environment)
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Helpers get stdin/stdout/stderr only: no ring memfds, eventfds, sockets or pool files
        // of the daemon (and no file another thread is writing, which would make exec fail with
        // ETXTBSY for as long as the helper lives).
        _ = cprocess_addclosefrom(&actions, 3)
        if !inheritOutput {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        // ETXTBSY: a file just written is still open for writing in some concurrently forked
        // child (or an editor is saving it); it clears within milliseconds.
        var retries = 0
        while spawned == ETXTBSY && retries < 20 {
            usleep(10_000)
            retries += 1
            spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        guard spawned == 0 else { return .failedToStart(spawned) }
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return outcome(status) }
            usleep(10_000)
        }
        kill(-pid, SIGTERM)
        let grace = Date().addingTimeInterval(1)
        while Date() < grace {
            if waitpid(pid, &status, WNOHANG) == pid {
                kill(-pid, SIGKILL)  // stragglers left in the group
                return .timedOut
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return .timedOut
    }

    static func outcome(_ status: Int32) -> Outcome {
        status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
    }
}
