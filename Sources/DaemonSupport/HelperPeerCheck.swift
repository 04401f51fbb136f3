import CHVSupport
import FoundationEssentials
import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// Who may use a privileged helper (`hvagent freeze-helper`, `hvagent ip-helper`): a process of
/// the helper's own user and, when `unit` is set, in that systemd unit's cgroup — the agent's
/// (`hvagent.service`). The socket's 0600 mode already keeps other users out; the cgroup check
/// keeps out other root processes that are not the agent, so the helper's capability is lent to
/// the agent alone (packaging/README.md, "The freeze helper", "The IP helper").
public struct HelperPeerCheck: Sendable {
    /// The systemd unit the peer must run in; nil accepts any process of the same user (tests,
    /// a helper run by hand).
    public let unit: String?
    /// Where `PID/cgroup` is read (`/proc`; tests point it elsewhere).
    public let procRoot: String

    public init(unit: String?, procRoot: String = "/proc") {
        self.unit = unit
        self.procRoot = procRoot
    }

    /// Why the peer connected on `fd` may not use the helper, or nil when it may. SO_PEERCRED
    /// gives the credentials of the process that connected, fixed at connect time.
    public func refusal(ofPeer fd: Int32) -> String? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        guard chv_peer_credentials(fd, &pid, &uid) == 0 else { return "SO_PEERCRED: \(Errno.current)" }
        guard uid == geteuid() else { return "peer pid \(pid) runs as uid \(uid), not \(geteuid())" }
        guard let unit else { return nil }
        let cgroup = (try? String(contentsOfFile: "\(procRoot)/\(pid)/cgroup", encoding: .utf8)) ?? ""
        return Self.cgroup(cgroup, contains: unit) ? nil : "peer pid \(pid) is not in \(unit)"
    }

    /// Whether a `/proc/PID/cgroup` text places the process in `unit` (a path component of any
    /// hierarchy's path: `0::/system.slice/hvagent.service`).
    static func cgroup(_ text: String, contains unit: String) -> Bool {
        text.split(separator: "\n").contains { line in
            line.split(separator: ":", maxSplits: 2).last?.split(separator: "/").contains { $0 == unit } ?? false
        }
    }
}
