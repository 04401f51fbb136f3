import HVSystem
import CProcessSupport
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// How every helper is started, waited for (``BoundedProcess``) or watched from the event loop
/// (``BackgroundProcess``): one spawn, so both get the same isolation.
///
/// Why not Foundation's `Process`: the daemon blocks SIGTERM for its signalfd, children inherit
/// that mask, and `Process.terminate()` then does nothing. Here the child gets an empty signal
/// mask and default dispositions and runs in its own process group, so the whole group can be
/// killed at its deadline.
enum ChildSpawn {
    /// Starts `path` with `arguments` (argv[0] is `path`), stdin from /dev/null, stdout and stderr
    /// to /dev/null unless `inheritOutput`; stderr to `errorOutput` when given (the write end of a
    /// pipe the caller reads). Returns the pid, or the errno of the failure.
    ///
    /// `retryWhileBusy`: on ETXTBSY (a file just written is still open for writing in some
    /// concurrently forked child, or an editor is saving it; it clears within milliseconds) try
    /// again for up to 0.2 s. Only for callers that may wait: the event loop must not sleep, and a
    /// probe that could not start is simply tried again later.
    static func spawn(path: String, arguments: [String], environment: [String: String]?, inheritOutput: Bool,
                      errorOutput: Int32? = nil, retryWhileBusy: Bool) -> Result<pid_t, SpawnFailure> {
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
        // Before the close-from below, which would close the pipe first.
        if let errorOutput { posix_spawn_file_actions_adddup2(&actions, errorOutput, 2) }
        // Helpers get stdin/stdout/stderr only: no ring memfds, eventfds, sockets or pool files
        // of the daemon (and no file another thread is writing, which would make exec fail with
        // ETXTBSY for as long as the helper lives).
        _ = cprocess_addclosefrom(&actions, 3)
        if !inheritOutput {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            if errorOutput == nil { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        var retries = 0
        while retryWhileBusy && spawned == ETXTBSY && retries < 20 {
            usleep(10_000)
            retries += 1
            spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        return spawned == 0 ? .success(pid) : .failure(SpawnFailure(errno: spawned))
    }

    /// Reaps `pid` if it has ended: its wait status, nil while it runs; `block` waits for it.
    /// ECHILD (someone else reaped it, e.g. with SIGCHLD ignored) is returned as a failure: the
    /// status is lost.
    static func reap(_ pid: pid_t, block: Bool) -> Result<Int32, SpawnFailure>? {
        var status: Int32 = 0
        let reaped = retryingOnInterrupt { waitpid(pid, &status, block ? 0 : WNOHANG) }
        if reaped == pid { return .success(status) }
        if reaped == 0 { return nil }
        return .failure(SpawnFailure(errno: errno))
    }
}

/// A helper that could not be started (or whose status was lost): the errno.
struct SpawnFailure: Error {
    let errno: Int32
}
