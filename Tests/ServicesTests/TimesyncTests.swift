import ICFramework
import Testing
import TestSupport
import Timesync
import HVSystem
import HVProtocol

extension SplitMix64 {
    /// Heavy-tailed delivery latency: 20 µs floor + Pareto(α = 1.5, 10 µs), capped at 50 ms.
    mutating func latencyNanoseconds() -> Int64 {
        let pareto = 10_000 / pow(1 - unit(), 1 / 1.5)
        return 20_000 + min(Int64(pareto), 50_000_000)
    }
}

func timesyncRequest(version: ICVersion, message: TimesyncMessage) -> [UInt8] {
    ICRequest.host(type: .timesync, framework: ICVersion(3, 0), version: version, body: message.encode(version: version)).encoded()
}

func negotiated(_ version: ICVersion, service: TimesyncService) -> ICEndpoint<TimesyncService> {
    var endpoint = ICEndpoint(service: service)
    var body: [UInt8] = []
    NegotiateBody(frameworkVersions: [ICVersion(3, 0)], serviceVersions: [version]).encode(into: &body)
    _ = endpoint.process(ICRequest.host(type: .negotiate, framework: ICVersion(0, 0), version: ICVersion(0, 0), body: body).encoded())
    return endpoint
}

@Suite struct TimesyncWireTests {
    @Test func epochConversionIsExact() {
        #expect(WindowsTime.unixNanoseconds(fromTicks: 116_444_736_000_000_000) == 0)
        #expect(WindowsTime.unixNanoseconds(fromTicks: 116_444_736_000_000_001) == 100)
        #expect(WindowsTime.unixNanoseconds(fromTicks: 116_444_735_999_999_999) == -100)
        // 2026-01-01T00:00:00Z = 1767225600 s.
        #expect(WindowsTime.unixNanoseconds(fromTicks: 116_444_736_000_000_000 + 17_672_256_000_000_000) == 1_767_225_600_000_000_000)
        #expect(WindowsTime.unixNanoseconds(fromTicks: 0) == nil)  // 1601 is before Int64 nanoseconds reach
        #expect(WindowsTime.unixNanoseconds(fromTicks: UInt64.max) == nil)
        #expect(WindowsTime.ticks(fromUnixNanoseconds: -100) == 116_444_735_999_999_999)
        #expect(WindowsTime.ticks(fromUnixNanoseconds: -1) == 116_444_735_999_999_999)
        // Int64.min ns is in 1677, still after 1601: floor(-9223372036854775808 / 100) ticks before 1970.
        #expect(WindowsTime.ticks(fromUnixNanoseconds: Int64.min) == 116_444_736_000_000_000 - 92_233_720_368_547_759)
        #expect(WindowsTime.ticks(fromUnixNanoseconds: 1_767_225_600_000_000_050) == 116_444_736_000_000_000 + 17_672_256_000_000_000)
    }

    @Test func v3ReplyIsEchoWithResponseFlags() {
        let source = ManualTimeSource()
        var endpoint = negotiated(ICVersion(3, 0), service: TimesyncService(mode: .off, clock: SimulatedClock(source: source)))
        // ictimesync_data as openvmm sends it: parenttime, childtime, roundtriptime, flags, reserved[3].
        let body: [UInt8] = [
            0x00, 0x40, 0x3c, 0x8b, 0x2a, 0xdc, 0xdc, 0x01,  // parenttime
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // childtime, roundtriptime
            0x02, 0, 0, 0,  // SAMPLE, reserved
        ]
        let request = hostHeader(type: 4, version: (3, 0), bodySize: body.count) + body
        let outcome = endpoint.process(request)
        #expect(outcome.reply == replyHeader(request) + body)
        #expect(outcome.action == nil)
        // Linux's struct is 25 bytes: 24 is too short.
        let short = hostHeader(type: 4, version: (3, 0), bodySize: 24) + Array(body.prefix(24))
        #expect(endpoint.process(short).reply == nil)
    }

    @Test func v4ReplyIsEchoAndNeeds22Bytes() {
        let source = ManualTimeSource()
        var endpoint = negotiated(ICVersion(4, 0), service: TimesyncService(mode: .off, clock: SimulatedClock(source: source)))
        let body: [UInt8] = [
            0x00, 0x40, 0x3c, 0x8b, 0x2a, 0xdc, 0xdc, 0x01,  // parenttime
            0x10, 0x32, 0x54, 0x76, 0x00, 0x00, 0x00, 0x00,  // vmreferencetime
            0x01, 0x00, 0x02,  // SYNC, leap 0, stratum 2
            0, 0, 0, 0, 0,  // reserved (openvmm: 5 bytes)
        ]
        let request = hostHeader(type: 4, version: (4, 0), bodySize: body.count) + body
        #expect(endpoint.process(request).reply == replyHeader(request) + body)
        let linuxSized = hostHeader(type: 4, version: (4, 0), bodySize: 22) + Array(body.prefix(22))
        #expect(endpoint.process(linuxSized).reply == replyHeader(linuxSized) + Array(body.prefix(22)))
        let short = hostHeader(type: 4, version: (4, 0), bodySize: 21) + Array(body.prefix(21))
        #expect(endpoint.process(short).reply == nil)
    }

    @Test func chronySampleLayout() {
        let sample = ChronySockSample(systemTimeNanoseconds: 1_767_225_600_123_456_789, offsetSeconds: -0.25, leap: 1)
        let bytes = sample.encoded()
        #expect(bytes.count == 40)
        #expect(LittleEndian.u64(bytes, at: 0) == 1_767_225_600)
        #expect(LittleEndian.u64(bytes, at: 8) == 123_456)
        #expect(LittleEndian.u64(bytes, at: 16) == (-0.25).bitPattern)
        #expect(LittleEndian.u32(bytes, at: 24) == 0)
        #expect(LittleEndian.u32(bytes, at: 28) == 1)
        #expect(LittleEndian.u32(bytes, at: 36) == 0x534f_434b)
        let negative = ChronySockSample(systemTimeNanoseconds: -1_500, offsetSeconds: 0).encoded()
        #expect(LittleEndian.u64(negative, at: 0) == UInt64(bitPattern: -1))
        #expect(LittleEndian.u64(negative, at: 8) == 999_999)
    }
}

@Suite struct TimesyncDisciplineTests {
    @Test(arguments: [ICVersion(3, 0), ICVersion(4, 0)])
    func syncSteps(version: ICVersion) throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: -3_000_000_000)
        var endpoint = negotiated(version, service: TimesyncService(mode: .discipline, clock: clock))
        let message = TimesyncMessage(
            parentTime: WindowsTime.ticks(fromUnixNanoseconds: source.trueNanoseconds()),
            referenceTime: UInt64(source.monotonicNanoseconds() / 100) + 777, flags: .sync)
        source.advance(byNanoseconds: 50_000)  // delivery latency
        let outcome = endpoint.process(timesyncRequest(version: version, message: message))
        guard case .step(let delta, .sync) = outcome.action else {
            Issue.record("expected a SYNC step, got \(String(describing: outcome.action))")
            return
        }
        try TimesyncActuator(clock: clock).apply(try #require(outcome.action))
        // The first sample cannot see its own latency: the step leaves the clock that far behind.
        #expect(abs(delta - 2_999_950_000) <= 100 + 77_700)
        #expect(abs(clock.errorNanoseconds()) <= 100_000)
    }

    @Test func sampleFiveSecondsBehindStepsAfterResumeButFourDoesNot() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source)
        var endpoint = negotiated(ICVersion(3, 0), service: TimesyncService(mode: .discipline, clock: clock))
        let actuator = TimesyncActuator(clock: clock)
        func sample() throws -> TimesyncAction? {
            let message = TimesyncMessage(parentTime: WindowsTime.ticks(fromUnixNanoseconds: source.trueNanoseconds()), flags: .sample)
            source.advance(byNanoseconds: 30_000)
            let action = endpoint.process(timesyncRequest(version: ICVersion(3, 0), message: message)).action
            if let action { try actuator.apply(action) }
            return action
        }
        _ = try sample()
        // Paused for 4 s: too little for an implicit step; slewed instead.
        source.advance(byNanoseconds: 4_000_000_000)
        clock.didSuspend(forNanoseconds: 4_000_000_000)
        guard case .setFrequency = try sample() else { Issue.record("4 s behind must not step"); return }
        // Paused for 60 s (save/restore without SYNC): the next SAMPLE steps.
        source.advance(byNanoseconds: 60_000_000_000)
        clock.didSuspend(forNanoseconds: 60_000_000_000)
        guard case .step(let delta, .behind) = try sample() else { Issue.record("expected implicit step"); return }
        #expect(delta > 60_000_000_000)
        #expect(abs(clock.errorNanoseconds()) < 100_000)
    }

    /// `[timesync] step_threshold_seconds`: the service asks for the threshold on every sample,
    /// so a reload applies to an open channel.
    @Test func stepThresholdIsAskedPerSample() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source)
        let threshold = ThresholdBox(5_000_000_000)
        var endpoint = negotiated(ICVersion(3, 0), service: TimesyncService(mode: .discipline, clock: clock,
                                                                             stepThresholdNanoseconds: { threshold.value }))
        func sampleAfterPause(_ seconds: Int64) -> TimesyncAction? {
            source.advance(byNanoseconds: seconds * 1_000_000_000)
            clock.didSuspend(forNanoseconds: seconds * 1_000_000_000)
            let message = TimesyncMessage(parentTime: WindowsTime.ticks(fromUnixNanoseconds: source.trueNanoseconds()), flags: .sample)
            let action = endpoint.process(timesyncRequest(version: ICVersion(3, 0), message: message)).action
            if let action { try? TimesyncActuator(clock: clock).apply(action) }
            return action
        }
        _ = sampleAfterPause(0)
        guard case .setFrequency = sampleAfterPause(3) else { Issue.record("3 s behind under a 5 s threshold must slew"); return }
        threshold.value = 2_000_000_000
        guard case .step(_, .behind) = sampleAfterPause(3) else { Issue.record("3 s behind under a 2 s threshold must step"); return }
        // The PTP follower (kernel mode) takes the same decision from the same number.
        var discipline = ClockDiscipline()
        #expect(TimesyncService.action(mode: .discipline, offsetNanoseconds: 2_500_000_000, realtime: 0, monotonic: 0, sync: false,
                                       leapIndicator: 0, stepThresholdNanoseconds: 2_000_000_000, discipline: &discipline)
                == .step(nanoseconds: 2_500_000_000, reason: .behind))
    }

    @Test func implausibleHostTimesAreIgnored() {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source)
        var endpoint = negotiated(ICVersion(4, 0), service: TimesyncService(mode: .discipline, clock: clock))
        func send(_ parent: UInt64, _ reference: UInt64) -> ICOutcome<TimesyncAction> {
            endpoint.process(timesyncRequest(version: ICVersion(4, 0), message: TimesyncMessage(parentTime: parent, referenceTime: reference, flags: .sync)))
        }
        for (parent, reference) in [(UInt64(0), UInt64(0)), (UInt64.max, 1), (WindowsTime.unixEpochTicks - 1, 5)] {
            let outcome = send(parent, reference)
            #expect(outcome.reply != nil)  // still answered
            #expect(outcome.action == nil)
        }
        #expect(endpoint.service.rejectedSamples == 3)
        // A reference time near the top of the range is accepted on its own, but the next
        // sample would put host time centuries away: rejected, and the estimator starts over.
        let now = { WindowsTime.ticks(fromUnixNanoseconds: source.trueNanoseconds()) }
        #expect(send(now(), UInt64(Int64.max / 100)).action != nil)
        #expect(send(now(), UInt64(source.monotonicNanoseconds() / 100)).action == nil)
        #expect(endpoint.service.rejectedSamples == 4)
        #expect(send(now(), UInt64(source.monotonicNanoseconds() / 100)).action == .step(nanoseconds: 0, reason: .sync))
    }

    @Test func guestAheadIsNeverStepped() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: 30_000_000_000)
        var endpoint = negotiated(ICVersion(3, 0), service: TimesyncService(mode: .discipline, clock: clock))
        let message = TimesyncMessage(parentTime: WindowsTime.ticks(fromUnixNanoseconds: source.trueNanoseconds()), flags: .sample)
        guard case .setFrequency(let ppm, _) = endpoint.process(timesyncRequest(version: ICVersion(3, 0), message: message)).action else {
            Issue.record("expected a slew"); return
        }
        #expect(ppm == -500)
    }

    @Test func offModeAndChronyModeNeverTouchTheClock() {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: -2_000_000_000)
        var off = negotiated(ICVersion(4, 0), service: TimesyncService(mode: .off, clock: clock))
        var chrony = negotiated(ICVersion(4, 0), service: TimesyncService(mode: .chrony, clock: clock))
        let message = TimesyncMessage(
            parentTime: WindowsTime.ticks(fromUnixNanoseconds: source.trueNanoseconds()),
            referenceTime: UInt64(source.monotonicNanoseconds() / 100), flags: .sync, leapIndicator: 1)
        #expect(off.process(timesyncRequest(version: ICVersion(4, 0), message: message)).action == nil)
        guard case .chrony(let sample) = chrony.process(timesyncRequest(version: ICVersion(4, 0), message: message)).action else {
            Issue.record("expected a chrony sample"); return
        }
        #expect(abs(sample.offsetSeconds - 2.0) < 1e-6)
        #expect(sample.leap == 1)
        #expect(clock.steps.isEmpty)
    }

}

import Foundation

/// A threshold a test changes while the service holds a closure reading it.
final class ThresholdBox: @unchecked Sendable {
    var value: Int64
    init(_ value: Int64) { self.value = value }
}
