import ICFramework
import HVProtocol

/// How the time service uses the host's samples.
public enum TimesyncMode: String, Sendable, CaseIterable {
    /// Step on SYNC (and when ≥ 5 s behind), otherwise slew through the frequency correction.
    case discipline
    /// Feed chronyd's SOCK refclock; chronyd owns the clock.
    case chrony
    /// Answer the host, touch nothing.
    case off
}

/// What to do with the clock once the reply is on its way.
public enum TimesyncAction: Hashable, Sendable {
    public enum StepReason: String, Sendable {
        /// The host's SYNC flag: boot, restore or resume.
        case sync
        /// A sample showed the guest at least 5 s behind (resume without SYNC).
        case behind
    }
    case step(nanoseconds: Int64, reason: StepReason)
    case setFrequency(ppm: Double, offsetNanoseconds: Int64)
    case chrony(ChronySockSample)
}

/// The time synchronization IC (docs/PROTOCOL.md §6.3). The reply is always the echo with S_OK, as
/// Linux sends; the clock work is returned as an action.
public struct TimesyncService: ICService {
    public typealias Action = TimesyncAction

    /// Guest ≥ this far behind on a SAMPLE → step (Linux `timesync_implicit`); the default of
    /// `[timesync] step_threshold_seconds`.
    public static let defaultStepThresholdNanoseconds: Int64 = 5_000_000_000
    /// Unix nanoseconds from 1970-01-01 to 2200-01-01.
    public static let plausibleHostTime: ClosedRange<Int64> = 0...7_258_118_400_000_000_000

    public var serviceVersions: [ICVersion] { ICServiceID.timesync.serviceVersions }
    public var mode: TimesyncMode
    public let clock: any GuestClock
    /// How far behind the guest must be for a sample to step the clock. Asked on every sample,
    /// so a configuration reload takes effect without reopening the channel.
    public var stepThresholdNanoseconds: @Sendable () -> Int64
    public private(set) var estimator: HostTimeEstimator
    public private(set) var discipline: ClockDiscipline
    /// Host − guest at the last sample (ns), for the timeline.
    public private(set) var lastOffsetNanoseconds: Int64?
    /// Samples whose parenttime could not be converted (out of range).
    public private(set) var rejectedSamples = 0

    public init(mode: TimesyncMode, clock: any GuestClock, estimatorWindow: Int = 32,
                discipline: ClockDiscipline = ClockDiscipline(),
                stepThresholdNanoseconds: @escaping @Sendable () -> Int64 = { defaultStepThresholdNanoseconds }) {
        self.mode = mode
        self.clock = clock
        self.stepThresholdNanoseconds = stepThresholdNanoseconds
        self.estimator = HostTimeEstimator(window: estimatorWindow)
        self.discipline = discipline
    }

    public func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .timesync ? TimesyncMessage.requiredSize(version: version) : nil
    }

    public mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<TimesyncAction> {
        let monotonic = clock.monotonicNanoseconds()
        let realtime = clock.realtimeNanoseconds()
        guard let message = TimesyncMessage.decode(request.body, version: version),
              let host = WindowsTime.unixNanoseconds(fromTicks: message.parentTime)
        else {
            rejectedSamples += 1
            return ICHandled(status: .ok, body: request.body)
        }
        var reference: Int64?
        if let ticks = message.referenceTime, ticks <= UInt64(Int64.max / WindowsTime.nanosecondsPerTick) {
            reference = Int64(ticks) * WindowsTime.nanosecondsPerTick
        }
        // A host time outside 1970...2200 is corrupt, not a clock to follow (and the wrapping
        // arithmetic of the estimator must not turn it into a step by centuries).
        guard Self.plausibleHostTime.contains(host) else {
            rejectedSamples += 1
            return ICHandled(status: .ok, body: request.body)
        }
        estimator.add(hostNanoseconds: host, referenceNanoseconds: reference, receivedMonotonic: monotonic)
        let estimate = estimator.hostNanoseconds(atMonotonic: monotonic) ?? host
        guard Self.plausibleHostTime.contains(estimate) else {
            estimator.reset()
            rejectedSamples += 1
            return ICHandled(status: .ok, body: request.body)
        }
        let offset = estimate &- realtime
        lastOffsetNanoseconds = offset

        let action = Self.action(mode: mode, offsetNanoseconds: offset, realtime: realtime, monotonic: monotonic,
                                 sync: message.flags.contains(.sync), leapIndicator: message.leapIndicator,
                                 stepThresholdNanoseconds: stepThresholdNanoseconds(), discipline: &discipline)
        return ICHandled(status: .ok, body: request.body, action: action)
    }

    /// The one decision of the time service, shared by host samples (this IC) and the kernel's
    /// hyperv PTP clock (kernel mode): what to do about an offset `offsetNanoseconds` (host −
    /// guest) measured at `realtime`/`monotonic`. Discipline mode steps on SYNC or when the guest
    /// is at least `stepThresholdNanoseconds` behind and slews otherwise; chrony mode hands the
    /// sample to chronyd.
    public static func action(
        mode: TimesyncMode, offsetNanoseconds offset: Int64, realtime: Int64, monotonic: Int64, sync: Bool,
        leapIndicator: UInt8, stepThresholdNanoseconds: Int64 = defaultStepThresholdNanoseconds,
        discipline: inout ClockDiscipline
    ) -> TimesyncAction? {
        switch mode {
        case .off:
            return nil
        case .chrony:
            return .chrony(ChronySockSample(
                systemTimeNanoseconds: realtime, offsetSeconds: Double(offset) / 1e9,
                leap: ChronySockSample.leap(fromNTPIndicator: leapIndicator)))
        case .discipline:
            if sync {
                discipline.didStep()
                return .step(nanoseconds: offset, reason: .sync)
            } else if offset >= stepThresholdNanoseconds {
                discipline.didStep()
                return .step(nanoseconds: offset, reason: .behind)
            } else {
                let ppm = discipline.update(offsetNanoseconds: offset, atMonotonic: monotonic)
                return .setFrequency(ppm: ppm, offsetNanoseconds: offset)
            }
        }
    }

    /// NEGOTIATE: the host starts over (restore, resume, reopen). Forget the samples; keep
    /// the learned frequency, which belongs to the clock, not to the session.
    public mutating func reset() {
        estimator.reset()
        discipline.didStep()
        lastOffsetNanoseconds = nil
    }
}
