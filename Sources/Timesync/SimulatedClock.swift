import FoundationEssentials
import HVSystem
import Synchronization

/// A guest wall clock simulated over a `TimeSource`: it starts with an offset, runs fast or
/// slow by `driftPPM`, obeys steps and frequency corrections, and can be suspended (the VM
/// is paused: the wall clock and the monotonic clock stop while host time goes on).
public final class SimulatedClock: GuestClock, @unchecked Sendable {
    private let lock = Mutex(())
    private let source: any TimeSource
    /// Oscillator error of the guest wall clock.
    public let driftPPM: Double
    private var correctionPPM: Double = 0
    private var anchorTrue: Int64
    private var anchorReal: Int64
    private var suspendedNanoseconds: Int64 = 0
    /// Steps applied so far (for tests and the timeline).
    public private(set) var steps: [Int64] = []

    public init(source: any TimeSource, initialOffsetNanoseconds: Int64 = 0, driftPPM: Double = 0) {
        self.source = source
        self.driftPPM = driftPPM
        anchorTrue = source.trueNanoseconds()
        anchorReal = anchorTrue + initialOffsetNanoseconds
    }

    private var rate: Double { 1 + (driftPPM + correctionPPM) / 1_000_000 }

    private func realtimeLocked(atTrue now: Int64) -> Int64 {
        anchorReal + Int64((Double(now - anchorTrue) * rate).rounded())
    }

    private func reanchorLocked() {
        let now = source.trueNanoseconds()
        anchorReal = realtimeLocked(atTrue: now)
        anchorTrue = now
    }

    public func realtimeNanoseconds() -> Int64 {
        return lock.withLock { _ in
            return realtimeLocked(atTrue: source.trueNanoseconds())
        }
    }

    public func monotonicNanoseconds() -> Int64 {
        return lock.withLock { _ in
            return source.monotonicNanoseconds() - suspendedNanoseconds
        }
    }

    public func step(byNanoseconds delta: Int64) throws {
        lock.withLock { _ in
            reanchorLocked()
            anchorReal += delta
            steps.append(delta)
        }
    }

    public func setFrequencyCorrection(ppm: Double) throws {
        lock.withLock { _ in
            reanchorLocked()
            correctionPPM = ppm
        }
    }

    public var frequencyCorrectionPPM: Double {
        return lock.withLock { _ in
            return correctionPPM
        }
    }

    /// Guest wall clock minus true time, nanoseconds (the error a discipline removes).
    public func errorNanoseconds() -> Int64 {
        return lock.withLock { _ in
            let now = source.trueNanoseconds()
            return realtimeLocked(atTrue: now) - now
        }
    }

    /// Marks that the guest was paused for the last `nanoseconds` of source time, which the
    /// caller has already advanced: wall and monotonic clocks resume where they stopped.
    public func didSuspend(forNanoseconds nanoseconds: Int64) {
        lock.withLock { _ in
            let now = source.trueNanoseconds()
            anchorReal = realtimeLocked(atTrue: now - nanoseconds)
            anchorTrue = now
            suspendedNanoseconds += nanoseconds
        }
    }
}
