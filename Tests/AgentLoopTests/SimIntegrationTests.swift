import AgentCore
import TestSupport
import Heartbeat
import Foundation
import HostSimulator
import ICFramework
import ShutdownSvc
import Testing
import Timesync
import HVSystem
import HVProtocol

/// The agent against the simulated host over real simulated channels (memfd rings + eventfds).
@Suite(.serialized) struct SimIntegrationTests {
    @Test func everyServiceNegotiatesItsNewestVersion() throws {
        let harness = try SimHarness()
        defer { harness.stop() }
        #expect(try harness.start())
        #expect(harness.host.negotiated[.heartbeat] == NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 0)))
        #expect(harness.host.negotiated[.shutdown] == NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 2)))
        #expect(harness.host.negotiated[.timesync] == NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(4, 0)))
        // KVP is offered but this agent has no KVP engine configured: it is ignored, not opened.
        #expect(harness.host.negotiated[.kvp] == nil)
        #expect(harness.host.protocolErrors.isEmpty)
    }

    @Test func noMatchListsFailNegotiationAndStopTheService() throws {
        let harness = try SimHarness(configure: {
            $0.offers[.heartbeat] = .noServiceMatch
            $0.offers[.timesync] = .noFrameworkMatch
        })
        defer { harness.stop() }
        #expect(try harness.start())
        #expect(harness.host.negotiationFailures[.heartbeat] == 1)
        #expect(harness.host.negotiationFailures[.timesync] == 1)
        #expect(harness.host.negotiated[.shutdown] != nil)
        // Nothing more is sent on a failed channel.
        try harness.host.run(timeout: 0.3)
        #expect(harness.host.heartbeatsOK == 0)
        #expect(harness.host.timesyncReplies == 0)
    }

    @Test func rescindAndReofferRenegotiates() throws {
        let harness = try SimHarness()
        defer { harness.stop() }
        #expect(try harness.start())
        #expect(try harness.host.run(timeout: 5) { harness.host.timesyncReplies >= 2 })
        try harness.host.rescind(.timesync)
        // The re-offered channel comes from an older host: v3 this time.
        harness.host.configuration.offers[.timesync] = .timesyncV3
        try harness.host.offer(.timesync)
        #expect(try harness.host.run(timeout: 5) { harness.host.negotiationCount[.timesync] == 2 })
        #expect(harness.host.negotiated[.timesync]?.service == ICVersion(3, 0))
        let before = harness.host.timesyncReplies
        #expect(try harness.host.run(timeout: 5) { harness.host.timesyncReplies >= before + 2 })
        #expect(harness.host.protocolErrors.isEmpty)
    }

    @Test func thousandHeartbeatsNoLossNoDuplicates() throws {
        let harness = try SimHarness(configure: { $0.heartbeatInterval = 0; $0.services = [.heartbeat] })
        defer { harness.stop() }
        try harness.host.offerAll()
        #expect(try harness.host.run(timeout: 30) { harness.host.heartbeatsOK >= 1000 })
        #expect(harness.host.heartbeatFailures.isEmpty)
        #expect(harness.host.protocolErrors.isEmpty)
        let sequences = harness.recorder.events.compactMap { event -> UInt64? in
            if case .activity(_, let answered as HeartbeatAnswered) = event { return answered.sequence }
            return nil
        }
        #expect(Array(sequences.prefix(1000)) == Array(1...1000).map(UInt64.init))
    }

    @Test func everyShutdownFlagGetsTheExactStatusAndActsAfterTheReplyIsConsumed() throws {
        let harness = try SimHarness(configure: { $0.services = [.shutdown] })
        defer { harness.stop() }
        try harness.host.offerAll()
        #expect(try harness.host.run(timeout: 5) { harness.host.isReady(.shutdown) })
        let flags: [UInt32] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x8000_0000]
        for (index, value) in flags.enumerated() {
            try harness.host.requestShutdown(flags: value, reason: 0x8000_0000, timeoutSeconds: 30, message: "test \(value)")
            #expect(try harness.host.run(timeout: 5) { harness.host.shutdownStatuses.count == index + 1 })
        }
        // Hibernate (4, 5) is refused: a uio-bound device blocks hibernation.
        #expect(harness.host.shutdownStatuses == [.ok, .ok, .ok, .ok, .fail, .fail, .fail, .fail, .fail, .fail])
        #expect(try harness.host.run(timeout: 5) { harness.performer.requests.count == 4 })
        #expect(harness.performer.requests.map(\.kind) == [.powerOff, .powerOff, .reboot, .reboot])
        #expect(harness.performer.requests.map(\.message) == ["test 0", "test 1", "test 2", "test 3"])
        let started = harness.recorder.events.compactMap { event -> Bool? in
            if case .activity(_, let started as ShutdownStarted) = event { return started.replyConsumed }
            return nil
        }
        #expect(started == [true, true, true, true])
    }

    @Test func hibernateAcceptedWhenSupportedAndNoUIODevice() throws {
        struct CanHibernate: HibernationSupport {
            var systemCanHibernate: Bool { true }
            var deviceBoundToUIO: Bool { false }
        }
        let harness = try SimHarness(configure: { $0.services = [.shutdown] }, hibernation: CanHibernate())
        defer { harness.stop() }
        try harness.host.offerAll()
        #expect(try harness.host.run(timeout: 5) { harness.host.isReady(.shutdown) })
        try harness.host.requestShutdown(flags: 5)
        #expect(try harness.host.run(timeout: 5) { harness.performer.requests.count == 1 })
        #expect(harness.host.shutdownStatuses == [.ok])
        #expect(harness.performer.requests.first?.kind == .hibernate)
    }

    @Test func timesyncStepsOnSyncThenStepsImplicitlyAfterResume() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: -3_000_000_000, driftPPM: 50)
        let harness = try SimHarness(configure: { $0.services = [.timesync]; $0.timeSource = source }, clock: clock)
        defer { harness.stop() }
        try harness.host.offerAll()
        #expect(try harness.host.run(timeout: 5) { harness.host.timesyncReplies >= 1 })
        #expect(try harness.host.run(timeout: 5) { clock.steps.count == 1 })
        #expect(abs(clock.steps[0] - 3_000_000_000) < 1_000)
        #expect(abs(clock.errorNanoseconds()) < 1_000)
        // The VM is paused for 90 s and resumed without a SYNC: the next SAMPLE steps.
        source.advance(byNanoseconds: 90_000_000_000)
        clock.didSuspend(forNanoseconds: 90_000_000_000)
        #expect(try harness.host.run(timeout: 5) { clock.steps.count == 2 })
        #expect(abs(clock.steps[1] - 90_000_000_000) < 1_000)
        let reasons = harness.recorder.events.compactMap { event -> TimesyncAction.StepReason? in
            if case .activity(_, let sample as TimesyncSample) = event, case .step(_, let reason)? = sample.action { return reason }
            return nil
        }
        #expect(reasons == [.sync, .behind])
    }

    @Test func exchangeLogIsJSONLines() throws {
        let pipe = Pipe()
        let log = ExchangeLog(output: pipe.fileHandleForWriting.fileDescriptor)
        log.record(channel: "heartbeat", event: "reply", type: "heartbeat", status: "S_OK", detail: "seq 1 -> 2")
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let record = try JSONDecoder().decode(ExchangeRecord.self, from: Data(lines[0].utf8))
        #expect(record.detail == "seq 1 -> 2")
        #expect(record.status == "S_OK")
    }
}
