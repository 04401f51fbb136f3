// ring-peer: hvagent's ring (RingTransport's RingWriter and RingReader) as the other end of a
// channel file, for the interop test against DPDK's own VMBus ring code (scripts/dpdk-interop.sh,
// ../shared/peers/dpdk-vmbus). Same channel file, command line subset, payload pattern and packet
// lines as the C reference's `ringref-peer`, so its output compares line for line with
// `dpdk-vmbus-peer`'s (`grep ' pkt ' | cut -d' ' -f2-`). A test tool, not linked into the daemon.
//
// The reader drains the way the agent's channel does (beginRead, read until empty, endRead with
// the channel's masked-poll budget) and, like ringref-peer built with VMB_CHECK_TRAILER, marks a
// packet BAD unless its trailer holds its start offset in the upper 32 bits.
// Exit status: 0 done (a writer stopping on a full ring included), 1 a BAD packet or a ring
// error, 2 the channel file is unusable.
import RingTransport

#if canImport(Glibc)
import Glibc
#endif

/// Writes `count` packets (sizes cycled, payload pattern of their sequence number).
func writePackets(_ options: PeerOptions, ring: RingBuffer) throws(RingError) -> Int32 {
    var writer = try RingWriter(ring: ring)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    let count = options.count ?? 1
    var seq = options.seq
    var sent = 0, signals = 0
    var stop: RingError?
    while sent < count {
        let length = options.sizes[sent % options.sizes.count]
        TestPattern.fill(buffer, seq: seq, count: length)
        let payload = UnsafeRawBufferPointer(rebasing: buffer[..<length])
        let start = writer.nextPacketOffset
        do {
            if try writer.write(payload, type: options.type, flags: options.flags, transactionID: seq) { signals += 1 }
        } catch {
            stop = error
            break
        }
        print(TestPattern.line(
            who: "hv-tx", seq: seq, type: options.type, flags: options.flags, offset8: 2,
            length8: UInt16(truncatingIfNeeded: (16 + length + 7) / 8), start: start, dataSize: ring.dataSize, length: length,
            hash: TestPattern.fnv(payload), ok: true))
        seq &+= 1
        sent += 1
    }
    if stop == .ringFull && options.setPending {
        let room = try writer.announcePendingSend(payloadLength: options.sizes[sent % options.sizes.count])
        print("hv-tx pending_send_sz=\(ring.header.pendingSendSize.load(ordering: .relaxed)) room_now=\(room ? 1 : 0)")
    }
    let stopText = stop.map(stopWord) ?? "count"
    print("hv-tx sent=\(sent) signals=\(signals) stop=\(stopText) "
        + "write_index=\(ring.header.writeIndex.load(ordering: .relaxed)) read_index=\(ring.header.readIndex.load(ordering: .relaxed))")
    return stop == nil || stop == .ringFull ? 0 : 1
}

/// Reads until the ring is empty (or `count` packets), checking each against the pattern of its
/// transaction id, then ends the batch as the agent does.
func readPackets(_ options: PeerOptions, ring: RingBuffer) throws(RingError) -> Int32 {
    var reader = try RingReader(ring: ring)
    reader.idleSpin = VMBusChannel.defaultIdleSpin
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(ring.dataSize), alignment: 16)
    defer { buffer.deallocate() }
    var received = 0, bad = 0
    var failure: RingError?
    reader.beginRead()
    while options.count.map({ received < $0 }) ?? true {
        let start = reader.nextPacketOffset
        let descriptor: PacketDescriptor
        do {
            guard let next = try reader.read(into: buffer) else { break }
            descriptor = next
        } catch {
            failure = error
            break
        }
        // The trailer is still in the ring: nothing else writes it while this peer runs.
        var trailer: UInt64 = 0
        withUnsafeMutableBytes(of: &trailer) {
            guard let base = $0.baseAddress else { return }
            ring.copyOut(at: ring.advance(start, by: UInt32(descriptor.length8) * 8), to: base, count: RingLayout.trailerSize)
        }
        let padded = UnsafeRawBufferPointer(rebasing: buffer[..<descriptor.paddedPayloadLength])
        let (length, patternOK) = TestPattern.check(padded, seq: descriptor.transactionID)
        let ok = patternOK && UInt64(littleEndian: trailer) >> 32 == UInt64(start)
        if !ok { bad += 1 }
        print(TestPattern.line(
            who: "hv-rx", seq: descriptor.transactionID, type: descriptor.type, flags: descriptor.flags,
            offset8: descriptor.dataOffset8, length8: descriptor.length8, start: start, dataSize: ring.dataSize,
            length: length, hash: TestPattern.fnv(UnsafeRawBufferPointer(rebasing: padded[..<length])), ok: ok))
        received += 1
    }
    var signals = 0
    if failure == nil {
        do {
            if try reader.endRead().signalWriter { signals = 1 }
        } catch {
            failure = error
        }
    }
    let stopText = failure.map(stopWord) ?? (options.count == received ? "count" : "empty")
    print("hv-rx received=\(received) bad=\(bad) signals=\(signals) stop=\(stopText) "
        + "write_index=\(ring.header.writeIndex.load(ordering: .relaxed)) read_index=\(ring.header.readIndex.load(ordering: .relaxed))")
    return bad == 0 && failure == nil ? 0 : 1
}

/// The summary line's `stop=` word for what ended the loop (one word, so the line stays easy to
/// match); anything but a full ring is also written out in full to standard error.
func stopWord(_ error: RingError) -> String {
    if error != .ringFull { warn("ring-peer: \(error)\n") }
    return switch error {
    case .ringFull: "full"
    case .packetTooLarge: "too-large"
    case .bufferTooSmall: "buffer-too-small"
    case .invalidGeometry: "bad-geometry"
    case .corrupt: "corrupt"
    }
}

let options = PeerOptions(Array(CommandLine.arguments.dropFirst()))
do {
    switch options.command {
    case .initialize(let ringBytes):
        _ = try ChannelFile.create(path: options.file, ringBytes: ringBytes)
        print("init \(options.file) ring_bytes=\(ringBytes) dsize=\(ringBytes - ChannelFile.headerSize)")
        exit(0)
    case .read, .write:
        // The mapping lives as long as `channel`; the ring only points into it.
        let channel = try ChannelFile.attach(path: options.file)
        let status = try withExtendedLifetime(channel) { () throws(RingError) -> Int32 in
            let ring = try channel.ring(options.half)
            if case .read = options.command { return try readPackets(options, ring: ring) }
            return try writePackets(options, ring: ring)
        }
        exit(status)
    }
} catch {
    warn("ring-peer: \(error)\n")
    exit(2)
}
