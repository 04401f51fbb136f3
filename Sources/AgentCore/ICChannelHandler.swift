import HVProtocol
import ICFramework

/// One IC channel's message handling, independent of the service type, so the event loop can
/// hold heterogeneous channels.
public protocol ICChannelHandler: AnyObject {
    var service: ICServiceID { get }
    /// Handles one payload: the reply to send (if any), and work to run once the host consumed
    /// the reply (`true`) or the wait for it timed out (`false`).
    ///
    /// `payload` is the channel's private copy of the packet (never the shared ring), valid only
    /// during the call: decoded in place, not copied into an array first (docs/PERFORMANCE.md,
    /// "Where the round trip goes").
    func handle(_ payload: UnsafeRawBufferPointer) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?)

    /// Whether the request `handle` just returned no reply for will be answered later (a VSS
    /// FREEZE waiting for its hooks and ioctls off the loop): the loop keeps its transaction id.
    var replyHeld: Bool { get }

    /// Replies finished since the last call, for held requests in the order they were held; nil
    /// for a held request that will never be answered (the host negotiated again), so the loop
    /// forgets its transaction id. The loop asks after every wake-up.
    func takeLateReplies() -> [[UInt8]?]

    /// The channel is gone (closed, rescinded, failed): a held reply will never be sent, and a
    /// service that must undo something (VSS thaws) does it now.
    func channelClosed()
}

extension ICChannelHandler {
    public var replyHeld: Bool { false }
    public func takeLateReplies() -> [[UInt8]?] { [] }
    public func channelClosed() {}
}

/// Adapts an `ICEndpoint<Service>` (framing, negotiation, one ``ICService``) to ``ICChannelHandler``.
///
/// Not generic itself: the generic initializer is `@inlinable`, so the closure it builds, and
/// the `ICEndpoint.process` it calls, are compiled specialized in the service's own module (where
/// the service type is known). A generic handler class is dispatched through its generic witness
/// table, and every packet paid for runtime metadata look-ups and value-witness copies
/// (docs/PERFORMANCE.md, "Integration services").
public final class ServiceChannelHandler: ICChannelHandler {
    public let service: ICServiceID
    @usableFromInline let handlePayload: (UnsafeRawBufferPointer) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?)

    @usableFromInline
    init(service: ICServiceID, handlePayload: @escaping (UnsafeRawBufferPointer) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?)) {
        self.service = service
        self.handlePayload = handlePayload
    }

    /// - Parameters:
    ///   - perform: turns a handler's action into work deferred until the reply was consumed.
    ///   - observe: sees every outcome after the packet event was emitted (for activities).
    @inlinable
    public convenience init<Service: ICService>(
        _ service: Service, events: ServiceEvents,
        perform: @escaping (Service.Action) -> ((Bool) -> Void)? = { _ in nil },
        observe: @escaping (ICOutcome<Service.Action>, Service) -> Void = { _, _ in }
    ) {
        let box = EndpointBox(ICEndpoint(service: service))
        let id = events.service
        self.init(service: id) { payload in
            let outcome = box.endpoint.process(payload)
            events.emit(.packet(id, outcome.event))
            observe(outcome, box.endpoint.service)
            return (outcome.reply, outcome.action.flatMap(perform))
        }
    }

    public func handle(_ payload: UnsafeRawBufferPointer) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?) {
        handlePayload(payload)
    }
}

/// The endpoint a handler's closure owns. A class with an unchecked property instead of a
/// captured `var`: a captured variable is boxed with a dynamic exclusivity check on every access
/// (two per packet; docs/PERFORMANCE.md, "Where the round trip goes"), and only the loop's thread
/// ever calls the handler.
@usableFromInline
final class EndpointBox<Service: ICService> {
    @usableFromInline @exclusivity(unchecked) var endpoint: ICEndpoint<Service>

    @usableFromInline
    init(_ endpoint: ICEndpoint<Service>) {
        self.endpoint = endpoint
    }
}
