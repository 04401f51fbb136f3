import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the administrator's hooks before a shutdown: every executable regular file in a
/// directory, in name order, with the request in the environment (HVAGENT_SHUTDOWN_KIND,
/// HVAGENT_SHUTDOWN_REASON, HVAGENT_SHUTDOWN_MESSAGE). All hooks together get the time the
/// host allows; a hook still running at the deadline is killed, and the rest are skipped.
public struct ShutdownHookRunner: Sendable {
    public struct Result: Hashable, Sendable {
        public var name: String
        /// Exit status; nil if the hook was killed or could not start.
        public var status: Int32?
        public var timedOut: Bool

        public init(name: String, status: Int32?, timedOut: Bool) {
            self.name = name
            self.status = status
            self.timedOut = timedOut
        }
    }

    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The hook budget for a request: the host's timeout less a second for the shutdown itself,
    /// or `fallbackSeconds` when the host gives none (openvmm sends 0).
    public static func budget(for request: ShutdownRequest, fallbackSeconds: Double = 30) -> Double {
        request.timeoutSeconds > 1 ? Double(request.timeoutSeconds) - 1 : fallbackSeconds
    }

    public func run(_ request: ShutdownRequest, budgetSeconds: Double) -> [Result] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return [] }
        let deadline = Date().addingTimeInterval(budgetSeconds)
        var results: [Result] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  manager.isExecutableFile(atPath: path) else { continue }
            guard deadline.timeIntervalSinceNow > 0 else {
                results.append(Result(name: name, status: nil, timedOut: true))
                continue
            }
            results.append(runOne(name: name, path: path, request: request, deadline: deadline))
        }
        return results
    }

    /// Spawns the hook in its own process group with a clean signal mask (so SIGTERM works
    /// even if this process blocks it) and kills the whole group at the deadline.
    private func runOne(name: String, path: String, request: ShutdownRequest, deadline: Date) -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["HVAGENT_SHUTDOWN_KIND"] = request.kind.rawValue
        environment["HVAGENT_SHUTDOWN_REASON"] = "0x" + String(request.reasonCode, radix: 16)
        environment["HVAGENT_SHUTDOWN_MESSAGE"] = request.message
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
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
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, &attributes, argv, envp) == 0 else {
            return Result(name: name, status: nil, timedOut: false)
        }
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return Result(name: name, status: Self.exitCode(status), timedOut: false) }
            usleep(10_000)
        }
        kill(-pid, SIGTERM)
        let grace = Date().addingTimeInterval(1)
        while Date() < grace {
            if waitpid(pid, &status, WNOHANG) == pid {
                kill(-pid, SIGKILL)  // stragglers in the hook's group
                return Result(name: name, status: nil, timedOut: true)
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return Result(name: name, status: nil, timedOut: true)
    }

    /// The exit code of a normal exit; nil for death by signal.
    static func exitCode(_ status: Int32) -> Int32? {
        status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }
}
