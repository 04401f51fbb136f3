import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// One end of a VMBus channel: an outbound ring, an inbound ring, and a doorbell.
///
/// The same type serves the guest (the agent) and the host (the simulator), so the simulator is not a
/// second ring implementation. Memory layout is uio_hv_generic's map 0: the guest->host (TX) ring at
/// offset 0, the host->guest (RX) ring at `ringSize`. A guest end writes the first and reads the
/// second; a host end the reverse.
///
/// Not thread-safe: one thread drives a channel end. Usage per batch (docs/PROTOCOL.md §3.8):
/// ```
/// while true {
///     try channel.receiveBatch { descriptor, payload in ... try channel.send(reply) }
///     if try channel.finishBatch() { continue }   // more data already waiting
///     _ = try channel.waitForSignal(timeoutMilliseconds: -1)
/// }
/// ```
public final class VMBusChannel {
    /// Which rings this end writes and reads.
    public enum Role: Sendable {
        /// Writes the first (TX) ring, reads the second (RX) ring.
        case guest
        /// Writes the second (RX) ring, reads the first (TX) ring.
        case host
    }

    public let role: Role
    public let memory: SharedMemoryRegion
    public let doorbell: any ChannelDoorbell
    /// Size of each ring (header + data).
    public let ringSize: Int
    // `@exclusivity(unchecked)`: one thread drives a channel end (above), and no access to these
    // spans a call back into the channel, so the dynamic exclusivity checks (a runtime call per
    // access, ~24 per request/reply) only cost time on the per-message path (docs/PERFORMANCE.md,
    // "Integration services"). The compiler still checks what it can statically.
    @exclusivity(unchecked) public private(set) var outbound: RingWriter
    @exclusivity(unchecked) public private(set) var inbound: RingReader
    /// Private copy of the packet being handled; as large as the inbound data area, so any
    /// well-formed packet fits.
    private let receiveBuffer: UnsafeMutableRawBufferPointer
    /// Something we wrote since the last signal needs the peer to be woken.
    @exclusivity(unchecked) private var signalOwed = false
    /// The first error that failed the channel, if any.
    @exclusivity(unchecked) public private(set) var failure: ChannelError?

    /// Signals sent to the peer.
    @exclusivity(unchecked) public private(set) var signalsSent: UInt64 = 0

    /// - Parameters:
    ///   - memory: at least `2 * ringSize` bytes, already formatted by the channel's creator.
    ///   - ringSize: size of each ring, header included (uio: map 0 size / 2).
    ///   - headerSize: the header page size (the system page size under uio).
    ///   - idleSpin: the reader's masked-poll policy (see ``RingReader/idleSpin``).
    public init(
        memory: SharedMemoryRegion, ringSize: Int, headerSize: Int, doorbell: any ChannelDoorbell, role: Role,
        idleSpin: Int = VMBusChannel.defaultIdleSpin
    ) throws(ChannelError) {
        guard ringSize > 0, memory.byteCount >= 2 * ringSize else {
            throw .invalidConfiguration("mapping of \(memory.byteCount) bytes cannot hold two rings of \(ringSize)")
        }
        let first = memory.baseAddress
        let second = memory.baseAddress + ringSize
        do {
            let tx = try RingBuffer(base: first, ringSize: ringSize, headerSize: headerSize)
            let rx = try RingBuffer(base: second, ringSize: ringSize, headerSize: headerSize)
            outbound = try RingWriter(ring: role == .guest ? tx : rx)
            inbound = try RingReader(ring: role == .guest ? rx : tx)
        } catch {
            throw .ring(error)
        }
        inbound.idleSpin = idleSpin
        self.role = role
        self.memory = memory
        self.doorbell = doorbell
        self.ringSize = ringSize
        receiveBuffer = .allocate(byteCount: Int(inbound.ring.dataSize), alignment: 16)
        // A stale mask (older kernels set it at open; a previous opener may have left it) would
        // silence the peer for good: clear it, then fence (docs/PROTOCOL.md §8 Q7).
        inbound.ring.header.interruptMask.store(0, ordering: .sequentiallyConsistent)
    }

    deinit {
        receiveBuffer.deallocate()
    }

    /// The default masked-poll budget of a channel's reader: about a microsecond of polling,
    /// which costs less than one signal (~0.3 us to send, ~21 us to wake a sleeper).
    public static let defaultIdleSpin = 256

    /// Reads every packet currently in the inbound ring. `body` sees each descriptor and a private
    /// copy of its payload (padded to 8), valid only during the call.
    /// - Returns: the number of packets handled.
    /// - Throws: ``ChannelError/ring(_:)`` (a corruption fails the channel) or whatever `body` throws
    ///   (the packet counts as consumed).
    @discardableResult
    public func receiveBatch(_ body: (PacketDescriptor, UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        try checkUsable()
        inbound.beginRead()
        var handled = 0
        while true {
            let descriptor: PacketDescriptor?
            do {
                descriptor = try inbound.read(into: receiveBuffer)
            } catch {
                throw recordIfCorrupt(.ring(error))
            }
            guard let descriptor else { return handled }
            handled += 1
            try body(descriptor, UnsafeRawBufferPointer(rebasing: receiveBuffer[..<descriptor.paddedPayloadLength]))
        }
    }

    /// Appends one packet to the outbound ring. The peer is signalled by ``flush()`` or
    /// ``finishBatch()``, at most once per batch.
    /// - Throws: ``ChannelError/ring(_:)`` with ``RingError/ringFull`` when there is no room now (try
    ///   later), with ``RingError/packetTooLarge(payloadLength:)`` for a packet that never fits (the
    ///   channel stays usable), or with ``RingError/corrupt(_:)`` (the channel is failed).
    public func send(
        _ payload: UnsafeRawBufferPointer, type: UInt16 = PacketType.dataInBand, flags: UInt16 = 0,
        transactionID: UInt64 = 0
    ) throws(ChannelError) {
        try checkUsable()
        do {
            if try outbound.write(payload, type: type, flags: flags, transactionID: transactionID) {
                signalOwed = true
            }
        } catch {
            throw recordIfCorrupt(.ring(error))
        }
    }

    /// Sends, waiting for room while the outbound ring is full (docs/PROTOCOL.md §1.6, writer side): announces the
    /// needed size in `pending_send_sz`, signals what was already written, and sleeps until the peer
    /// signals that it consumed enough.
    ///
    /// A signal that arrives while waiting here is consumed; a receive loop loses nothing by that,
    /// because it always re-checks the ring itself (``finishBatch()``) before it sleeps.
    /// - Returns: `false` if there was still no room after `timeoutMilliseconds`.
    public func send(
        _ payload: UnsafeRawBufferPointer, type: UInt16 = PacketType.dataInBand, flags: UInt16 = 0,
        transactionID: UInt64 = 0, waitingUpTo timeoutMilliseconds: Int32
    ) throws(ChannelError) -> Bool {
        var announced = false
        defer { if announced { outbound.clearPendingSend() } }
        var waited: Int32 = 0
        while true {
            do {
                try send(payload, type: type, flags: flags, transactionID: transactionID)
                return true
            } catch .ring(.ringFull) {
                try flush()
                let room: Bool
                do {
                    room = try outbound.announcePendingSend(payloadLength: payload.count)
                } catch {
                    throw recordIfCorrupt(.ring(error))
                }
                announced = true
                if room { continue }
                if waited >= timeoutMilliseconds && timeoutMilliseconds >= 0 { return false }
                let slice: Int32 = timeoutMilliseconds < 0 ? 1000 : min(100, timeoutMilliseconds - waited)
                _ = try waitForSignal(timeoutMilliseconds: slice)
                waited += slice
            }
        }
    }

    /// Convenience for byte arrays.
    public func send(
        _ payload: [UInt8], type: UInt16 = PacketType.dataInBand, flags: UInt16 = 0, transactionID: UInt64 = 0
    ) throws(ChannelError) {
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(ChannelError) in try send(raw, type: type, flags: flags, transactionID: transactionID) }
        }
        try result.get()
    }

    /// Signals the peer if anything sent since the last signal needs it.
    public func flush() throws(ChannelError) {
        if signalOwed {
            signalOwed = false
            signalsSent += 1
            try doorbell.signalPeer()
        }
    }

    /// Ends a receive batch: signals the peer for what the batch sent, then publishes the read
    /// index, runs the pending-send rule and re-arms the inbound interrupt without losing a
    /// wake-up.
    ///
    /// The signal for the batch's replies goes out *before* ``RingReader/endRead()``, whose
    /// masked poll (``RingReader/idleSpin``) would otherwise hold every reply's signal back by
    /// the length of the poll: on a request/reply channel that poll is pure added round-trip
    /// latency (docs/PERFORMANCE.md, "Integration services"). The read index was already
    /// published when the ring ran empty, so the peer sees the freed space with that signal; a
    /// peer blocked on `pending_send_sz` that still needs one after the batch gets a second
    /// (rare: only when it found the ring full).
    /// - Returns: `true` when data is already waiting (drain again instead of sleeping).
    public func finishBatch() throws(ChannelError) -> Bool {
        try checkUsable()
        try flush()
        let end: RingReader.EndOfBatch
        do {
            end = try inbound.endRead()
        } catch {
            throw recordIfCorrupt(.ring(error))
        }
        if end.signalWriter { signalOwed = true }
        try flush()
        return end.moreData
    }

    /// Waits until the peer signals, or the timeout (ms; -1 = forever) passes. A signal delivered
    /// meanwhile restarts the wait with the whole timeout.
    /// - Returns: `false` on timeout.
    public func waitForSignal(timeoutMilliseconds: Int32) throws(ChannelError) -> Bool {
        var fds = pollfd(fd: doorbell.pollDescriptor, events: Int16(POLLIN), revents: 0)
        let n: Int32
        do {
            n = try retryingOnInterrupt("poll") { poll(&fds, 1, timeoutMilliseconds) }
        } catch {
            throw .system(error)
        }
        if n == 0 { return false }
        try acknowledgeSignal(revents: fds.revents)
        return true
    }

    /// Consumes the peer's signal after an event loop's own poll reported `revents` for
    /// ``pollDescriptor``, without polling again (one system call less per wake-up on the
    /// request/reply path, docs/PERFORMANCE.md). Error or hang-up without data means the channel
    /// is gone (rescinded). A loop that watches the doorbell edge-triggered calls
    /// ``checkHangUp(revents:)`` instead.
    public func acknowledgeSignal(revents: Int16) throws(ChannelError) {
        if revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && revents & Int16(POLLIN) == 0 {
            throw recordFailure(.rescinded)
        }
        guard revents & Int16(POLLIN) != 0 else { return }
        do {
            try doorbell.acknowledge()
        } catch {
            throw recordFailure(error)
        }
    }

    /// For a loop that watches ``pollDescriptor`` edge-triggered (the agent's, the simulated
    /// host's): a signal needs nothing consumed, every one wakes the loop anew; an error or
    /// hang-up is looked at by reading the doorbell, since a rescinded uio device's poll sets
    /// every bit, IN included, and only its read says EIO (docs/PROTOCOL.md §3.4).
    public func checkHangUp(revents: Int16) throws(ChannelError) {
        if revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { try acknowledgeSignal(revents: revents) }
    }

    /// The descriptor an event loop polls for this channel (readable when the peer signalled).
    public var pollDescriptor: Int32 { doorbell.pollDescriptor }

    /// The reader's masked-poll budget at the end of a batch (``RingReader/idleSpin``); 0 for a
    /// channel whose peer never has a second packet on the way while we answer the first.
    public var idleSpin: Int {
        get { inbound.idleSpin }
        set { inbound.idleSpin = newValue }
    }

    /// Whether the peer has consumed everything this end wrote.
    public var outboundDrained: Bool { outbound.isDrained }

    private func checkUsable() throws(ChannelError) {
        if let failure { throw failure }
    }

    private func recordFailure(_ error: ChannelError) -> ChannelError {
        if failure == nil { failure = error }
        return error
    }

    /// Fails the channel for a corruption; "try later" and the caller's own mistakes leave it usable.
    private func recordIfCorrupt(_ error: ChannelError) -> ChannelError {
        error.isCorruption ? recordFailure(error) : error
    }
}
