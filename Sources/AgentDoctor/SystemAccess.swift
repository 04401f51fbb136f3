import DaemonSupport
import VSS
#if canImport(Glibc)
import Glibc
#endif

/// Everything `doctor` reads, runs or changes goes through this seam, so tests run it on a fake
/// root with scripted commands and nothing touches the machine.
public protocol SystemAccess: AnyObject {
    /// Contents of a file (absolute path, resolved under the root), or `nil`.
    func read(_ path: String) -> String?
    func exists(_ path: String) -> Bool
    /// Entry names of a directory, sorted; empty when missing.
    func list(_ path: String) -> [String]
    /// Modification time (seconds since the epoch) and size of a file.
    func fileStatus(_ path: String) -> (mtime: Int, size: Int)?
    /// Runs a command (argv[0] looked up in PATH) and returns its exit status and standard output;
    /// `nil` when it could not be started (not installed).
    func run(_ argv: [String]) -> (status: Int32, output: String)?
    /// Appends text to a file (creating it), for `--fix`.
    func append(_ path: String, _ text: String) throws
    /// Whether `path` is a regular file the caller may execute (a VSS hook).
    func isExecutableFile(_ path: String) -> Bool
    /// What the freeze planner needs to know about mount sources, resolved under `rootPrefix`
    /// (read-only: stat and sysfs; docs/PROTOCOL.md §6.5.7).
    func blockDeviceFacts(rootPrefix: String) -> any BlockDeviceFacts
    /// What the running daemon reports on its status socket; `nil` when nothing answers there.
    func daemonStatus(socket: String) -> AgentStatus?
}
