import AgentCore
import TestSupport
import Foundation
import HostSimulator
import ICFramework
import RingTransport
import SimTransport
import Testing
import Timesync
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// One corruption at a time on one channel of a running agent: the agent must not crash or spin,
/// must refuse the bad input (fail the channel for ring corruption, drop and count a bad IC
/// message), and must keep serving the other channels.
@Suite(.serialized) struct MaliciousHostTests {
    /// A message of a type the shutdown service does not know: answered E_FAIL, so every
    /// injected packet has a visible outcome.
    static func probe(body: Int = 8) -> [UInt8] {
        HostileChannel.message(type: ICMessageType(rawValue: 0x55), version: ICVersion(3, 2), body: [UInt8](repeating: 0xA5, count: body))
    }

    // MARK: Ring indices and descriptors

    struct RingCase: CustomTestStringConvertible, Sendable {
        var name: String
        /// The error the channel must be closed with (a fragment of its description).
        var expected: String
        var attack: @Sendable (HostileChannel) throws -> Void
        var testDescription: String { name }
    }

    static let ringCases: [RingCase] = [
        .init(name: "write_index past the ring", expected: "writeIndex") { try $0.setWriteIndex($0.guestInbound.dataSize + 8) },
        .init(name: "write_index unaligned", expected: "writeIndex") { try $0.setWriteIndex($0.channel.outbound.nextPacketOffset + 4) },
        .init(name: "write_index 0xFFFFFFF8", expected: "writeIndex") { try $0.setWriteIndex(0xFFFF_FFF8) },
        // The bytes at the read position were never written (zero), so the descriptor check fires
        // first; the exact backwards check (unread span shrinking) is MalformedRingTests' job.
        .init(name: "write_index moved backwards behind read_index", expected: "offsetTooSmall") { channel in
            try channel.send(probe())  // consumed by the agent first
            let deadline = Date().addingTimeInterval(2)
            while channel.guestReadIndex != channel.channel.outbound.nextPacketOffset && Date() < deadline { usleep(1000) }
            try channel.setWriteIndex(channel.guestReadIndex &- 8)
        },
        .init(name: "offset8 < 2", expected: "offsetTooSmall") { try $0.forgeDescriptor(offset8: 1, length8: 4, published: 40) },
        .init(name: "len8 < offset8", expected: "lengthBeforeOffset") { try $0.forgeDescriptor(offset8: 4, length8: 3, published: 40) },
        .init(name: "len8 beyond the published bytes", expected: "lengthBeyondAvailable") { try $0.forgeDescriptor(offset8: 2, length8: 5, published: 40) },
        .init(name: "len8 larger than the ring", expected: "lengthBeyondAvailable") { try $0.forgeDescriptor(offset8: 2, length8: 0xFFFF, published: 40) },
        .init(name: "unknown descriptor flags", expected: "unknownFlags") { try $0.forgeDescriptor(offset8: 2, length8: 4, flags: 0x8000, published: 40) },
        .init(name: "fewer than 24 bytes published", expected: "truncated") { try $0.forgeDescriptor(offset8: 2, length8: 2, published: 16) },
        .init(name: "guest TX read_index unaligned", expected: "readIndex") { channel in
            channel.setGuestOutboundReadIndex(5)
            try channel.send(probe())  // the agent's reply makes its writer look at read_index
        },
        .init(name: "guest TX read_index past the ring", expected: "readIndex") { channel in
            channel.setGuestOutboundReadIndex(channel.guestOutbound.dataSize)
            try channel.send(probe())
        },
    ]

    @Test(arguments: ringCases, [ICServiceID.shutdown, .heartbeat])
    func ringCorruptionFailsOnlyThatChannel(_ ringCase: RingCase, victim: ICServiceID) throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(victim))
        try ringCase.attack(channel)
        #expect(try harness.wait { harness.closeReason(victim.rawValue) != nil }, "channel not failed")
        let reason = harness.closeReason(victim.rawValue) ?? ""
        #expect(reason.hasPrefix("ring error") && reason.contains(ringCase.expected), "closed for \(reason)")
        print("malicious host, \(ringCase.name) on \(victim.rawValue): channel closed (\(reason))")
        // The agent told the host it dropped the channel, and the host is not answered on it again.
        try channel.signal(times: 10)
        try harness.expectStillServing(witness: victim == .heartbeat ? .timesync : .heartbeat)
        #expect(harness.performer.requests.isEmpty)
    }

    /// The host never reads the replies: the agent's outbound ring fills, the agent waits at most
    /// 1 s for room (sleeping, not polling), then fails that channel; the others resume.
    @Test func hostThatNeverConsumesRepliesCostsOneChannel() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let cpuBefore = harness.agentCPUNanoseconds
        var sent = 0
        while harness.closeReason("shutdown") == nil && sent < 2000 {
            if try channel.sendIfRoom(Self.probe(body: 200)) { sent += 1 } else { try harness.host.pump(timeoutMilliseconds: 5) }
        }
        #expect(try harness.wait { harness.closeReason("shutdown") != nil })
        let cpu = harness.agentCPUNanoseconds - cpuBefore
        #expect(harness.closeReason("shutdown")?.contains("outbound ring stayed full") == true)
        #expect(cpu < 300_000_000, "agent used \(cpu / 1_000_000) ms while blocked on a full ring")
        try harness.expectStillServing()
    }

    // MARK: IC headers that lie

    struct ICCase: CustomTestStringConvertible, Sendable {
        var name: String
        var payload: [UInt8]
        /// nil: must be dropped (not answered); else the reply's pipe + IC header size + body length.
        var replyBody: Int?
        var testDescription: String { name }
    }

    static let icCases: [ICCase] = [
        .init(name: "pipe size 0xFFFFFFFF", payload: HostileChannel.message(type: .shutdown, pipeSize: 0xFFFF_FFFF, body: [0, 0, 0, 0]), replyBody: nil),
        .init(name: "pipe size past the packet", payload: HostileChannel.message(type: .shutdown, pipeSize: 200, body: [0, 0, 0, 0]), replyBody: nil),
        .init(name: "pipe size below an IC header", payload: HostileChannel.message(type: .shutdown, pipeSize: 4, body: [0, 0, 0, 0]), replyBody: nil),
        .init(name: "pipe type not DATA", payload: HostileChannel.message(type: .shutdown, pipeType: 2, body: [0, 0, 0, 0]), replyBody: nil),
        .init(name: "shorter than the headers", payload: [1, 0, 0, 0, 20, 0, 0, 0, 3, 0], replyBody: nil),
        .init(name: "shutdown body shorter than its type needs",
              payload: HostileChannel.message(type: .shutdown, version: ICVersion(3, 2), body: [1, 2]), replyBody: nil),
        .init(name: "unknown message type 0xFFFF", payload: HostileChannel.message(type: ICMessageType(rawValue: 0xFFFF), body: [1, 2, 3, 4]), replyBody: 4),
        .init(name: "icmsgsize claims 65535 bytes",
              payload: HostileChannel.message(type: ICMessageType(rawValue: 0x55), icMessageSize: 0xFFFF, body: [1, 2, 3, 4]), replyBody: 4),
        .init(name: "flags say RESPONSE (no REQUEST)",
              payload: HostileChannel.message(type: ICMessageType(rawValue: 0x55), flags: .guestResponse, body: [1, 2, 3, 4]), replyBody: 4),
        .init(name: "flags 0xFF", payload: HostileChannel.message(type: ICMessageType(rawValue: 0x55), flags: ICFlags(rawValue: 0xFF), body: []), replyBody: 0),
        .init(name: "NEGOTIATE counts 65535/65535, no versions", payload: HostileChannel.negotiate(frameworkCount: 0xFFFF, serviceCount: 0xFFFF, presentVersions: 0), replyBody: 8),
        .init(name: "NEGOTIATE counts 100/100, 10 versions present", payload: HostileChannel.negotiate(frameworkCount: 100, serviceCount: 100, presentVersions: 10), replyBody: 48),
        .init(name: "NEGOTIATE 3000 versions present (over the 100 limit)",
              payload: HostileChannel.negotiate(frameworkCount: 1500, serviceCount: 1500, presentVersions: 3000), replyBody: 8 + 4 * 3000),
        .init(name: "NEGOTIATE counts only (4 bytes)", payload: HostileChannel.message(type: .negotiate, body: [0xFF, 0xFF, 0xFF, 0xFF]), replyBody: 4),
        .init(name: "NEGOTIATE 2 bytes", payload: HostileChannel.message(type: .negotiate, body: [0xFF, 0xFF]), replyBody: nil),
    ]

    @Test(arguments: icCases)
    func lyingICHeaderIsRefusedOrAnsweredSafely(_ icCase: ICCase) throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let eventsBefore = harness.packetEvents("shutdown").count
        try channel.send(icCase.payload)
        #expect(try harness.wait { harness.packetEvents("shutdown").count > eventsBefore })
        let event = try #require(harness.packetEvents("shutdown").last)
        var replies = try channel.receiveReplies()
        if icCase.replyBody != nil && replies.isEmpty {
            try harness.wait { (try? channel.receiveReplies()).map { replies += $0; return !replies.isEmpty } ?? true }
        }
        if let body = icCase.replyBody {
            #expect(replies.count == 1)
            let reply = try #require(replies.first)
            let parsed = try ICRequest.parse(reply) { _ in 0 }
            #expect(parsed.header.flags == .guestResponse)
            #expect(parsed.body.count == body)
            switch event {
            case .unknownType, .negotiationFailed: break
            default: Issue.record("unexpected event \(event)")
            }
            if case .negotiationFailed = event {
                #expect(LittleEndian.u16(parsed.body, at: 0) == 0 && LittleEndian.u16(parsed.body, at: 2) == 0)
            }
        } else {
            #expect(replies.isEmpty, "a refused packet was answered")
            guard case .dropped = event else { Issue.record("not dropped: \(event)"); return }
        }
        #expect(harness.closeReason("shutdown") == nil, "an IC-level lie must not cost the channel")
        #expect(harness.performer.requests.isEmpty, "no shutdown from a malformed message")
        try harness.expectStillServing()
        // The channel itself still works: a proper NEGOTIATE is answered.
        try channel.send(ICRequest.host(type: .negotiate, framework: ICVersion(0, 0), version: ICVersion(0, 0), body: {
            var body: [UInt8] = []
            NegotiateBody(frameworkVersions: [ICVersion(3, 0)], serviceVersions: [ICVersion(3, 2)]).encode(into: &body)
            return body
        }()).encoded())
        #expect(try harness.wait { if case .negotiated = harness.packetEvents("shutdown").last { true } else { false } })
    }

    // MARK: Signals and data

    @Test func signalsWithoutDataAreAbsorbed() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let base = harness.packetEvents("shutdown").count
        let cpuBefore = harness.agentCPUNanoseconds
        try channel.signal(times: 100_000)
        try harness.expectStillServing()
        let cpu = harness.agentCPUNanoseconds - cpuBefore
        #expect(cpu < 200_000_000, "100000 empty signals cost \(cpu / 1_000_000) ms")
        #expect(harness.packetEvents("shutdown").count == base)
        #expect(harness.closeReason("shutdown") == nil)
        // Still answers on that channel.
        try channel.send(Self.probe())
        #expect(try harness.wait { harness.packetEvents("shutdown").count == base + 1 })
    }

    @Test func dataWithoutSignalWaitsForTheNextSignalWithoutPolling() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let base = harness.packetEvents("shutdown").count
        try channel.send(Self.probe(), signal: false)
        // The agent sleeps: nothing is read and the other channels cost next to nothing.
        try harness.expectStillServing()
        #expect(harness.packetEvents("shutdown").count == base)
        try channel.signal(times: 1)
        #expect(try harness.wait { harness.packetEvents("shutdown").count == base + 1 })
    }

    @Test func hugeBurstIsServedInFull() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let base = harness.packetEvents("shutdown").count
        let total = 5000
        var sent = 0
        var replies = 0
        let deadline = Date().addingTimeInterval(10)
        while replies < total && Date() < deadline {
            while sent < total {
                guard try channel.sendIfRoom(Self.probe(), signal: false) else { break }
                sent += 1
            }
            try channel.channel.flush()
            replies += try channel.receiveReplies().count
            try harness.host.pump(timeoutMilliseconds: 1)
        }
        #expect(replies == total)
        #expect(harness.packetEvents("shutdown").count - base == total)
        #expect(harness.closeReason("shutdown") == nil)
        try harness.expectStillServing()
    }

    /// The host keeps rewriting a packet's payload (pipe size, IC flags and type bytes) while the
    /// agent reads it. The agent decides on its private copy, so each packet gets exactly one
    /// consistent outcome (answered or dropped) and the channel survives.
    @Test func packetRewrittenWhileTheAgentReadsIt() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let channel = try #require(harness.host.takeOver(.shutdown))
        let base = harness.packetEvents("shutdown").count
        let rounds = 200
        var answered = 0
        for round in 0..<rounds {
            let start = try channel.send(Self.probe(body: 64))
            var flip: UInt8 = 0
            let deadline = Date().addingTimeInterval(1)
            while channel.guestReadIndex == start && Date() < deadline {
                flip &+= 1
                // pipe messageSize (payload +4), IC type low byte (payload +12), IC flags (payload +25).
                channel.overwritePayload(ofPacketAt: start, offset: 4, with: flip & 1 == 0 ? [0xFF, 0xFF, 0, 0] : [84, 0, 0, 0])
                channel.overwritePayload(ofPacketAt: start, offset: 12, with: [flip & 2 == 0 ? 0x55 : 0x56])
                channel.overwritePayload(ofPacketAt: start, offset: 25, with: [flip])
            }
            answered += try channel.receiveReplies().count
            if round % 20 == 0 { try harness.host.pump(timeoutMilliseconds: 0) }
        }
        #expect(try harness.wait { harness.packetEvents("shutdown").count - base == rounds })
        answered += try channel.receiveReplies().count
        let events = harness.packetEvents("shutdown").dropFirst(base)
        let dropped = events.filter { if case .dropped = $0 { true } else { false } }.count
        #expect(answered + dropped == rounds, "answered \(answered) + dropped \(dropped) != \(rounds)")
        #expect(harness.closeReason("shutdown") == nil)
        #expect(harness.performer.requests.isEmpty)
        try harness.expectStillServing()
    }
}
