import Testing
@testable import RingTransport

@Suite("Signalling rules (docs/PROTOCOL.md §1.5-§1.8)")
struct SignallingTests {
    /// Writer side: signal exactly when the ring was empty before the packet and the reader has not
    /// masked interrupts.
    @Test(arguments: [(UInt32(0), true, true), (0, false, false), (1, true, false), (1, false, false)])
    func writerSignalTruthTable(mask: UInt32, emptyBefore: Bool, expectSignal: Bool) throws {
        let t = try TestRing(dataSize: 1024)
        t.setEmpty(at: 1000) // so the packet under test wraps too
        var writer = try RingWriter(ring: t.ring)
        if !emptyBefore { _ = try writer.write(pattern(0, 10).withUnsafeBytes { $0 }) }
        t.header.interruptMask.store(mask, ordering: .relaxed)
        let signal = try writer.write(pattern(1, 10).withUnsafeBytes { $0 })
        #expect(signal == expectSignal)
    }

    /// The reader's pending_send_sz rule: signal a blocked writer once, when this batch gave it room.
    struct PendingCase: CustomTestStringConvertible, Sendable {
        var name: String
        var featureBit: Bool
        var packetsBefore: Int      // 64-byte packets (40-byte payloads) in a 1024-byte ring
        var consume: Int            // packets the reader consumes in the batch
        var pendingDelta: Int?      // pending_send_sz = bytes_to_write before the batch + this (nil: 0)
        var expectSignal: Bool
        var testDescription: String { name }
    }

    static let pendingCases: [PendingCase] = [
        .init(name: "feature bit off: never signal", featureBit: false, packetsBefore: 15, consume: 15,
              pendingDelta: 8, expectSignal: false),
        .init(name: "pending 0: nobody waits", featureBit: true, packetsBefore: 15, consume: 15,
              pendingDelta: nil, expectSignal: false),
        .init(name: "writer was not blocked before the batch", featureBit: true, packetsBefore: 3, consume: 1,
              pendingDelta: -8, expectSignal: false),
        .init(name: "room appears in this batch", featureBit: true, packetsBefore: 15, consume: 1,
              pendingDelta: 8, expectSignal: true),
        .init(name: "still not enough room", featureBit: true, packetsBefore: 15, consume: 1,
              pendingDelta: 200, expectSignal: false),
        .init(name: "exactly enough is not enough (cur == p)", featureBit: true, packetsBefore: 15, consume: 1,
              pendingDelta: 64, expectSignal: false),
        .init(name: "one byte past: signal (cur == p + 1)", featureBit: true, packetsBefore: 15, consume: 1,
              pendingDelta: 63, expectSignal: true),
        .init(name: "before == p counts as blocked", featureBit: true, packetsBefore: 15, consume: 2,
              pendingDelta: 0, expectSignal: true),
    ]

    @Test(arguments: pendingCases)
    func readerPendingSendRule(_ c: PendingCase) throws {
        let t = try TestRing(dataSize: 1024)
        t.header.featureBits.store(c.featureBit ? 1 : 0, ordering: .relaxed)
        var writer = try RingWriter(ring: t.ring)
        var reader = try RingReader(ring: t.ring)
        for i in 0..<c.packetsBefore { _ = try writer.write(pattern(UInt64(i), 40).withUnsafeBytes { $0 }) }
        let free = Int(t.ring.bytesToWrite(read: 0, write: t.header.writeIndex.load(ordering: .relaxed)))
        t.header.pendingSendSize.store(c.pendingDelta.map { UInt32(free + $0) } ?? 0, ordering: .relaxed)
        var buffer = [UInt8](repeating: 0, count: 64)
        reader.beginRead()
        for _ in 0..<c.consume { _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } }
        let end = try reader.endRead()
        #expect(end.signalWriter == c.expectSignal)
        #expect(end.moreData == (c.consume < c.packetsBefore))
        // The check is per batch: a second end of batch with nothing consumed never signals again.
        #expect(try reader.endRead().signalWriter == false)
    }

    /// Writer side of pending_send_sz: announce the packet's total size, report whether room is there.
    @Test func writerAnnouncesPendingSend() throws {
        let t = try TestRing(dataSize: 256)
        var writer = try RingWriter(ring: t.ring)
        for i in 0..<7 { _ = try writer.write(pattern(UInt64(i), 8).withUnsafeBytes { $0 }) }
        #expect(throws: RingError.ringFull) { _ = try writer.write(pattern(9, 8).withUnsafeBytes { $0 }) }
        #expect(try writer.announcePendingSend(payloadLength: 8) == false)
        #expect(t.header.pendingSendSize.load(ordering: .relaxed) == 32)
        // The reader frees one packet and, by the rule, must signal.
        var reader = try RingReader(ring: t.ring)
        var buffer = [UInt8](repeating: 0, count: 64)
        _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
        #expect(try reader.endRead().signalWriter == true)
        #expect(try writer.announcePendingSend(payloadLength: 8) == true)
        _ = try writer.write(pattern(9, 8).withUnsafeBytes { $0 })
        writer.clearPendingSend()
        #expect(t.header.pendingSendSize.load(ordering: .relaxed) == 0)
    }

    /// Re-arm: end of batch on an empty ring unmasks; data that is already there keeps the mask and
    /// says "more"; the optional masked poll catches data without unmasking.
    @Test func rearmUnmasksOnlyWhenEmpty() throws {
        let t = try TestRing(dataSize: 1024)
        var writer = try RingWriter(ring: t.ring)
        var reader = try RingReader(ring: t.ring)
        var buffer = [UInt8](repeating: 0, count: 64)
        _ = try writer.write(pattern(0, 8).withUnsafeBytes { $0 })
        reader.beginRead()
        #expect(t.header.interruptMask.load(ordering: .relaxed) == 1)
        _ = try writer.write(pattern(1, 8).withUnsafeBytes { $0 })
        _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
        #expect(try reader.endRead().moreData == true)
        #expect(t.header.interruptMask.load(ordering: .relaxed) == 1)
        _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
        #expect(try reader.endRead().moreData == false)
        #expect(t.header.interruptMask.load(ordering: .relaxed) == 0)
        // After unmasking, a write into the empty ring must signal.
        #expect(try writer.write(pattern(2, 8).withUnsafeBytes { $0 }) == true)
    }
}
