import ArgumentParser
import DaemonSupport
#if canImport(Glibc)
import Glibc
#endif

/// What `hvagent freeze-helper` and `hvagent ip-helper` share: both are socket-activated by their
/// unit, serve only the agent's unit, exit when idle, and log to standard error (the journal).
struct HelperOptions: ParsableArguments {
    @Option(name: .long, help: "Listen here instead of on the socket systemd passes.")
    var socket: String?

    @Option(name: .long, help: "Serve only peers in this systemd unit's cgroup (the agent's: hvagent.service).")
    var peerUnit: String?

    @Option(name: .long, help: "Exit after this many seconds with nothing to do (0: never).")
    var idleExitSeconds: Int = 30

    /// `--socket`, else the socket `unit` passes.
    func listener(socketUnit unit: String) throws -> Int32 {
        guard let listener = try HelperSocket.listener(path: socket) else {
            throw ValidationError("no socket: run from \(unit), or give --socket")
        }
        return listener
    }

    var idleExit: Int? { idleExitSeconds > 0 ? idleExitSeconds : nil }

    var peerCheck: HelperPeerCheck { HelperPeerCheck(unit: peerUnit) }

    /// One line to standard error, unbuffered.
    static func log(_ line: String) {
        let bytes = Array("\(line)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
