import DaemonSupport
import HVProtocol
import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent ip-helper` (docs/PROTOCOL.md §7.19.1): the only part of hvagent that holds
/// CAP_NET_ADMIN and may write the network managers' configuration, so the agent's own unit holds
/// neither. It applies a SET_IP_INFO for a peer on its socket and trusts nothing it is told:
///
/// * the peer must run as the helper's own user and, when the check names a unit, in that systemd
///   unit's cgroup (``HelperPeerCheck``): anything else is answered HV_E_FAIL, nothing done;
/// * the request is parsed strictly (``IPHelperRequest``; malformed: HV_E_FAIL, nothing done), then
///   handed to the same ``IPInjector`` the agent would run itself, which checks every token.
///
/// One request per connection, one connection at a time: the host sends one SET_IP_INFO at a time,
/// and the agent's runner never sends a second while one is applied. It exits after
/// `idleExitSeconds` without a request; socket activation starts it again at the next one.
public final class IPHelper {
    /// How long a connected peer may take to send its request; a peer that sends nothing cannot
    /// keep the helper from the next one for longer.
    public static let requestTimeoutSeconds = 5

    private let listener: Int32
    private let injector: any IPInjecting
    private let peerCheck: HelperPeerCheck
    private let idleExitSeconds: Int?
    private let log: (String) -> Void

    /// - Parameters:
    ///   - listener: a listening SOCK_SEQPACKET Unix socket (systemd's, or one bound by the caller).
    ///   - injector: what applies a request (``IPInjector``; tests give a fake).
    public init(listener: Int32, injector: any IPInjecting, peerCheck: HelperPeerCheck, idleExitSeconds: Int?,
                log: @escaping (String) -> Void) {
        self.listener = listener
        self.injector = injector
        self.peerCheck = peerCheck
        self.idleExitSeconds = idleExitSeconds
        self.log = log
    }

    /// Serves until `stop` is readable (SIGTERM's signalfd, a test's pipe) or the idle time passes,
    /// then closes the listener. A request being applied is finished first: a network
    /// configuration half applied is worse than a stop a few seconds late.
    public func run(stop: Int32?) {
        var idleSince = monotonicSeconds()
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if let stop { fds.append(pollfd(fd: stop, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { log("poll failed: \(Errno.current)"); break }
            if stop != nil, fds[1].revents != 0 { break }
            if fds[0].revents & Int16(POLLIN) != 0 {
                while let fd = acceptOne() {
                    serve(fd)
                    close(fd)
                }
                idleSince = monotonicSeconds()
            }
            if let idleExitSeconds, monotonicSeconds() - idleSince >= Double(idleExitSeconds) { break }
        }
        close(listener)
    }

    private func acceptOne() -> Int32? {
        let fd = retryingOnInterrupt { accept(listener, nil, nil) }
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var timeout = timeval(tv_sec: Self.requestTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Reads one request from `fd`, applies it, answers. The request is read even from a peer
    /// that is refused: a connection closed with a packet unread is reset, and the peer would get
    /// ECONNRESET instead of the refusal.
    private func serve(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: IPHelperRequest.maximumSize + 1)
        let count = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
        guard count > 0 else {
            if count < 0 { log("no request from the agent within \(Self.requestTimeoutSeconds) s: \(Errno.current)") }
            return
        }
        let outcome: IPInjector.Outcome
        if let refusal = peerCheck.refusal(ofPeer: fd) {
            log("refused a connection: \(refusal)")
            outcome = IPInjector.Outcome(status: .fail, message: "SET_IP_INFO answered HV_E_FAIL: the IP helper refused this process: \(refusal)")
        } else if let request = IPHelperRequest(Array(buffer[..<count])) {
            outcome = injector.set(request.settings)
            log(outcome.message)
        } else {
            log("refused a malformed request (\(count) bytes)")
            outcome = IPInjector.Outcome(status: .fail, message: "SET_IP_INFO answered HV_E_FAIL: the IP helper refused a malformed request (\(count) bytes)")
        }
        let bytes = IPHelperReply(outcome).encoded
        let sent = bytes.withUnsafeBytes { raw in retryingOnInterrupt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) } }
        if sent != bytes.count { log("cannot answer the agent: \(Errno.current)") }
    }

    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
