import HVProtocol
import ICFramework

/// An IC channel whose service answers some requests later: the service's ``ICHandled/action``
/// marks a request whose reply is held (its framed reply is built at once, with a placeholder
/// status) until `start`'s completion gives the status — a VSS FREEZE waiting for its ioctls, a KVP
/// SET_IP_INFO waiting for the network to show the host's addresses. The loop keeps serving the
/// channel meanwhile (ICChannelHandler's held replies). A NEGOTIATE or the channel's loss drops
/// what is outstanding: those transactions are not answered, and `abandon` tells the service why
/// (always when the channel closes: a service may hold state beyond a reply, VSS its frozen
/// filesystems).
public final class HeldReplyChannelHandler<Service: ICService>: ICChannelHandler {
    public let service: ICServiceID
    private var endpoint: ICEndpoint<Service>
    private let events: ServiceEvents
    private let start: (Service.Action, @escaping (HResult) -> Void) -> Void
    private let abandon: (String) -> Void
    private var held = false
    private var finished: [[UInt8]?] = []
    private var outstanding = 0
    /// Bumped by a NEGOTIATE or the channel's loss: a completion for an older generation is not sent.
    private var generation = 0

    /// - Parameters:
    ///   - start: begins the work for a held request; calls its argument once, on the loop thread,
    ///     with the status for the host.
    ///   - abandon: outstanding work will not be answered any more (the host negotiated again while
    ///     some was outstanding), or the channel closed.
    public init(_ service: Service, events: ServiceEvents,
                start: @escaping (Service.Action, @escaping (HResult) -> Void) -> Void,
                abandon: @escaping (String) -> Void = { _ in }) {
        self.service = events.service
        endpoint = ICEndpoint(service: service)
        self.events = events
        self.start = start
        self.abandon = abandon
    }

    public var replyHeld: Bool { held }

    public func handle(_ payload: UnsafeRawBufferPointer) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?) {
        held = false
        let outcome = endpoint.process(payload)
        events.emit(.packet(service, outcome.event))
        switch outcome.event {
        case .negotiated, .negotiationFailed: forgetOutstanding("host negotiated again")
        default: break
        }
        guard let work = outcome.action, var reply = outcome.reply else { return (outcome.reply, nil) }
        held = true
        outstanding += 1
        let generation = self.generation
        start(work) { [weak self] status in
            guard let self, self.generation == generation else { return }
            // The framed reply with the work's status at P+20 (docs/PROTOCOL.md §5.2).
            _ = LittleEndian.store(status.rawValue, into: &reply, at: 20)
            self.outstanding -= 1
            self.finished.append(reply)
        }
        return (nil, nil)
    }

    public func takeLateReplies() -> [[UInt8]?] {
        defer { finished.removeAll() }
        return finished
    }

    public func channelClosed() {
        forgetOutstanding()
        abandon("channel closed")
    }

    private func forgetOutstanding(_ reason: String) {
        guard outstanding > 0 else { return }
        forgetOutstanding()
        abandon(reason)
    }

    private func forgetOutstanding() {
        generation += 1
        finished += [[UInt8]?](repeating: nil, count: outstanding)
        outstanding = 0
    }
}
