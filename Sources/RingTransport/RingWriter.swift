import Atomics

/// The producer end of one ring: the guest's end of the TX ring, or the host's end of the RX ring.
///
/// Single producer. The write position lives here and is only *published* to the header, so a peer
/// that scribbles over `write_index` cannot make us write anywhere unexpected. The peer's `read_index`
/// is cached and reloaded only when the cached free space is not enough, which keeps the shared header
/// cache line quiet.
public struct RingWriter: @unchecked Sendable {
    public let ring: RingBuffer
    /// Where the next packet starts (the value last published as `write_index`).
    @usableFromInline var writePosition: UInt32
    /// The peer's `read_index` as last seen (always a validated value).
    @usableFromInline var cachedReadIndex: UInt32
    /// Set on the first corruption seen; every later call throws ``RingCorruption/failed``.
    public var isFailed: Bool { failed }
    @usableFromInline var failed = false
    /// Packets, bytes, signal decisions and corruptions seen by this end.
    public var counters: RingCounters { stats }
    @usableFromInline var stats = RingCounters()

    /// Attaches to an existing, formatted ring, taking the write position from the header.
    public init(ring: RingBuffer) throws(RingError) {
        let w = ring.header.writeIndex.load(ordering: .relaxed)
        let r = ring.header.readIndex.load(ordering: .acquiring)
        guard ring.isValidIndex(w) else { throw .corrupt(.badIndex(which: .writeIndex, value: w)) }
        guard ring.isValidIndex(r) else { throw .corrupt(.badIndex(which: .readIndex, value: r)) }
        self.ring = ring
        self.writePosition = w
        self.cachedReadIndex = r
    }

    /// The offset at which the next packet will start.
    public var nextPacketOffset: UInt32 { writePosition }

    /// Writes one packet: descriptor, payload, zero pad to 8, trailer (`start << 32`), then publishes
    /// `write_index` (docs/PROTOCOL.md §1.5).
    ///
    /// - Returns: `true` when the reader must be signalled: the ring was empty before this packet and
    ///   the reader has not masked interrupts. The caller signals (once per batch is enough).
    /// - Throws: ``RingError/ringFull`` when the free space is not strictly greater than the packet
    ///   (nothing is written); ``RingError/packetTooLarge(payloadLength:)`` when it can never fit;
    ///   ``RingError/corrupt(_:)`` with ``RingCorruption/badIndex(which:value:)`` when the peer's
    ///   `read_index` is corrupt.
    @inlinable @inline(__always)
    public mutating func write(
        _ payload: UnsafeRawBufferPointer,
        type: UInt16 = PacketType.dataInBand,
        flags: UInt16 = 0,
        transactionID: UInt64 = 0
    ) throws(RingError) -> Bool {
        if _slowPath(failed) { throw .corrupt(.failed) }
        let length = payload.count
        let padded = (length &+ 7) & ~7
        let packetLength = RingLayout.descriptorSize &+ padded
        let total = packetLength &+ RingLayout.trailerSize
        guard _fastPath(total < Int(ring.dataSize) && packetLength >> 3 <= 0xFFFF) else {
            throw .packetTooLarge(payloadLength: length)
        }
        let w = writePosition
        var r = cachedReadIndex
        if _slowPath(Int(ring.bytesToWrite(read: r, write: w)) <= total) {
            r = ring.header.readIndex.load(ordering: .acquiring)
            guard ring.isValidIndex(r) else { throw fail(.badIndex(which: .readIndex, value: r)) }
            cachedReadIndex = r
            if Int(ring.bytesToWrite(read: r, write: w)) <= total {
                stats.ringFull &+= 1
                throw .ringFull
            }
        }

        let word0 = PacketDescriptor(
            type: type, dataOffset8: UInt16(RingLayout.descriptorSize >> 3),
            length8: UInt16(truncatingIfNeeded: packetLength >> 3), flags: flags, transactionID: transactionID
        ).word0
        let trailer = UInt64(w) << 32
        if _fastPath(Int(w) &+ total <= Int(ring.dataSize)) {
            // Contiguous: straight-line stores and one payload copy.
            let p = ring.data + Int(w)
            p.storeBytes(of: word0.littleEndian, as: UInt64.self)
            p.storeBytes(of: transactionID.littleEndian, toByteOffset: 8, as: UInt64.self)
            if padded != length {
                // Zero the last 8-byte word first; the payload then overwrites its head.
                p.storeBytes(of: UInt64(0), toByteOffset: packetLength &- 8, as: UInt64.self)
            }
            if let source = payload.baseAddress, length > 0 {
                RingBuffer.copy(to: p + RingLayout.descriptorSize, from: source, count: length)
            }
            p.storeBytes(of: trailer.littleEndian, toByteOffset: packetLength, as: UInt64.self)
        } else {
            writeWrapped(at: w, word0: word0, transactionID: transactionID, payload: payload, padded: padded, trailer: trailer)
        }

        let next = ring.advance(w, by: UInt32(truncatingIfNeeded: total))
        writePosition = next
        stats.packets &+= 1
        stats.payloadBytes &+= UInt64(length)
        // Publish. The sequentially consistent exchange is the release store of the index *and* the
        // full (store->load) fence the signal decision needs, in one locked instruction.
        _ = ring.header.writeIndex.exchange(next, ordering: .sequentiallyConsistent)
        if ring.header.interruptMask.load(ordering: .sequentiallyConsistent) != 0 { return false }
        r = ring.header.readIndex.load(ordering: .sequentiallyConsistent)
        guard ring.isValidIndex(r) else { throw fail(.badIndex(which: .readIndex, value: r)) }
        cachedReadIndex = r
        if r == w {
            stats.signalsNeeded &+= 1
            return true
        }
        return false
    }

    /// The rare path: some part of the packet straddles the end of the data area.
    @usableFromInline
    func writeWrapped(
        at w: UInt32, word0: UInt64, transactionID: UInt64, payload: UnsafeRawBufferPointer, padded: Int, trailer: UInt64
    ) {
        var descriptor = (word0.littleEndian, transactionID.littleEndian)
        withUnsafeBytes(of: &descriptor) { ring.copyIn(at: w, from: $0.baseAddress!, count: RingLayout.descriptorSize) }
        var offset = ring.advance(w, by: UInt32(RingLayout.descriptorSize))
        if let source = payload.baseAddress, payload.count > 0 {
            ring.copyIn(at: offset, from: source, count: payload.count)
            offset = ring.advance(offset, by: UInt32(payload.count))
        }
        if padded != payload.count {
            var zero: UInt64 = 0
            withUnsafeBytes(of: &zero) { ring.copyIn(at: offset, from: $0.baseAddress!, count: padded - payload.count) }
            offset = ring.advance(offset, by: UInt32(padded - payload.count))
        }
        var trailerLE = trailer.littleEndian
        withUnsafeBytes(of: &trailerLE) { ring.copyIn(at: offset, from: $0.baseAddress!, count: RingLayout.trailerSize) }
    }

    /// Flow control for a writer that got ``RingError/ringFull`` and wants to sleep: announces in
    /// `pending_send_sz` how many free bytes the packet needs, then checks again.
    ///
    /// The value is the packet's total ring bytes: Linux's reader signals once `bytes_to_write > p`,
    /// and openvmm's once `free (= bytes_to_write - 8) >= p`; both mean the packet now fits.
    /// - Returns: `true` if the space is already there (do not sleep; call ``clearPendingSend()``).
    public mutating func announcePendingSend(payloadLength: Int) throws(RingError) -> Bool {
        if failed { throw .corrupt(.failed) }
        let total = RingLayout.totalPacketSize(payloadLength: payloadLength)
        _ = ring.header.pendingSendSize.exchange(UInt32(clamping: total), ordering: .sequentiallyConsistent)
        let r = ring.header.readIndex.load(ordering: .sequentiallyConsistent)
        guard ring.isValidIndex(r) else { throw fail(.badIndex(which: .readIndex, value: r)) }
        cachedReadIndex = r
        return Int(ring.bytesToWrite(read: r, write: writePosition)) > total
    }

    /// Withdraws a pending-send announcement after the write succeeded.
    public func clearPendingSend() {
        ring.header.pendingSendSize.store(0, ordering: .relaxed)
    }

    /// Whether the reader has consumed everything written (its `read_index` equals our position).
    /// Used before acting on a shutdown request: the host must have seen our reply first.
    public var isDrained: Bool {
        ring.header.readIndex.load(ordering: .acquiring) == writePosition
    }

    @usableFromInline
    mutating func fail(_ corruption: RingCorruption) -> RingError {
        failed = true
        stats.badIndices &+= 1
        return .corrupt(corruption)
    }
}
