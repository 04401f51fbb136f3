import Testing
@testable import RingTransport
import HVProtocol

@Suite("Ring layout and wrap-around")
struct RingLayoutTests {
    /// Every 8-byte start position of a 256-byte data area, with payload lengths that put the end of
    /// the descriptor, the payload, the pad and the trailer on every side of the wrap point.
    @Test func everyWrapPositionOfDescriptorPayloadAndTrailer() throws {
        let t = try TestRing(dataSize: 256)
        let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 63, 100, 150, 199, 200]
        var buffer = [UInt8](repeating: 0, count: 256)
        var cases = 0
        for start in stride(from: UInt32(0), to: 256, by: 8) {
            for length in lengths where RingLayout.totalPacketSize(payloadLength: length) < 256 {
                t.fillData(0xEE)
                t.setEmpty(at: start)
                var writer = try RingWriter(ring: t.ring)
                var reader = try RingReader(ring: t.ring)
                let payload = pattern(UInt64(start) + UInt64(length), length)
                let tid = UInt64(start) << 20 | UInt64(length)
                _ = try writer.write(payload.withUnsafeBytes { $0 }, type: 6, flags: 1, transactionID: tid)
                let expected = expectedPacketBytes(type: 6, flags: 1, transactionID: tid, payload: payload, start: start)
                let laid = (0..<expected.count).map { t.byte(at: Int(start), $0) }
                #expect(laid == expected, "start \(start) length \(length)")
                let total = UInt32(expected.count)
                #expect(t.header.writeIndex.load(ordering: .relaxed) == (start + total) % 256)
                let descriptor = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                #expect(descriptor == PacketDescriptor(type: 6, dataOffset8: 2, length8: UInt16((total - 8) / 8), flags: 1, transactionID: tid))
                #expect(Array(buffer[..<length]) == payload)
                #expect(buffer[length..<((length + 7) / 8 * 8)].allSatisfy { $0 == 0 })
                #expect(try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } == nil)
                #expect(t.header.readIndex.load(ordering: .relaxed) == (start + total) % 256)
                cases += 1
            }
        }
        #expect(cases == 32 * 15)
    }

    /// A packet fits only if the free space is strictly greater than it: filling the ring exactly
    /// would make write_index == read_index, which reads as empty.
    @Test(arguments: [UInt32(0), 96, 200, 248])
    func exactFullBoundary(readAt start: UInt32) throws {
        let t = try TestRing(dataSize: 256)
        t.setEmpty(at: start)
        var writer = try RingWriter(ring: t.ring)
        func free() -> UInt32 {
            t.ring.bytesToWrite(read: t.header.readIndex.load(ordering: .relaxed), write: t.header.writeIndex.load(ordering: .relaxed))
        }
        // Seven packets of 32 ring bytes (8-byte payloads) leave 32 bytes free.
        for i in 0..<7 { _ = try writer.write(pattern(UInt64(i), 8).withUnsafeBytes { $0 }) }
        #expect(free() == 32)
        // A 32-byte packet would fill the ring exactly: refused, nothing written.
        let before = t.header.writeIndex.load(ordering: .relaxed)
        #expect(throws: RingError.ringFull) { _ = try writer.write(pattern(7, 8).withUnsafeBytes { $0 }) }
        #expect(t.header.writeIndex.load(ordering: .relaxed) == before)
        #expect(writer.counters.ringFull == 1)
        // A 24-byte packet (empty payload) fits and leaves the one unusable 8-byte slot.
        _ = try writer.write(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(free() == 8)
        #expect(t.header.writeIndex.load(ordering: .relaxed) != t.header.readIndex.load(ordering: .relaxed))
        #expect(throws: RingError.ringFull) { _ = try writer.write(UnsafeRawBufferPointer(start: nil, count: 0)) }
        // Every packet reads back, in order.
        var reader = try RingReader(ring: t.ring)
        var buffer = [UInt8](repeating: 0, count: 64)
        for i in 0..<7 {
            let d = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            #expect(d?.paddedPayloadLength == 8)
            #expect(Array(buffer[..<8]) == pattern(UInt64(i), 8))
        }
        #expect(try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }?.paddedPayloadLength == 0)
        #expect(try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } == nil)
        #expect(free() == 256)
    }

    @Test func packetThatCanNeverFitIsRefused() throws {
        let t = try TestRing(dataSize: 256)
        var writer = try RingWriter(ring: t.ring)
        let big = [UInt8](repeating: 0, count: 232) // 16 + 232 + 8 = 256 = the whole data area
        #expect(throws: RingError.packetTooLarge(payloadLength: 232)) { _ = try writer.write(big.withUnsafeBytes { $0 }) }
        _ = try writer.write([UInt8](repeating: 0, count: 224).withUnsafeBytes { $0 }) // 248 < 256: fits an empty ring
    }

    @Test func smallReceiveBufferLeavesThePacketInTheRing() throws {
        let t = try TestRing(dataSize: 256)
        var writer = try RingWriter(ring: t.ring)
        var reader = try RingReader(ring: t.ring)
        _ = try writer.write(pattern(1, 40).withUnsafeBytes { $0 })
        var small = [UInt8](repeating: 0, count: 16)
        #expect(throws: RingError.bufferTooSmall(needed: 40)) { _ = try small.withUnsafeMutableBytes { try reader.read(into: $0) } }
        var big = [UInt8](repeating: 0, count: 64)
        #expect(try big.withUnsafeMutableBytes { try reader.read(into: $0) }?.paddedPayloadLength == 40)
        #expect(Array(big[..<40]) == pattern(1, 40))
    }

    @Test func geometryIsValidated() throws {
        let memory = try SharedMemoryRegion(anonymousByteCount: 8192)
        #expect(throws: RingError.self) { _ = try RingBuffer(base: memory.baseAddress, ringSize: 8192, headerSize: 2048) }
        #expect(throws: RingError.self) { _ = try RingBuffer(base: memory.baseAddress, ringSize: 4096 + 60, headerSize: 4096) }
        #expect(throws: RingError.self) { _ = try RingBuffer(base: memory.baseAddress + 4, ringSize: 8000, headerSize: 4096) }
        // Data sizes need not be powers of two (pre-0315fef2aff9 uio rings have 0x1FF000).
        let odd = try RingBuffer(base: memory.baseAddress, ringSize: 4096 + 3000, headerSize: 4096)
        #expect(odd.dataSize == 3000)
        #expect(odd.advance(2992, by: 16) == 8)
    }

    @Test func descriptorEncodingRoundTrips() {
        let d = PacketDescriptor(type: 0x6, dataOffset8: 2, length8: 0x1234, flags: 1, transactionID: 0x0102_0304_0506_0708)
        #expect(d.bytes == [6, 0, 2, 0, 0x34, 0x12, 1, 0, 8, 7, 6, 5, 4, 3, 2, 1])
        #expect(PacketDescriptor(word0: d.word0, word1: d.transactionID) == d)
    }

    @Test func guidTextAndWireForms() throws {
        let ts = try #require(VMBusGUID("9527e630-d0ae-497b-adce-e80ab0175caf"))
        // modalias byte order: first three fields little-endian (docs/PROTOCOL.md §4.3).
        #expect(ts.bytes.map { String(format: "%02x", $0) }.joined() == "30e62795aed07b49adcee80ab0175caf")
        #expect(ts.description == "9527e630-d0ae-497b-adce-e80ab0175caf")
        #expect(VMBusGUID("{9527E630-D0AE-497B-ADCE-E80AB0175CAF}") == ts)
        #expect(VMBusGUID("9527e630-d0ae-497b-adce-e80ab0175ca") == nil)
        #expect(VMBusGUID("9527e630-d0ae-497b-adce-e80ab0175cag") == nil)
    }
}

import Foundation
