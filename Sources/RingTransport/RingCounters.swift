/// Per-ring-end statistics: plain integers owned by the one thread that drives the ring end, so the
/// struct stays trivially copyable and costs nothing on the hot path.
public struct RingCounters: Equatable, Sendable {
    /// Packets written or read.
    public var packets: UInt64 = 0
    /// Payload bytes written or read (padded to 8 on the read side).
    public var payloadBytes: UInt64 = 0
    /// Writes refused because the ring was full.
    public var ringFull: UInt64 = 0
    /// Times this end decided the peer must be signalled.
    public var signalsNeeded: UInt64 = 0
    /// Index values from the peer that were out of range, unaligned or moved backwards.
    public var badIndices: UInt64 = 0
    /// Descriptors with offset8 < 2.
    public var offsetTooSmall: UInt64 = 0
    /// Descriptors with len8 < offset8.
    public var lengthBeforeOffset: UInt64 = 0
    /// Descriptors whose length runs past the published bytes.
    public var lengthBeyondAvailable: UInt64 = 0
    /// Descriptors with undefined flag bits.
    public var unknownFlags: UInt64 = 0
    /// Non-empty rings with fewer than descriptor + trailer bytes published.
    public var truncated: UInt64 = 0

    public init() {}

    /// The counter for one kind of malformed descriptor.
    public subscript(kind: MalformedDescriptor) -> UInt64 {
        get {
            switch kind {
            case .offsetTooSmall: offsetTooSmall
            case .lengthBeforeOffset: lengthBeforeOffset
            case .lengthBeyondAvailable: lengthBeyondAvailable
            case .unknownFlags: unknownFlags
            case .truncated: truncated
            }
        }
        set {
            switch kind {
            case .offsetTooSmall: offsetTooSmall = newValue
            case .lengthBeforeOffset: lengthBeforeOffset = newValue
            case .lengthBeyondAvailable: lengthBeyondAvailable = newValue
            case .unknownFlags: unknownFlags = newValue
            case .truncated: truncated = newValue
            }
        }
    }

    /// Corruptions of any kind.
    public var corruptions: UInt64 {
        badIndices + MalformedDescriptor.allCases.reduce(0) { $0 + self[$1] }
    }
}
