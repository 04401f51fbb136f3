import AgentCore
import TestSupport
import Heartbeat
import Foundation
import HostSimulator
import ICFramework
import Testing

/// A hostile host must not be able to flood the log: refused packets are logged once per kind
/// per interval, with the number suppressed in between.
@Suite struct RefusalLogTests {
    final class FakeTime: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_000_000)
    }

    static let badPipe = AgentEvent.packet(.shutdown, .dropped(.badPipeSize(declared: 0xFFFF_FFFF, available: 24)))
    static let shortPacket = AgentEvent.packet(.shutdown, .dropped(.shorterThanHeaders(length: 3)))

    @Test func oncePerKindPerIntervalWithSuppressedCount() {
        let time = FakeTime()
        let limiter = RefusalLogLimiter(interval: 60, now: { time.now })
        let describe: (AgentEvent) -> String? = { Timeline.describe($0) }
        #expect(limiter.line(for: Self.badPipe, describe: describe) != nil)
        for _ in 0..<999 { #expect(limiter.line(for: Self.badPipe, describe: describe) == nil) }
        // Another kind, and the same kind on another service, have their own budget.
        #expect(limiter.line(for: Self.shortPacket, describe: describe) != nil)
        #expect(limiter.line(for: .packet(.heartbeat, .dropped(.badPipeSize(declared: 1, available: 0))), describe: describe) != nil)
        // Non-refusals are never limited.
        for _ in 0..<10 { #expect(limiter.line(for: .activity(.heartbeat, HeartbeatAnswered(sequence: 1)), describe: describe) != nil) }
        time.now += 61
        let line = limiter.line(for: Self.badPipe, describe: describe)
        #expect(line?.hasSuffix("(999 more of this kind suppressed in the last 60 s)") == true)
        #expect(limiter.line(for: Self.badPipe, describe: describe) == nil)
        // Free-form host-triggered lines (the KVP daemon's) share the mechanism, keyed by the line.
        let kvp = "KVP set pool 1: /var/lib/hyperv/.kvp_pool_1 was opened read-only"
        #expect(limiter.line(kind: kvp, text: kvp) == kvp)
        for _ in 0..<5 { #expect(limiter.line(kind: kvp, text: kvp) == nil) }
        time.now += 61
        #expect(limiter.line(kind: kvp, text: kvp) == kvp + " (5 more of this kind suppressed in the last 60 s)")
    }

    /// End to end: 1000 packets with a lying pipe size from the host produce 1000 dropped
    /// events (all counted) but one log line.
    @Test func floodOfBadPacketsLogsOneLine() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let base = harness.packetEvents("shutdown").count
        let bad = HostileChannel.message(type: .shutdown, pipeSize: 0xFFFF_FFFF, body: [0, 0, 0, 0])
        var sent = 0
        while sent < 1000 {
            if try channel.sendIfRoom(bad) { sent += 1 } else { try harness.host.pump(timeoutMilliseconds: 1) }
        }
        #expect(try harness.wait { harness.packetEvents("shutdown").count - base == 1000 })
        let limiter = RefusalLogLimiter()
        let lines = harness.recorder.events.compactMap { limiter.line(for: $0, describe: Timeline.describe) }
            .filter { $0.contains("dropped malformed packet") }
        #expect(lines.count == 1)
        try harness.expectStillServing()
    }
}

/// The daemon's line format lives in the hvagent executable; this is the same mapping for the
/// events the limiter is about, so the test does not depend on the executable target.
enum Timeline {
    static func describe(_ event: AgentEvent) -> String? {
        switch event {
        case .packet(let service, .dropped(let error)): "\(service): dropped malformed packet (\(error))"
        case .packet(let service, .unknownType(let type)): "\(service): unknown message \(type), answered E_FAIL"
        case .activity(let service, let activity): "\(service): \(activity)"
        default: nil
        }
    }
}
