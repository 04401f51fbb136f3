/// Carries out `TimesyncAction`s on a clock or toward chronyd.
public struct TimesyncActuator: Sendable {
    public let clock: any GuestClock
    public let chrony: ChronySocketSender?

    public init(clock: any GuestClock, chrony: ChronySocketSender? = nil) {
        self.clock = clock
        self.chrony = chrony
    }

    public func apply(_ action: TimesyncAction) throws {
        switch action {
        case .step(let nanoseconds, _):
            try clock.step(byNanoseconds: nanoseconds)
        case .setFrequency(let ppm, _):
            try clock.setFrequencyCorrection(ppm: ppm)
        case .chrony(let sample):
            try chrony?.send(sample)
        }
    }
}
