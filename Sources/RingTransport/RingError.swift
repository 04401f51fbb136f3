/// What can go wrong on a ring, sorted by what the caller does about it (the split openvmm's
/// `vmbus_ring` makes with its `ReadError`/`WriteError`: empty or full, versus corrupt):
///
/// - try later: ``ringFull`` (and, for a reader, an empty ring, which is not an error: `read`
///   returns `nil`). Wait for the peer's signal and retry; nothing is wrong.
/// - ``corrupt(_:)``: the peer wrote something no well-behaved peer writes. The ring end is failed
///   for good; the channel has to be opened again.
/// - the caller's own mistakes: ``packetTooLarge(payloadLength:)``, ``bufferTooSmall(needed:)``,
///   ``invalidGeometry(ringSize:headerSize:)``. The ring is fine; retrying the same call cannot help.
///
/// Every corruption comes from shared memory, so it is reported, counted and never trusted; none
/// of them traps.
public enum RingError: Error, Equatable, Sendable {
    /// Not enough free space for the packet now (the peer has not consumed yet). Retry later.
    case ringFull
    /// The packet can never fit in this ring, or its length does not fit the descriptor's u16 length8.
    case packetTooLarge(payloadLength: Int)
    /// The caller's receive buffer is smaller than the packet's payload. The packet stays in the ring.
    case bufferTooSmall(needed: Int)
    /// The geometry handed to the ring is unusable (sizes not multiples of 8, header too small, ...).
    case invalidGeometry(ringSize: Int, headerSize: Int)
    /// The peer corrupted the ring; this end stays failed until it is re-created.
    case corrupt(RingCorruption)

    /// Whether the ring end is now failed for good (reopen the channel), as opposed to "retry
    /// later" or a mistake of the caller's.
    public var isCorruption: Bool {
        if case .corrupt = self { return true }
        return false
    }
}

/// The ways a peer can corrupt a ring. Each fails the ring end that saw it and is counted in its
/// ``RingCounters``.
public enum RingCorruption: Error, Equatable, Sendable {
    /// The peer's index is out of range or not 8-aligned.
    case badIndex(which: RingIndex, value: UInt32)
    /// The peer's write index moved backwards over data we had not yet read.
    case writeIndexMovedBackwards(from: UInt32, to: UInt32)
    /// A descriptor failed validation (docs/PROTOCOL.md §2.3).
    case malformedDescriptor(MalformedDescriptor)
    /// A previous corruption put this ring in the failed state; it stays failed until re-created.
    case failed
}

/// Which header index a ``RingCorruption/badIndex(which:value:)`` is about.
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
