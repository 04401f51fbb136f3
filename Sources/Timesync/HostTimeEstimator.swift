/// Estimates host UTC as a function of the guest's monotonic clock from timesync samples,
/// robust to delivery latency (which only ever makes a sample look *older*).
///
/// v4 (reference time present): user space cannot read the partition reference counter,
/// but `monotonic_at_receive − vmreferencetime` is the counter's offset to our monotonic
/// clock plus that sample's latency. The minimum over a window is the offset plus the
/// *smallest* latency seen; host time then follows exactly from the newest sample's
/// (parenttime, vmreferencetime) pair plus the elapsed reference time.
///
/// v1/v3 (no reference time): `parenttime − monotonic_at_receive` is host-minus-monotonic
/// minus that sample's latency; the maximum over a window removes all but the smallest
/// latency. A forward jump (resume) is picked up at once because it raises the maximum.
public struct HostTimeEstimator: Sendable {
    /// Samples kept for the min/max filter.
    public let window: Int
    private var candidates: [Int64] = []
    private var latestHost: Int64 = 0
    private var latestReference: Int64?

    public init(window: Int = 32) {
        self.window = max(1, window)
    }

    public var isEmpty: Bool { candidates.isEmpty }

    /// Adds a sample: host UTC ns, the reference time in ns (v4) and our monotonic ns at receipt.
    public mutating func add(hostNanoseconds: Int64, referenceNanoseconds: Int64?, receivedMonotonic: Int64) {
        if let reference = referenceNanoseconds {
            if latestReference == nil { candidates.removeAll() }  // layout changed: start over
            candidates.append(receivedMonotonic &- reference)
        } else {
            if latestReference != nil { candidates.removeAll() }
            candidates.append(hostNanoseconds &- receivedMonotonic)
        }
        if candidates.count > window { candidates.removeFirst(candidates.count - window) }
        latestHost = hostNanoseconds
        latestReference = referenceNanoseconds
    }

    /// Host UTC (ns) at our monotonic time `monotonic`, or nil before the first sample.
    public func hostNanoseconds(atMonotonic monotonic: Int64) -> Int64? {
        if let reference = latestReference {
            guard let offset = candidates.min() else { return nil }
            // reference counter now ≈ monotonic − offset
            return latestHost &+ ((monotonic &- offset) &- reference)
        }
        guard let hostMinusMonotonic = candidates.max() else { return nil }
        return monotonic &+ hostMinusMonotonic
    }

    public mutating func reset() {
        candidates.removeAll()
        latestReference = nil
        latestHost = 0
    }
}
