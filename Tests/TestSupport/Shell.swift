import Foundation
import HVSystem

/// Runs shell commands for the namespace tests (`ip`, `unshare`).
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// `/bin/sh -c command` through posix_spawn. Not Foundation's Process: its run loop wants a
    /// loopback socket pair, which a fresh network namespace (lo down) cannot give.
    public static func run(_ command: String, environment: [String: String] = [:]) -> (status: Int32, output: String) {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = (env["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        for (k, v) in environment { env[k] = v }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return (-1, "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let args: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (s: String) in strdup(s) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { (k: String, v: String) in strdup(k + "=" + v) } + [nil]
        defer { (args + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, args, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return (-1, "posix_spawn failed: \(rc)")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fds[0], raw.baseAddress, raw.count) } }
            guard n > 0 else { break }
            output.append(contentsOf: buffer.prefix(n))
        }
        close(fds[0])
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
        let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exitCode, String(decoding: output, as: UTF8.self))
    }

    /// Runs each line; throws on the first failure.
    public static func must(_ script: String) throws {
        for line in script.split(separator: "\n") {
            let r = run(String(line))
            guard r.status == 0 else { throw Failure(description: "`\(line)` failed (\(r.status)): \(r.output)") }
        }
    }
}

/// Re-runs one test of the running test binary inside fresh namespaces (`unshare`), for tests that
/// change network state: the body runs only there, where nothing outside can be touched.
public enum PrivateNamespace {
    /// nil when it cannot run here (not root, a tool missing); the reason is printed for the log.
    /// - Parameters:
    ///   - test: `Module.Class/testMethod` of the body.
    ///   - flags: the namespaces, e.g. `--net --uts`.
    ///   - childKey: set to "1" in the body's environment; the body refuses to run without it.
    public static func rerun(_ test: String, unshare flags: String, tools: [String] = ["unshare", "ip"],
                             childKey: String) throws -> (status: Int32, output: String)? {
        let label = String(test.split(separator: "/").first?.split(separator: ".").last ?? Substring(test))
        guard geteuid() == 0 else {
            print("\(label): skipped: needs root to create a network namespace (CI runs as root)")
            return nil
        }
        for tool in tools where Shell.run("command -v \(tool)").status != 0 {
            print("\(label): skipped: `\(tool)` not installed (scripts/setup.sh installs it)")
            return nil
        }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return Shell.run("timeout -s KILL 600 unshare \(flags) -- '\(exe)' \(test) 2>&1", environment: [childKey: "1"])
    }

    /// Whether a rerun's body ran and passed: exit status 0, XCTest's summary for its one test,
    /// and no skip (a body that skipped inside the namespace tested nothing).
    public static func bodyPassed(_ result: (status: Int32, output: String)) -> Bool {
        result.status == 0 && result.output.contains("Executed 1 test, with 0 failures") && !result.output.contains("skipped")
    }

    /// The check a body makes before it changes anything: it is in a fresh network namespace, which
    /// holds `lo` and nothing else. Throws (with what `ip` showed) anywhere else.
    public static func requireFreshNetworkNamespace() throws {
        let links = Shell.run("ip -o link show")
        guard links.status == 0, links.output.split(separator: "\n").count == 1, links.output.contains(": lo:") else {
            throw Shell.Failure(description: "not a fresh network namespace; refusing to change anything:\n\(links.output)")
        }
    }
}
