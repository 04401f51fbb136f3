import DaemonSupport
import HVSystem
import VMBusDiscovery
import VSS

#if canImport(Glibc)
import Glibc
#endif

/// The real machine: files under `/`, commands through posix_spawnp with a pipe for stdout.
public final class HostSystem: SystemAccess {
    /// File reads and listings are the same as sysfs's: one implementation.
    private let files = DirectorySysfs(root: "/")

    public init() {}

    public func read(_ path: String) -> String? { files.read(path) }

    public func exists(_ path: String) -> Bool { files.exists(path) }

    public func list(_ path: String) -> [String] { files.list(path) }

    public func isExecutableFile(_ path: String) -> Bool {
        var st = Glibc.stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    public func blockDeviceFacts(rootPrefix: String) -> any BlockDeviceFacts { SystemBlockDeviceFacts(rootPrefix: rootPrefix) }

    public func daemonStatus(socket: String) -> AgentStatus? {
        (try? LocalSocketServer.fetch(path: socket)).flatMap(AgentStatus.decode)
    }

    public func fileStatus(_ path: String) -> (mtime: Int, size: Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return (Int(st.st_mtim.tv_sec), Int(st.st_size))
    }

    public func run(_ argv: [String]) -> (status: Int32, output: String)? {
        guard !argv.isEmpty else { return nil }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ)
        close(pipeFDs[1])
        guard rc == 0 else {
            close(pipeFDs[0])
            return nil
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { Glibc.read(pipeFDs[0], raw.baseAddress, raw.count) } }
            if n <= 0 { break }
            if out.count < 4 << 20 { out += chunk[..<n] }
        }
        close(pipeFDs[0])
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
        // WIFEXITED / WEXITSTATUS; a signal-killed child reports 128 + signal, like a shell.
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        // posix_spawnp reports "not found" as exit status 127 from the child on glibc.
        if exit == 127 { return nil }
        return (exit, String(decoding: out, as: UTF8.self))
    }

    public func append(_ path: String, _ text: String) throws {
        guard let f = fopen(path, "a") else { throw SystemCallError(call: "append to", path: path, errno: .current) }
        defer { fclose(f) }
        guard fputs(text, f) >= 0 else { throw SystemCallError(call: "append to", path: path, errno: .current) }
    }
}
