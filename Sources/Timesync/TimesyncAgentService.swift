import AgentCore
import DaemonSupport
import HVProtocol
import ICFramework
import Logging

/// Time sync's entry in the daemon's service table: host samples over hvagent's ring, or in kernel
/// mode the kernel's `hyperv` PTP clock read every 5 s; either way the same decision
/// (``TimesyncService/action(mode:offsetNanoseconds:realtime:monotonic:sync:leapIndicator:stepThresholdNanoseconds:discipline:)``)
/// disciplines the clock or feeds chronyd.
public final class TimesyncAgentService: AgentService {
    public let id = ICServiceID.timesync
    public let mode: TimesyncMode
    public let clock: any GuestClock
    /// Where chrony mode sends samples (nil: chrony mode sends nothing).
    public let chrony: ChronySocketSender?
    /// Asked per sample, so a reload applies to open channels.
    public let stepThresholdNanoseconds: @Sendable () -> Int64
    private let logger = Logger(label: "hvagent")

    public init(mode: TimesyncMode, clock: any GuestClock, chrony: ChronySocketSender? = nil,
                stepThresholdNanoseconds: @escaping @Sendable () -> Int64 = { TimesyncService.defaultStepThresholdNanoseconds }) {
        self.mode = mode
        self.clock = clock
        self.chrony = chrony
        self.stepThresholdNanoseconds = stepThresholdNanoseconds
    }

    public func channelHandler(events: ServiceEvents) -> any ICChannelHandler {
        let actuator = TimesyncActuator(clock: clock, chrony: chrony)
        let service = TimesyncService(mode: mode, clock: clock, stepThresholdNanoseconds: stepThresholdNanoseconds)
        return ServiceChannelHandler(service, events: events, perform: { action in
            { _ in
                do { try actuator.apply(action) } catch { events.failed("\(error)") }
            }
        }, observe: { outcome, service in
            if case .handled(.timesync, _) = outcome.event, let offset = service.lastOffsetNanoseconds {
                events.activity(TimesyncSample(offsetNanoseconds: offset, action: outcome.action))
            }
        })
    }

    /// Kernel mode: hv_utils keeps the channel and exposes host time as the `hyperv` PTP clock; a
    /// 5 s timer reads it and slews the clock (or feeds chronyd), like a host sample.
    public func kernelModeInputs(events: ServiceEvents) throws -> [PollInput] {
        guard mode != .off else { return [] }
        guard let path = PTPHostClock.findHyperV() else {
            logger.warning("timesync: kernel mode but no hyperv PTP clock (hv_utils not loaded?); the clock is not disciplined")
            return []
        }
        let ptp = try PTPHostClock(devicePath: path)
        let timer = try LoopTimer(everyMicroseconds: UInt64(PTPFollower.tickSeconds) * 1_000_000)
        logger.notice("timesync: following the kernel's hyperv PTP clock \(path) (\(mode.rawValue))")
        let actuator = TimesyncActuator(clock: clock, chrony: chrony)
        let follower = FollowerBox(PTPFollower(mode: mode, clock: clock, host: ptp))
        let threshold = stepThresholdNanoseconds
        return [PollInput(descriptor: timer.descriptor) {
            timer.acknowledge()
            follower.value.stepThresholdNanoseconds = threshold()
            guard let action = follower.value.tick() else { return }
            events.emit(.packet(.timesync, .handled(type: .timesync, status: .ok)))
            do { try actuator.apply(action) } catch { events.failed("\(error)") }
        }]
    }

    /// The follower's state, mutated from the loop's timer input.
    private final class FollowerBox {
        var value: PTPFollower
        init(_ value: PTPFollower) { self.value = value }
    }
}

/// One host time sample taken: how far off the guest was and what was done about it.
public struct TimesyncSample: ServiceActivity, Hashable {
    /// Host − guest, nanoseconds.
    public var offsetNanoseconds: Int64
    public var action: TimesyncAction?

    public init(offsetNanoseconds: Int64, action: TimesyncAction?) {
        self.offsetNanoseconds = offsetNanoseconds
        self.action = action
    }

    public var description: String {
        let text = "guest \(offsetNanoseconds >= 0 ? "behind" : "ahead") by "
            + "\(FixedPoint.text(abs(Double(offsetNanoseconds)) / 1e6, digits: 3)) ms"
        switch action {
        case .step(_, let reason)?: return text + " -> step (\(reason == .sync ? "SYNC" : "5 s behind"))"
        case .setFrequency(let ppm, _)?: return text + " -> slew \(FixedPoint.text(ppm, digits: 1, plus: true)) ppm"
        case .chrony?: return text + " -> sample to chronyd"
        case nil: return text
        }
    }

    /// A clock step is news; a sample, a slew or a sample passed to chronyd is not.
    public var isRoutine: Bool {
        if case .step? = action { return false }
        return true
    }
}
