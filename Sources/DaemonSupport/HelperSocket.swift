import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket of a socket-activated helper (`hvagent freeze-helper`, `hvagent
/// ip-helper`): the one systemd passes, or one bound by the caller (tests, a run by hand).
public enum HelperSocket {
    /// The socket systemd passed (`LISTEN_PID` is this process, `LISTEN_FDS` ≥ 1: descriptor 3),
    /// made non-blocking; nil when not socket-activated. The variables are removed, so no child
    /// (netplan, a hook) believes it was passed the socket too.
    public static func fromSystemd() -> Int32? {
        guard let pid = getenv("LISTEN_PID").flatMap({ pid_t(String(cString: $0)) }), pid == getpid(),
              let count = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), count >= 1 else { return nil }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        _ = fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK)
        return 3
    }

    /// A listening SOCK_SEQPACKET socket bound at `path` (mode 0600), for running without systemd.
    public static func bind(path: String) throws(SystemCallError) -> Int32 {
        try UnixSocketAddress(path: path).listeningSocket(type: Int32(SOCK_SEQPACKET.rawValue))
    }

    /// The socket systemd passed, else one bound at `path`; nil when neither (the caller says how
    /// to run it).
    public static func listener(path: String?) throws(SystemCallError) -> Int32? {
        if let path { return try bind(path: path) }
        return fromSystemd()
    }
}
