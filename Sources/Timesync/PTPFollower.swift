import HVSystem

/// Kernel mode's time service: hv_utils keeps the timesync channel, so host time comes from its
/// `hyperv` PTP clock instead of IC samples. On each tick (the daemon's timer, at the host's 5 s
/// sample cadence) it reads host time and takes the same decision a host SAMPLE would
/// (``TimesyncService/action(mode:offsetNanoseconds:realtime:monotonic:sync:leapIndicator:stepThresholdNanoseconds:discipline:)``):
/// slew, step when at least the step threshold behind, or feed chronyd.
public struct PTPFollower {
    public var mode: TimesyncMode
    public let clock: any GuestClock
    public let host: any HostTimeReading
    /// As ``TimesyncService/stepThresholdNanoseconds``; the daemon changes it on reload.
    public var stepThresholdNanoseconds = TimesyncService.defaultStepThresholdNanoseconds
    public private(set) var discipline = ClockDiscipline()
    /// Host − guest at the last tick, for status and logs.
    public private(set) var lastOffsetNanoseconds: Int64?
    /// Reads that failed (ESTALE: no host sample for 600 s), the last error kept for status.
    public private(set) var failedReads = 0
    public private(set) var lastError: SystemCallError?

    /// The cadence a daemon should tick at: Hyper-V's sample interval.
    public static let tickSeconds = 5

    public init(mode: TimesyncMode, clock: any GuestClock, host: any HostTimeReading) {
        self.mode = mode
        self.clock = clock
        self.host = host
    }

    /// Reads host time once and returns what to do (nil: nothing, or the read failed).
    public mutating func tick() -> TimesyncAction? {
        let monotonic = clock.monotonicNanoseconds()
        let realtime = clock.realtimeNanoseconds()
        let hostTime: Int64
        do {
            hostTime = try host.hostNanoseconds()
        } catch {
            failedReads += 1
            lastError = error
            return nil
        }
        guard TimesyncService.plausibleHostTime.contains(hostTime) else {
            failedReads += 1
            return nil
        }
        let offset = hostTime &- realtime
        lastOffsetNanoseconds = offset
        return TimesyncService.action(mode: mode, offsetNanoseconds: offset, realtime: realtime, monotonic: monotonic,
                                      sync: false, leapIndicator: 0, stepThresholdNanoseconds: stepThresholdNanoseconds,
                                      discipline: &discipline)
    }
}
