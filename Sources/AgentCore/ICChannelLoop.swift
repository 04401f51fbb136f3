import FoundationEssentials
import ICFramework
import RingTransport

/// Drives one IC channel: drain the batch, handle each packet, reply, flush, re-arm; and run
/// deferred actions once the host consumed our replies (docs/PROTOCOL.md §3.8, §8 Q1, Q17, Q18).
final class ICChannelLoop {
    let channel: VMBusChannel
    let handler: any ICChannelHandler
    /// How long an action waits for the host to consume the reply before it runs anyway.
    let consumeTimeout: TimeInterval
    /// Deadlines on a monotonic clock: timesync may step the wall clock while an action waits.
    // `@exclusivity(unchecked)`: read at every wake-up, only on the loop's thread (each dynamic
    // check was ~80 instructions; docs/PERFORMANCE.md, "Where the round trip goes").
    @exclusivity(unchecked) private var pending: [(deadline: ContinuousClock.Instant, run: (Bool) -> Void)] = []
    /// Transaction ids of requests whose reply the handler holds, oldest first.
    @exclusivity(unchecked) private var heldTransactions: [UInt64] = []
    /// Packets that were not in-band data (ignored).
    @exclusivity(unchecked) private(set) var ignoredPackets = 0

    /// The channel's masked poll is turned off: an IC host sends its next request only after it
    /// read our reply (one transaction at a time, docs/PROTOCOL.md §5.3), so nothing can arrive
    /// while the reader polls the ring after a batch. The poll was ~1,600 instructions per
    /// request, all of it after the reply and none of it useful (docs/PERFORMANCE.md,
    /// "Integration services").
    init(channel: VMBusChannel, handler: any ICChannelHandler, consumeTimeout: TimeInterval = 1.0) {
        channel.idleSpin = 0
        self.channel = channel
        self.handler = handler
        self.consumeTimeout = consumeTimeout
    }

    var hasPendingActions: Bool { !pending.isEmpty }

    /// Handles everything waiting, until the ring is empty after re-arming.
    func drain() throws {
        repeat {
            try channel.receiveBatch { descriptor, payload in
                guard descriptor.type == PacketType.dataInBand else {
                    ignoredPackets += 1
                    return
                }
                let (reply, deferred) = handler.handle(payload)
                if let reply {
                    try send(reply, transactionID: descriptor.transactionID)
                } else if handler.replyHeld {
                    heldTransactions.append(descriptor.transactionID)
                }
                if let deferred { pending.append((ContinuousClock.now.advanced(by: .seconds(consumeTimeout)), deferred)) }
            }
        } while try channel.finishBatch()
    }

    /// Sends the replies the handler finished since the last wake-up, with the transaction ids
    /// their requests came with, and signals the host.
    func sendLateReplies() throws {
        let replies = handler.takeLateReplies()
        guard !replies.isEmpty else { return }
        for reply in replies {
            guard !heldTransactions.isEmpty else { break }  // a handler bug must not invent a transaction
            let transactionID = heldTransactions.removeFirst()
            if let reply { try send(reply, transactionID: transactionID) }
        }
        try channel.flush()
    }

    private func send(_ reply: [UInt8], transactionID: UInt64) throws {
        let sent = try reply.withUnsafeBytes { raw throws(ChannelError) in
            try channel.send(raw, type: PacketType.dataInBand, flags: 0, transactionID: transactionID, waitingUpTo: 1000)
        }
        if !sent { throw ChannelError.invalidConfiguration("outbound ring stayed full for 1 s") }
    }

    /// Runs deferred actions whose reply was consumed (or whose wait timed out).
    /// - Returns: whether each ran with its reply consumed, in order.
    /// - Parameter now: the time to compare deadlines with; nil reads the clock, only when an
    ///   action waits (this runs after every wake-up).
    @discardableResult
    func runDueActions(now: ContinuousClock.Instant? = nil) -> [Bool] {
        guard !pending.isEmpty else { return [] }
        let now = now ?? .now
        let drained = channel.outboundDrained
        var results: [Bool] = []
        while let first = pending.first, drained || first.deadline <= now {
            pending.removeFirst()
            first.run(drained)
            results.append(drained)
        }
        return results
    }
}
