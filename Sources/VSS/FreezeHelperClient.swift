import DaemonSupport
import HVSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of the freeze helper (docs/PROTOCOL.md §6.5.9): FIFREEZE and FITHAW asked of
/// `hvagent freeze-helper`, the one process that holds CAP_SYS_ADMIN, over its Unix socket.
///
/// One connection is kept while anything is frozen through it: the helper thaws what a connection
/// froze when it closes, so an agent that dies while frozen is thawed at once, before systemd even
/// runs `ExecStopPost=`. A broken connection (the helper restarted) is opened again once per
/// request; the new helper thaws what the plan allows, so a thaw still gets through.
public final class FreezeHelperClient: FilesystemFreezer, @unchecked Sendable {
    public let socketPath: String
    /// How long one answer may take: a FIFREEZE syncs the filesystem's dirty data first.
    public let replyTimeoutSeconds: Int
    private struct State {
        var descriptor: Int32 = -1
        /// What this connection froze, so it is closed once nothing is.
        var held: Set<String> = []
    }
    private let state = Mutex(State())

    public init(socketPath: String, replyTimeoutSeconds: Int = 120) {
        self.socketPath = socketPath
        self.replyTimeoutSeconds = replyTimeoutSeconds
    }

    deinit {
        state.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    public func plan(local: () -> FreezePlan) throws(SystemCallError) -> FreezePlan {
        switch try exchange(.plan) {
        case .plan(let plan): return plan
        case .refused(let reason): throw SystemCallError(call: "freeze helper refused the plan: \(reason)", path: socketPath, errno: .notPermitted)
        default: throw SystemCallError(call: "freeze helper: unexpected answer", path: socketPath, errno: .ioError)
        }
    }

    public func freeze(_ mountPoint: String) -> FreezeResult {
        switch try? exchange(.freeze(mountPoint)) {
        case .freeze(let result)?: return result
        case .refused?: return .failed(EPERM)
        default: return .failed(EIO)
        }
    }

    public func thaw(_ mountPoint: String) -> ThawResult {
        switch try? exchange(.thaw(mountPoint)) {
        case .thaw(let result)?: return result
        case .refused?: return .failed(EPERM)
        default: return .failed(EIO)
        }
    }

    /// Sends `request` and waits for its answer, reconnecting once if the connection broke.
    private func exchange(_ request: FreezeHelperRequest) throws(SystemCallError) -> FreezeHelperReply {
        try state.withLock { (state: inout State) throws(SystemCallError) -> FreezeHelperReply in
            var lastError = SystemCallError(call: "freeze helper", path: socketPath, errno: .ioError)
            for _ in 0..<2 {
                if state.descriptor < 0 {
                    do throws(SystemCallError) { state.descriptor = try connect() } catch { lastError = error; continue }
                }
                do throws(SystemCallError) {
                    let reply = try roundTrip(request, on: state.descriptor)
                    record(reply, for: request, in: &state)
                    return reply
                } catch {
                    lastError = error
                    close(state.descriptor)
                    state.descriptor = -1
                    state.held.removeAll()
                }
            }
            throw lastError
        }
    }

    private func record(_ reply: FreezeHelperReply, for request: FreezeHelperRequest, in state: inout State) {
        switch (request, reply) {
        case (.freeze(let mountPoint), .freeze(.frozen)): state.held.insert(mountPoint)
        case (.thaw(let mountPoint), .thaw(.thawed)), (.thaw(let mountPoint), .thaw(.notFrozen)): state.held.remove(mountPoint)
        default: break
        }
        // Nothing frozen through this connection after a thaw: let the helper go idle (it exits).
        if case .thaw = request, state.held.isEmpty {
            close(state.descriptor)
            state.descriptor = -1
        }
    }

    private func connect() throws(SystemCallError) -> Int32 {
        try HelperSocket.connect(path: socketPath, timeout: .seconds(replyTimeoutSeconds), connectCall: "connect to the freeze helper")
    }

    private func roundTrip(_ request: FreezeHelperRequest, on fd: Int32) throws(SystemCallError) -> FreezeHelperReply {
        let bytes = try HelperSocket.exchange(request.encoded, on: fd, capacity: FreezeHelper.maximumReplySize, path: socketPath,
                                              sendCall: "send to the freeze helper", receiveCall: "receive from the freeze helper")
        guard let reply = FreezeHelperReply(bytes, answering: request) else {
            throw SystemCallError(call: "freeze helper: malformed answer", path: socketPath, errno: .ioError)
        }
        return reply
    }
}
