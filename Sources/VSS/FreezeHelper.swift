import DaemonSupport
import HVSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent freeze-helper` (docs/PROTOCOL.md §6.5.9): the only part of hvagent that holds
/// CAP_SYS_ADMIN, so the agent's own unit keeps none. It does three things for a peer on its
/// socket: tell the freeze plan, FIFREEZE a mount point, FITHAW one. It trusts nothing it is told:
///
/// * the peer must run as the helper's own user and, when `peerUnit` is set, in that systemd
///   unit's cgroup (SO_PEERCRED, then `/proc/PID/cgroup`);
/// * every request is parsed strictly (``FreezeHelperRequest``); a FREEZE is refused unless the
///   mount point is a target of the plan it builds itself from the initial namespace's mountinfo
///   at that moment; a THAW unless the helper froze it or it is such a target;
/// * what a connection froze is thawed when that connection closes (the agent died), and
///   everything is thawed on SIGTERM.
///
/// Like the agent it writes no line while anything is frozen (V2): lines are held and written
/// once nothing is. It exits after `idleExitSeconds` with nothing frozen; socket activation starts
/// it again at the next backup.
public final class FreezeHelper {
    /// The largest answer (the plan of a machine with many mounts, as JSON).
    public static let maximumReplySize = 1 << 20

    public let procedure: FreezeProcedure
    public let peerUnit: String?
    public let idleExitSeconds: Int?
    private let listener: Int32
    private let log: (String) -> Void
    /// Per connection: the mount points it froze, in freeze order; nil when its peer was refused.
    private var connections: [Int32: [String]?] = [:]
    /// Frozen by a connection that is gone, whose FITHAW failed: retried by a THAW and at stop.
    private var orphaned: [String] = []
    private var heldLines: [String] = []

    /// - Parameters:
    ///   - listener: a listening SOCK_SEQPACKET Unix socket (systemd's, or one bound by the caller).
    ///   - procedure: gives the plan (`plan()`) and the freezer; its hooks are never run here.
    public init(listener: Int32, procedure: FreezeProcedure, peerUnit: String?, idleExitSeconds: Int?,
                log: @escaping (String) -> Void) {
        self.listener = listener
        self.procedure = procedure
        self.peerUnit = peerUnit
        self.idleExitSeconds = idleExitSeconds
        self.log = log
    }

    /// Mount points frozen now through any connection.
    public var frozen: [String] { connections.values.compactMap { $0 }.flatMap { $0 } + orphaned }

    /// Serves until `stop` is readable (SIGTERM's signalfd, a test's pipe) or the idle time
    /// passes; thaws everything it froze and closes the listener (queued peers are refused, not
    /// left waiting) before it returns.
    public func run(stop: Int32?) {
        var idleSince = monotonicSeconds()
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if let stop { fds.append(pollfd(fd: stop, events: Int16(POLLIN), revents: 0)) }
            let clients = Array(connections.keys)
            fds += clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { say("poll failed: \(Errno.current)"); break }
            if stop != nil, fds[1].revents != 0 { break }
            if fds[0].revents & Int16(POLLIN) != 0 { acceptAll() }
            for (index, fd) in clients.enumerated() where fds[index + (stop == nil ? 1 : 2)].revents != 0 {
                serve(fd)
            }
            if !frozen.isEmpty {
                idleSince = monotonicSeconds()
            } else if let idleExitSeconds, monotonicSeconds() - idleSince >= Double(idleExitSeconds) {
                break
            }
        }
        for fd in Array(connections.keys) { drop(fd, reason: "freeze helper stopping") }
        let leftover = orphaned
        orphaned = []
        orphaned = thawAll(leftover)
        close(listener)
        flush()
    }

    private func acceptAll() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if let refusal = HelperPeerCheck(unit: peerUnit).refusal(ofPeer: fd) {
                say("refused a connection: \(refusal)")
                connections[fd] = .some(nil)
            } else {
                connections[fd] = .some([])
            }
        }
    }

    private func serve(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: FreezeHelperRequest.maximumSize + 1)
        let count = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT)) } }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
        guard count > 0 else { return drop(fd, reason: "the agent closed its connection") }
        let reply: FreezeHelperReply
        if case .some(nil) = connections[fd] {
            reply = .refused("this peer may not use the freeze helper")
        } else if let request = FreezeHelperRequest(buffer[..<count]) {
            reply = handle(request, from: fd)
        } else {
            say("refused a malformed request (\(count) bytes)")
            reply = .refused("malformed request")
        }
        let bytes = reply.encoded
        let sent = bytes.withUnsafeBytes { raw in retryingOnInterrupt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) } }
        if sent != bytes.count { drop(fd, reason: "cannot answer the agent: \(Errno.current)") }
        flush()
    }

    private func handle(_ request: FreezeHelperRequest, from fd: Int32) -> FreezeHelperReply {
        switch request {
        case .plan:
            return .plan(procedure.plan())
        case .freeze(let mountPoint):
            guard procedure.plan().targets.contains(where: { $0.mountPoint == mountPoint }) else {
                say("refused FREEZE of \(mountPoint): not in the freeze plan")
                return .refused("not in the freeze plan: \(mountPoint)")
            }
            let result = procedure.freezer.freeze(mountPoint)
            if result == .frozen { connections[fd]??.append(mountPoint) }
            return .freeze(result)
        case .thaw(let mountPoint):
            guard frozen.contains(mountPoint) || procedure.plan().targets.contains(where: { $0.mountPoint == mountPoint }) else {
                say("refused THAW of \(mountPoint): neither frozen by the helper nor in the freeze plan")
                return .refused("neither frozen by the helper nor in the freeze plan: \(mountPoint)")
            }
            let result = procedure.freezer.thaw(mountPoint)
            if result != .thawed && result != .notFrozen { return .thaw(result) }
            for key in Array(connections.keys) { connections[key]??.removeAll { $0 == mountPoint } }
            orphaned.removeAll { $0 == mountPoint }
            return .thaw(result)
        }
    }

    /// Closes `fd` after thawing, in reverse order, what it froze.
    private func drop(_ fd: Int32, reason: String) {
        let held = (connections.removeValue(forKey: fd) ?? nil) ?? []
        close(fd)
        guard !held.isEmpty else { return }
        let stuck = thawAll(held)
        say("\(reason) while \(held.count) filesystem(s) were frozen: thawed \(held.count - stuck.count)")
        orphaned += stuck
    }

    private func thawAll(_ mountPoints: [String]) -> [String] {
        var notes: [String] = []
        let stuck = procedure.thawAll(mountPoints, notes: &notes)
        notes.forEach(say)
        return stuck
    }

    private func say(_ line: String) {
        if heldLines.count < 1000 { heldLines.append(line) }
    }

    /// Writes the held lines once nothing is frozen.
    private func flush() {
        guard frozen.isEmpty else { return }
        for line in heldLines { log(line) }
        heldLines.removeAll()
    }

    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
