import Atomics

/// The consumer end of one ring: the guest's end of the RX ring, or the host's end of the TX ring.
///
/// Every packet is copied out of shared memory before it is used: the descriptor first (validated
/// from the private copy), then the payload (docs/PROTOCOL.md §1.6, §8 Q21). The read position lives here;
/// `read_index` is published lazily: when the ring runs empty, at ``endRead()``, or after a quarter
/// of the ring, like the kernel's `hv_pkt_iter` batching.
public struct RingReader: @unchecked Sendable {
    public let ring: RingBuffer
    /// Offset of the next packet to read (private; published as `read_index`).
    @usableFromInline var readPosition: UInt32
    /// The peer's `write_index` as last seen (validated).
    @usableFromInline var cachedWriteIndex: UInt32
    /// The value last stored in the header's `read_index`.
    @usableFromInline var publishedReadIndex: UInt32
    /// Publish `read_index` early once this many bytes are consumed but unpublished.
    @usableFromInline let publishThreshold: UInt32
    /// Ring bytes consumed since the last pending_send_sz check (docs/PROTOCOL.md §1.6 step 6d).
    @usableFromInline var consumedSinceCheck: UInt32 = 0
    /// Whether we have set `interrupt_mask` = 1 (we are draining).
    @usableFromInline var masked: Bool
    /// Signal policy: how many extra polls of `write_index` ``endRead()`` makes while still masked,
    /// before it unmasks. A writer that streams finds the mask set and need not signal, so signals
    /// per message stay near 0; sparse traffic pays at most this bounded poll (no added latency:
    /// data that arrives during the poll is taken at once). 0 = off.
    public var idleSpin: Int = 0
    /// Set on the first corruption; every later call throws ``RingCorruption/failed``.
    public var isFailed: Bool { failed }
    @usableFromInline var failed = false
    /// Packets, bytes, signal decisions and corruptions seen by this end.
    public var counters: RingCounters { stats }
    @usableFromInline var stats = RingCounters()

    /// Attaches to an existing, formatted ring, taking the read position from the header.
    public init(ring: RingBuffer) throws(RingError) {
        let r = ring.header.readIndex.load(ordering: .relaxed)
        let w = ring.header.writeIndex.load(ordering: .acquiring)
        guard ring.isValidIndex(r) else { throw .corrupt(.badIndex(which: .readIndex, value: r)) }
        guard ring.isValidIndex(w) else { throw .corrupt(.badIndex(which: .writeIndex, value: w)) }
        self.ring = ring
        self.readPosition = r
        self.publishedReadIndex = r
        self.cachedWriteIndex = w
        self.publishThreshold = max(ring.dataSize / 4, 8)
        self.masked = ring.header.interruptMask.load(ordering: .relaxed) != 0
    }

    /// Offset of the next packet to be read.
    public var nextPacketOffset: UInt32 { readPosition }

    /// Reads one packet, copying its payload (padded to 8) to the start of `buffer`.
    ///
    /// - Returns: the validated descriptor (the payload is `descriptor.paddedPayloadLength` bytes), or
    ///   `nil` when the ring is empty (then `read_index` is published).
    /// - Throws: ``RingError/bufferTooSmall(needed:)`` (the packet stays in the ring);
    ///   ``RingError/corrupt(_:)`` (bad `write_index`, malformed descriptor), which fails the ring for good.
    @inlinable @inline(__always)
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(RingError) -> PacketDescriptor? {
        if _slowPath(failed) { throw .corrupt(.failed) }
        let r = readPosition
        var w = cachedWriteIndex
        if r == w {
            w = ring.header.writeIndex.load(ordering: .acquiring)
            if w == r {
                publishReadIndex()
                return nil
            }
            guard ring.isValidIndex(w) else { throw fail(.badIndex(which: .writeIndex, value: w)) }
            cachedWriteIndex = w
        }
        let available = Int(ring.bytesToRead(read: r, write: w))
        guard available >= RingLayout.descriptorSize + RingLayout.trailerSize else { throw malformed(.truncated) }

        // Copy the descriptor out; from here on only the private copy is looked at.
        let word0: UInt64
        let word1: UInt64
        if _fastPath(Int(r) &+ RingLayout.descriptorSize <= Int(ring.dataSize)) {
            let p = UnsafeRawPointer(ring.data + Int(r))
            word0 = p.loadUnaligned(as: UInt64.self)
            word1 = p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        } else {
            var copy: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &copy) { ring.copyOut(at: r, to: $0.baseAddress!, count: RingLayout.descriptorSize) }
            (word0, word1) = copy
        }
        let descriptor = PacketDescriptor(word0: UInt64(littleEndian: word0), word1: UInt64(littleEndian: word1))
        let offset = Int(descriptor.dataOffset8) &* 8
        let packetLength = Int(descriptor.length8) &* 8
        guard offset >= RingLayout.descriptorSize else { throw malformed(.offsetTooSmall) }
        guard packetLength >= offset else { throw malformed(.lengthBeforeOffset) }
        guard packetLength &+ RingLayout.trailerSize <= available else { throw malformed(.lengthBeyondAvailable) }
        guard descriptor.flags & ~PacketDescriptor.flagCompletionRequested == 0 else { throw malformed(.unknownFlags) }
        let count = packetLength &- offset
        guard count <= buffer.count else { throw .bufferTooSmall(needed: count) }
        if count > 0, let destination = buffer.baseAddress {
            if _fastPath(Int(r) &+ packetLength <= Int(ring.dataSize)) {
                RingBuffer.copy(to: destination, from: ring.data + (Int(r) &+ offset), count: count)
            } else {
                ring.copyOut(at: ring.advance(r, by: UInt32(offset)), to: destination, count: count)
            }
        }

        let consumed = UInt32(truncatingIfNeeded: packetLength &+ RingLayout.trailerSize)
        let next = ring.advance(r, by: consumed)
        readPosition = next
        consumedSinceCheck &+= consumed
        stats.packets &+= 1
        stats.payloadBytes &+= UInt64(count)
        if _slowPath(ring.bytesToRead(read: publishedReadIndex, write: next) >= publishThreshold) {
            ring.header.readIndex.store(next, ordering: .releasing)
            publishedReadIndex = next
        }
        return descriptor
    }

    /// Stores `read_index` if it changed. Release: every packet byte was copied out before the writer
    /// may reuse the space.
    @inlinable
    public mutating func publishReadIndex() {
        if publishedReadIndex != readPosition {
            ring.header.readIndex.store(readPosition, ordering: .releasing)
            publishedReadIndex = readPosition
        }
    }

    /// Tells the writer it need not signal while we drain (`interrupt_mask` = 1).
    @inlinable
    public mutating func beginRead() {
        if !masked {
            ring.header.interruptMask.store(1, ordering: .relaxed)
            masked = true
        }
    }

    /// What ``endRead()`` found.
    public struct EndOfBatch: Equatable, Sendable {
        /// Data is already waiting: keep draining instead of sleeping.
        public var moreData: Bool
        /// A writer blocked on `pending_send_sz` now has room: signal it (docs/PROTOCOL.md §1.6 step 6).
        public var signalWriter: Bool
    }

    /// Ends a drain batch: publishes `read_index`, runs the pending-send rule, and re-arms interrupts
    /// without losing a wake-up (store `interrupt_mask` = 0, full fence, re-check `write_index`; Linux
    /// `hv_end_read`).
    ///
    /// Fast path: when data is already visible and no writer waits, the mask stays set and nothing
    /// is written. Otherwise, with ``idleSpin`` > 0, it polls a bounded number of times while still
    /// masked before unmasking.
    @inlinable @inline(__always)
    public mutating func endRead() throws(RingError) -> EndOfBatch {
        if _slowPath(failed) { throw .corrupt(.failed) }
        let header = ring.header
        let flowControl = header.pendingSendSizeSupported
        publishReadIndex()
        var w: UInt32
        if masked {
            w = header.writeIndex.load(ordering: .acquiring)
            if w != readPosition && !(flowControl && header.pendingSendSize.load(ordering: .relaxed) != 0) {
                return try refresh(w, moreData: true, signalWriter: false)
            }
            var polls = idleSpin
            while w == readPosition && polls > 0 {
                w = header.writeIndex.load(ordering: .acquiring)
                polls &-= 1
            }
            if w != readPosition && !(flowControl && header.pendingSendSize.load(ordering: .relaxed) != 0) {
                return try refresh(w, moreData: true, signalWriter: false)
            }
            _ = header.interruptMask.exchange(0, ordering: .sequentiallyConsistent) // store + full fence
            masked = false
        } else {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }
        w = header.writeIndex.load(ordering: .sequentiallyConsistent)
        var signal = false
        if flowControl {
            let pending = header.pendingSendSize.load(ordering: .sequentiallyConsistent)
            let consumed = consumedSinceCheck
            consumedSinceCheck = 0
            if pending != 0, ring.isValidIndex(w) {
                // docs/PROTOCOL.md §1.6: cur = bytes_to_write now. Signal iff the writer was blocked before this batch
                // (cur - consumed <= p) and now has room (cur > p).
                let current = ring.bytesToWrite(read: readPosition, write: w)
                let before = current >= consumed ? current - consumed : 0
                signal = current > pending && before <= pending
            }
        }
        if signal { stats.signalsNeeded &+= 1 }
        return try refresh(w, moreData: w != readPosition, signalWriter: signal)
    }

    /// Validates a `write_index` seen at the end of a batch and caches it. The writer can only add
    /// data: if the unread span shrank, the index moved backwards and the ring is corrupt.
    @usableFromInline
    mutating func refresh(_ w: UInt32, moreData: Bool, signalWriter: Bool) throws(RingError) -> EndOfBatch {
        guard ring.isValidIndex(w) else { throw fail(.badIndex(which: .writeIndex, value: w)) }
        let r = readPosition
        if cachedWriteIndex != r, ring.bytesToRead(read: r, write: w) < ring.bytesToRead(read: r, write: cachedWriteIndex) {
            throw fail(.writeIndexMovedBackwards(from: cachedWriteIndex, to: w))
        }
        cachedWriteIndex = w
        return EndOfBatch(moreData: moreData, signalWriter: signalWriter)
    }

    /// Cheap emptiness check for a polling reader (no fences).
    @inlinable
    public var isEmpty: Bool {
        ring.header.writeIndex.load(ordering: .relaxed) == readPosition
    }

    @usableFromInline
    mutating func fail(_ corruption: RingCorruption) -> RingError {
        failed = true
        stats.badIndices &+= 1
        return .corrupt(corruption)
    }

    @usableFromInline
    mutating func malformed(_ kind: MalformedDescriptor) -> RingError {
        failed = true
        stats[kind] &+= 1
        return .corrupt(.malformedDescriptor(kind))
    }
}
