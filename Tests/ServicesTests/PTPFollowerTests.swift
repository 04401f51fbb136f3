import HVSystem
import Testing
import Timesync
import HVSystem

/// The kernel's hyperv PTP clock, simulated: host time is the simulation's true time, and a read
/// can be made to fail like a clock without samples (ESTALE).
final class FakePTPClock: HostTimeReading {
    let source: ManualTimeSource
    var stale = false
    init(source: ManualTimeSource) { self.source = source }
    func hostNanoseconds() throws(SystemCallError) -> Int64 {
        if stale { throw SystemCallError(call: "clock_gettime", path: "/dev/ptp0", errno: Errno(rawValue: 116)) } // ESTALE
        return source.trueNanoseconds()
    }
}

@Suite("Kernel mode: following the hyperv PTP clock")
struct PTPFollowerTests {
    @Test func slewsADriftingClockOntoHostTime() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: -20_000_000, driftPPM: 100)
        var follower = PTPFollower(mode: .discipline, clock: clock, host: FakePTPClock(source: source))
        let actuator = TimesyncActuator(clock: clock)
        for _ in 0..<(600 / PTPFollower.tickSeconds) { // 10 simulated minutes
            if let action = follower.tick() { try actuator.apply(action) }
            source.advance(byNanoseconds: Int64(PTPFollower.tickSeconds) * 1_000_000_000)
        }
        // No step for a guest 20 ms off: slewed (at most 500 ppm), within 100 us after 10 minutes.
        #expect(abs(clock.errorNanoseconds()) < 100_000)
        #expect(abs(clock.frequencyCorrectionPPM + 100) < 5)
    }

    @Test func stepsWhenFiveSecondsBehindAndCountsStaleReads() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: -6_000_000_000, driftPPM: 0)
        let ptp = FakePTPClock(source: source)
        var follower = PTPFollower(mode: .discipline, clock: clock, host: ptp)
        let tick = follower.tick()
        let action = try #require(tick)
        guard case .step(let ns, .behind) = action else {
            Issue.record("expected an implicit step, got \(action)")
            return
        }
        #expect(abs(ns - 6_000_000_000) < 1_000)
        ptp.stale = true
        #expect(follower.tick() == nil)
        #expect(follower.failedReads == 1)
        #expect(follower.lastError?.errno == Errno(rawValue: 116))
    }

    @Test func chronyModeFeedsSamplesAndOffModeDoesNothing() {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: 250_000_000, driftPPM: 0)
        var chrony = PTPFollower(mode: .chrony, clock: clock, host: FakePTPClock(source: source))
        guard case .chrony(let sample) = chrony.tick() else {
            Issue.record("expected a chrony sample")
            return
        }
        #expect(abs(sample.offsetSeconds + 0.25) < 1e-6)
        var off = PTPFollower(mode: .off, clock: clock, host: FakePTPClock(source: source))
        #expect(off.tick() == nil)
    }

    @Test func noHyperVClockOnThisMachineUnlessHyperV() {
        // A fake sysfs with a hyperv clock is found; an empty one is not.
        #expect(PTPHostClock.findHyperV(sysfsRoot: "/nonexistent") == nil)
    }
}
