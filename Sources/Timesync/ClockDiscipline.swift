/// A proportional-integral loop that slews the wall clock toward host time through the
/// frequency correction only (no steps), critically damped.
///
/// Loop: dθ/dt = drift − u, u = Kp·θ + Ki·∫θ dt, with Ki = Kp²/4 (ζ = 1). The time constant
/// 1/Kp follows the host's sample interval (4 intervals: 20 s for Hyper-V's 5 s samples), so
/// the loop is as fast as the samples allow and stays stable whatever the host's cadence.
public struct ClockDiscipline: Sendable {
    /// Time constant in sample intervals.
    public var intervalsPerTimeConstant: Double
    /// Bounds of the time constant, seconds.
    public var timeConstantRange: ClosedRange<Double>
    /// Limit of the total correction (the kernel allows ±500 ppm).
    public var maximumPPM: Double
    /// Learned frequency error (ppm). Kept across renegotiation: it is a property of the clock.
    public private(set) var integralPPM: Double = 0
    /// Smoothed sample interval, seconds (nil until two samples were seen).
    public private(set) var averageInterval: Double?
    private var lastMonotonic: Int64?

    public init(intervalsPerTimeConstant: Double = 4, timeConstantRange: ClosedRange<Double> = 2...256, maximumPPM: Double = 500) {
        self.intervalsPerTimeConstant = intervalsPerTimeConstant
        self.timeConstantRange = timeConstantRange
        self.maximumPPM = maximumPPM
    }

    /// The current time constant, seconds (1/Kp).
    public var timeConstant: Double {
        let raw = (averageInterval ?? 5) * intervalsPerTimeConstant
        return min(max(raw, timeConstantRange.lowerBound), timeConstantRange.upperBound)
    }

    /// Returns the frequency correction (ppm) to apply for an offset `offsetNanoseconds`
    /// (host − guest; positive means the guest is behind) measured at `monotonic`.
    public mutating func update(offsetNanoseconds: Int64, atMonotonic monotonic: Int64) -> Double {
        let offsetSeconds = Double(offsetNanoseconds) / 1e9
        if let last = lastMonotonic {
            // Clamp the interval so a long gap (suspend, lost samples) cannot wind up the integral.
            let interval = min(max(Double(monotonic - last) / 1e9, 0), 60)
            averageInterval = averageInterval.map { 0.75 * $0 + 0.25 * interval } ?? interval
            let proportional = 1 / timeConstant
            integralPPM += proportional * proportional / 4 * offsetSeconds * interval * 1e6
            integralPPM = min(max(integralPPM, -maximumPPM), maximumPPM)
        }
        lastMonotonic = monotonic
        let total = integralPPM + offsetSeconds / timeConstant * 1e6
        return min(max(total, -maximumPPM), maximumPPM)
    }

    /// After a step the phase history is meaningless; the learned frequency is kept.
    public mutating func didStep() {
        lastMonotonic = nil
    }
}
