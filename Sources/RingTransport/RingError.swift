/// What can go wrong on a ring. Every case that comes from shared memory is a value the peer wrote,
/// so it is reported, counted and never trusted; none of them traps.
public enum RingError: Error, Equatable, Sendable {
    /// Not enough free space for the packet now (the peer has not consumed yet). Retry later.
    case ringFull
    /// The packet can never fit in this ring, or its length does not fit the descriptor's u16 length8.
    case packetTooLarge(payloadLength: Int)
    /// The caller's receive buffer is smaller than the packet's payload. The packet stays in the ring.
    case bufferTooSmall(needed: Int)
    /// The geometry handed to the ring is unusable (sizes not multiples of 8, header too small, ...).
    case invalidGeometry(ringSize: Int, headerSize: Int)
    /// The peer's index is out of range or not 8-aligned.
    case badIndex(which: RingIndex, value: UInt32)
    /// The peer's write index moved backwards over data we had not yet read.
    case writeIndexMovedBackwards(from: UInt32, to: UInt32)
    /// A descriptor failed validation (docs/PROTOCOL.md §2.3).
    case malformedDescriptor(MalformedDescriptor)
    /// A previous corruption put this ring in the failed state; it stays failed until re-created.
    case failed
}

/// Which header index a ``RingError/badIndex(which:value:)`` is about.
public enum RingIndex: String, Sendable {
    case readIndex = "read_index"
    case writeIndex = "write_index"
}

/// The ways a descriptor can be malformed. Each is counted separately in ``RingCounters``.
public enum MalformedDescriptor: String, Sendable, CaseIterable {
    /// offset8 < 2: the payload would overlap the descriptor.
    case offsetTooSmall = "offset8 < 2"
    /// len8 < offset8: the payload would have negative length.
    case lengthBeforeOffset = "len8 < offset8"
    /// len8 * 8 + 8 is more than the bytes the writer has published.
    case lengthBeyondAvailable = "len8 beyond available bytes"
    /// Flag bits other than completion-requested are set.
    case unknownFlags = "unknown flag bits"
    /// Fewer than descriptor + trailer bytes are published but the ring is not empty.
    case truncated = "fewer than 24 bytes published"
}
