import FileCopy
import Heartbeat
import TestSupport
import HostSimulator
import SimScenarios
import ICFramework
import ShutdownSvc
import Testing
import VSS
import Timesync
import HVSystem
import HVProtocol


/// Host state machines against guest endpoints, without a transport.
@Suite struct HostStateMachineTests {
    @Test(arguments: [
        (ICServiceID.heartbeat, ICVersion(3, 0)), (.shutdown, ICVersion(3, 2)), (.timesync, ICVersion(4, 0)),
    ])
    func windowsOffersNegotiateNewestCommonVersion(kind: ICServiceID, expected: ICVersion) {
        var host = HostICChannel(kind: kind, offer: .windows(kind))
        let reply = guestProcess(kind, host.negotiateRequest())
        #expect(host.accept(reply) == .negotiated(NegotiatedVersions(framework: ICVersion(3, 0), service: expected)))
        #expect(host.state == .ready)
    }

    @Test(arguments: [HostVersionOffer.noServiceMatch, .noFrameworkMatch])
    func noMatchLeavesHostChannelFailed(offer: HostVersionOffer) throws {
        var host = HostICChannel(kind: .heartbeat, offer: offer)
        let reply = guestProcess(.heartbeat, host.negotiateRequest())
        #expect(host.accept(reply) == .negotiationFailed("no supported versions"))
        #expect(throws: HostChannelError.notReady) { try host.request(type: .heartbeat, body: [UInt8](repeating: 0, count: 16)) }
    }

    @Test func olderHostsGetOlderVersions() {
        var timesync = HostICChannel(kind: .timesync, offer: .timesyncV3)
        #expect(timesync.accept(guestProcess(.timesync, timesync.negotiateRequest()))
            == .negotiated(NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 0))))
        var old = HostICChannel(kind: .shutdown, offer: .ws2008)
        #expect(old.accept(guestProcess(.shutdown, old.negotiateRequest()))
            == .negotiated(NegotiatedVersions(framework: ICVersion(1, 0), service: ICVersion(1, 0))))
    }

    @Test func heartbeatThousandRounds() throws {
        var guest = ICEndpoint(service: HeartbeatService())
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = host.accept(guest.process(host.negotiateRequest()).reply ?? [])
        var logic = HeartbeatHostLogic(bodySize: 40)
        for round in 1...1000 {
            let request = try host.request(type: .heartbeat, body: logic.requestBody())
            guard case .response(let header, let body) = host.accept(guest.process(request).reply ?? []) else {
                Issue.record("round \(round): no response"); return
            }
            #expect(logic.check(status: header.status, body: body) == .ok(sequence: UInt64(round), applicationState: 0))
        }
        #expect(guest.counters.replied == 1001)
    }

    @Test func oneTransactionAtATimeAndStaleRepliesSkipped() throws {
        var guest = ICEndpoint(service: HeartbeatService())
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = host.accept(guest.process(host.negotiateRequest()).reply ?? [])
        var logic = HeartbeatHostLogic()
        let request = try host.request(type: .heartbeat, body: logic.requestBody())
        #expect(throws: HostChannelError.busy) { try host.request(type: .heartbeat, body: logic.requestBody()) }
        let staleReply = guest.process(request).reply ?? []
        // The host renegotiates before the reply arrives: the old reply is skipped.
        let negotiate = host.negotiateRequest()
        #expect(host.accept(staleReply) == .stale(.heartbeat))
        #expect(host.accept(guest.process(negotiate).reply ?? []) == .negotiated(NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 0))))
    }

    @Test func replyChecksRejectBadFlagsAndIds() throws {
        var guest = ICEndpoint(service: HeartbeatService())
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = host.accept(guest.process(host.negotiateRequest()).reply ?? [])
        var logic = HeartbeatHostLogic()
        var reply = guest.process(try host.request(type: .heartbeat, body: logic.requestBody())).reply ?? []
        reply[24] = 1  // transaction id
        guard case .protocolError = host.accept(reply) else { Issue.record("id not checked"); return }
        reply[24] = 0
        reply[25] = 0x01
        guard case .protocolError = host.accept(reply) else { Issue.record("flags not checked"); return }
    }

    @Test(arguments: Array(UInt32(0)...UInt32(9)))
    func shutdownStatusForEveryFlag(flags: UInt32) throws {
        var guest = ICEndpoint(service: ShutdownService(hibernation: NoHibernation()))
        var host = HostICChannel(kind: .shutdown, offer: .windows(.shutdown))
        _ = host.accept(guest.process(host.negotiateRequest()).reply ?? [])
        let outcome = guest.process(try host.request(type: .shutdown, body: ShutdownHostLogic.requestBody(flags: flags)))
        guard case .response(let header, _) = host.accept(outcome.reply ?? []) else { Issue.record("no response"); return }
        #expect(header.status == (flags <= 3 ? .ok : .fail))
        #expect((outcome.action != nil) == (flags <= 3))
    }

    @Test func timesyncHostSendsSyncThenSamplesWithSecretReference() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: -7_000_000_000)
        var guest = ICEndpoint(service: TimesyncService(mode: .discipline, clock: clock))
        var host = HostICChannel(kind: .timesync, offer: .windows(.timesync))
        guard case .negotiated(let versions) = host.accept(guest.process(host.negotiateRequest()).reply ?? []) else {
            Issue.record("negotiation"); return
        }
        var logic = TimesyncHostLogic(source: source)
        let first = logic.nextMessage(version: versions.service)
        #expect(first.flags == .sync)
        #expect(first.referenceTime == UInt64(source.monotonicNanoseconds() / 100) + logic.referenceOffsetTicks)
        let outcome = guest.process(try host.request(type: .timesync, body: first.body(version: versions.service)))
        guard case .step(let delta, .sync) = outcome.action else { Issue.record("no step"); return }
        #expect(delta == 7_000_000_000)
        guard case .response = host.accept(outcome.reply ?? []) else { Issue.record("no response"); return }
        #expect(logic.nextMessage(version: versions.service).flags == .sample)
    }
}

/// Runs one packet through a fresh guest endpoint of `kind`.
func guestProcess(_ kind: ICServiceID, _ payload: [UInt8]) -> [UInt8] {
    switch kind {
    case .heartbeat:
        var endpoint = ICEndpoint(service: HeartbeatService())
        return endpoint.process(payload).reply ?? []
    case .shutdown:
        var endpoint = ICEndpoint(service: ShutdownService(hibernation: NoHibernation()))
        return endpoint.process(payload).reply ?? []
    case .timesync:
        var endpoint = ICEndpoint(service: TimesyncService(mode: .off, clock: SimulatedClock(source: ManualTimeSource())))
        return endpoint.process(payload).reply ?? []
    case .kvp:
        return []
    case .fcopy:
        var endpoint = ICEndpoint(service: FileCopyICService(engine: FileCopyEngine()))
        return endpoint.process(payload).reply ?? []
    case .vss:
        var endpoint = ICEndpoint(service: VSSICService(ready: { true }))
        return endpoint.process(payload).reply ?? []
    }
}

/// The timesync discipline against the host logic in simulated time.
@Suite struct TimesyncConvergenceTests {
    /// 10 minutes of samples every 5 s, 100 ppm drift, heavy-tailed latency: the residual
    /// error over the last 5 minutes stays within 100 µs at p99.
    @Test(arguments: [ICVersion(3, 0), ICVersion(4, 0)])
    func convergesUnderDriftAndLatency(version: ICVersion) throws {
        let residuals = try TimesyncSimulation(version: version, driftPPM: 100).run(seconds: 600)
        let tail = Array(residuals.suffix(60))
        let p99 = TimesyncSimulation.percentile(tail, 0.99)
        #expect(p99 <= 100_000, "p99 residual \(p99) ns")
        // Without the discipline the same drift would be 100 µs after one second.
        #expect(TimesyncSimulation.percentile(Array(residuals.prefix(3)), 1) > p99)
    }

    @Test func negativeDriftAndSlowHostAlsoConverge() throws {
        var simulation = TimesyncSimulation(version: ICVersion(4, 0), driftPPM: -250)
        simulation.sampleInterval = 15_000_000_000
        simulation.seed = 99
        let residuals = try simulation.run(seconds: 1800)
        #expect(TimesyncSimulation.percentile(Array(residuals.suffix(40)), 0.99) <= 200_000)
    }
}
