import AgentCore
import HVProtocol
import ICFramework

/// The shutdown service's entry in the daemon's service table: the reply goes first, the action
/// runs once the host consumed it (docs/PROTOCOL.md §8 Q1). Kernel mode needs nothing from the
/// agent (hv_utils shuts down itself).
public final class ShutdownAgentService: AgentService {
    public let id = ICServiceID.shutdown
    public let performer: any ShutdownPerformer
    public let hibernation: any HibernationSupport

    public init(performer: any ShutdownPerformer, hibernation: any HibernationSupport = SysfsHibernationSupport()) {
        self.performer = performer
        self.hibernation = hibernation
    }

    public func channelHandler(events: ServiceEvents) -> any ICChannelHandler {
        let performer = self.performer
        return ServiceChannelHandler(ShutdownService(hibernation: hibernation), events: events, perform: { request in
            { consumed in
                events.activity(ShutdownStarted(request: request, replyConsumed: consumed))
                do { try performer.perform(request) } catch { events.failed("\(error)") }
            }
        })
    }
}

/// A shutdown the host asked for, started after its reply was consumed (or the wait timed out).
public struct ShutdownStarted: ServiceActivity, Hashable {
    public var request: ShutdownRequest
    public var replyConsumed: Bool

    public init(request: ShutdownRequest, replyConsumed: Bool) {
        self.request = request
        self.replyConsumed = replyConsumed
    }

    public var description: String {
        "\(request.kind.rawValue) (reason 0x\(String(request.reasonCode, radix: 16)), timeout \(request.timeoutSeconds) s, "
            + "message \"\(request.message)\"); reply \(replyConsumed ? "consumed by the host" : "not consumed within 1 s")"
    }
}
