/// How long a channel closed for ring corruption stays closed before the agent opens it again.
///
/// A corrupt ring fails its channel end for good, and on real Hyper-V nothing re-offers the
/// channel by itself: without a reopen the host would show the VM as lost. But a hostile host can
/// corrupt the ring again right after every open, so reopens are spaced: the first after
/// ``initialMicroseconds``, each further one twice as late, up to ``maximumMicroseconds``. A channel
/// that then served ``settleMicroseconds`` without corruption starts over at the first delay.
/// This bounds what such a host costs to one reopen per back-off period.
public struct ReopenBackoff: Sendable {
    public static let initialMicroseconds: UInt64 = 1_000_000
    public static let maximumMicroseconds: UInt64 = 64_000_000
    public static let settleMicroseconds: UInt64 = 120_000_000

    /// Corruptions in a row (without a settled period in between).
    public private(set) var failures = 0
    private var lastOpened: UInt64?

    public init() {}

    /// The channel (re)opened at `now` (monotonic microseconds).
    public mutating func opened(at now: UInt64) {
        lastOpened = now
    }

    /// The channel failed at `now`: the delay before the next open.
    public mutating func failed(at now: UInt64) -> UInt64 {
        if let lastOpened, now >= lastOpened, now - lastOpened >= Self.settleMicroseconds { failures = 0 }
        failures += 1
        let shift = UInt64(min(failures - 1, 6))
        return min(Self.initialMicroseconds << shift, Self.maximumMicroseconds)
    }
}
