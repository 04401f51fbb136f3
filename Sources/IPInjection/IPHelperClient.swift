import DaemonSupport
import HVProtocol
import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of the IP helper (docs/PROTOCOL.md §7.19.1): a SET_IP_INFO handed to
/// `hvagent ip-helper`, the one process with CAP_NET_ADMIN, over its Unix socket, and its outcome
/// read back. One connection per request.
///
/// Every failure to get an answer is HV_E_FAIL with a line naming the socket: the helper not
/// running (hvagent-ip.socket stopped or missing), refusing, or not answering within
/// `replyTimeout`. The timeout is below hv_utils' 30-second transaction timeout, so the host gets
/// the agent's answer rather than the kernel's; a request that outlives it may still be applied by
/// the helper, and the line says so.
public struct IPHelperClient: IPInjecting {
    public let socketPath: String
    public let replyTimeout: Duration

    public init(socketPath: String, replyTimeout: Duration = .seconds(28)) {
        self.socketPath = socketPath
        self.replyTimeout = replyTimeout
    }

    public func set(_ settings: HostIPSettings) -> IPInjector.Outcome {
        let prefix = "SET_IP_INFO for \(settings.adapterID) answered"
        guard let request = IPHelperRequest(settings).encoded else {
            return IPInjector.Outcome(status: .invalidArgument, message: "\(prefix) HV_INVALIDARG: a field is too long or holds a NUL")
        }
        do throws(SystemCallError) {
            let reply = try exchange(request)
            return reply.outcome
        } catch {
            let what = switch (error.call, error.errno) {
            case ("connect", _), ("socket(AF_UNIX)", _): "is unreachable: \(error)"
            case (_, .resourceTemporarilyUnavailable): "did not answer within \(replyTimeout) (it may still apply the change)"
            default: "gave no answer (it may have applied the change): \(error)"
            }
            return IPInjector.Outcome(status: .fail, message: "\(prefix) HV_E_FAIL: the IP helper at \(socketPath) \(what)")
        }
    }

    private func exchange(_ request: [UInt8]) throws(SystemCallError) -> IPHelperReply {
        let fd = try HelperSocket.connect(path: socketPath, timeout: replyTimeout)
        defer { close(fd) }
        let bytes = try HelperSocket.exchange(request, on: fd, capacity: IPHelperReply.maximumSize + 1, path: socketPath,
                                              sendCall: "send", receiveCall: "receive the answer")
        guard let reply = IPHelperReply(bytes) else {
            throw SystemCallError(call: "malformed answer (\(bytes.count) bytes)", path: socketPath, errno: .ioError)
        }
        return reply
    }
}
