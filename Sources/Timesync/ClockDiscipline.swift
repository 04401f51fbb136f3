/// A proportional-integral loop that slews the wall clock toward host time through the
/// frequency correction only (no steps), critically damped.
///
/// Loop: dθ/dt = drift − u, u = Kp·θ + Ki·∫θ dt, with Ki = Kp²/4 (ζ = 1). With samples every
/// 5 s and τ = 1/Kp = 20 s the integral learns a constant drift within a few minutes.
public struct ClockDiscipline: Sendable {
    /// Proportional gain, 1/s.
    public var proportionalGain: Double
    /// Integral gain, 1/s².
    public var integralGain: Double
    /// Limit of the total correction (the kernel allows ±500 ppm).
    public var maximumPPM: Double
    /// Learned frequency error (ppm). Kept across renegotiation: it is a property of the clock.
    public private(set) var integralPPM: Double = 0
    private var lastMonotonic: Int64?

    public init(timeConstantSeconds: Double = 20, maximumPPM: Double = 500) {
        proportionalGain = 1 / timeConstantSeconds
        integralGain = proportionalGain * proportionalGain / 4
        self.maximumPPM = maximumPPM
    }

    /// Returns the frequency correction (ppm) to apply for an offset `offsetNanoseconds`
    /// (host − guest; positive means the guest is behind) measured at `monotonic`.
    public mutating func update(offsetNanoseconds: Int64, atMonotonic monotonic: Int64) -> Double {
        let offsetSeconds = Double(offsetNanoseconds) / 1e9
        if let last = lastMonotonic {
            // Clamp the interval so a long gap (suspend, lost samples) cannot wind up the integral.
            let interval = min(max(Double(monotonic - last) / 1e9, 0), 60)
            integralPPM += integralGain * offsetSeconds * interval * 1e6
            integralPPM = min(max(integralPPM, -maximumPPM), maximumPPM)
        }
        lastMonotonic = monotonic
        let total = integralPPM + proportionalGain * offsetSeconds * 1e6
        return min(max(total, -maximumPPM), maximumPPM)
    }

    /// After a step the phase history is meaningless; the learned frequency is kept.
    public mutating func didStep() {
        lastMonotonic = nil
    }
}
