import AgentCore
import HVProtocol
import ICFramework

/// One VSS channel over hvagent's ring (uio mode): ``VSSICService`` through the shared framing,
/// with FREEZE and THAW replies held until the coordinator's work is done (ICChannelHandler's
/// held replies). A NEGOTIATE or the channel's loss thaws (docs/PROTOCOL.md §6.5.7 step 8).
public final class VSSChannelHandler: ICChannelHandler {
    public let service = ICServiceID.vss
    private var endpoint: ICEndpoint<VSSICService>
    private let coordinator: VSSCoordinator
    private let events: ServiceEvents
    private var held = false
    /// Replies finished, waiting for the loop to send them.
    private var finished: [[UInt8]?] = []
    /// Held requests not answered yet.
    private var outstanding = 0
    /// Bumped by a NEGOTIATE or the channel's loss: an answer for an older generation is not sent.
    private var generation = 0

    public init(coordinator: VSSCoordinator, events: ServiceEvents, note: @escaping (String) -> Void) {
        self.coordinator = coordinator
        self.events = events
        // The closures reach the coordinator and this handler; set after init through a box.
        let box = Box()
        endpoint = ICEndpoint(service: VSSICService(
            ready: { coordinator.readyForBackup }, note: note,
            renegotiated: { box.handler?.renegotiated() }))
        box.handler = self
    }

    public var replyHeld: Bool { held }

    public func handle(_ payload: [UInt8]) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?) {
        held = false
        let outcome = endpoint.process(payload)
        events.emit(.packet(service, outcome.event))
        guard let work = outcome.action, var reply = outcome.reply else { return (outcome.reply, nil) }
        held = true
        outstanding += 1
        let generation = self.generation
        let answer: (HResult) -> Void = { [weak self] status in
            guard let self, self.generation == generation else { return }
            // The reply the framing built, with the work's status at P+20 (docs/PROTOCOL.md §5.2).
            _ = LittleEndian.store(status.rawValue, into: &reply, at: 20)
            self.outstanding -= 1
            self.finished.append(reply)
        }
        switch work {
        case .freeze: coordinator.freeze(reply: answer)
        case .thaw: coordinator.thaw(reply: answer)
        }
        return (nil, nil)
    }

    public func takeLateReplies() -> [[UInt8]?] {
        defer { finished.removeAll() }
        return finished
    }

    public func channelClosed() {
        forgetOutstanding()
        coordinator.abandon(reason: "channel closed")
    }

    private func renegotiated() {
        forgetOutstanding()
        coordinator.abandon(reason: "host negotiated again")
    }

    /// Answers for earlier requests are not sent any more; the loop forgets their transactions.
    private func forgetOutstanding() {
        generation += 1
        finished += [[UInt8]?](repeating: nil, count: outstanding)
        outstanding = 0
    }

    private final class Box {
        weak var handler: VSSChannelHandler?
    }
}
