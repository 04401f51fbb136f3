import TestSupport
import Testing
@testable import RingTransport

@Suite("Malformed rings: typed errors, counters, failed state, no out-of-bounds access")
struct MalformedRingTests {
    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }

    /// Forges a descriptor at `offset` and publishes `published` bytes.
    func forge(_ t: TestRing, at offset: UInt32, offset8: UInt16, len8: UInt16, flags: UInt16 = 0, published: UInt32) {
        t.setEmpty(at: offset)
        t.poke(le16(6) + le16(offset8) + le16(len8) + le16(flags) + [UInt8](repeating: 0, count: 8), at: Int(offset))
        t.header.writeIndex.store((offset + published) % UInt32(t.dataSize), ordering: .releasing)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var kind: MalformedDescriptor
        var offset8: UInt16
        var len8: UInt16
        var flags: UInt16 = 0
        var published: UInt32
        var testDescription: String { "\(kind.rawValue) (off8 \(offset8) len8 \(len8) flags \(flags) published \(published))" }
    }

    static let cases: [Case] = [
        .init(kind: .offsetTooSmall, offset8: 0, len8: 4, published: 40),
        .init(kind: .offsetTooSmall, offset8: 1, len8: 4, published: 40),
        .init(kind: .lengthBeforeOffset, offset8: 4, len8: 3, published: 40),
        .init(kind: .lengthBeyondAvailable, offset8: 2, len8: 5, published: 40),       // needs 48
        .init(kind: .lengthBeyondAvailable, offset8: 2, len8: 0xFFFF, published: 40),  // larger than the ring
        .init(kind: .unknownFlags, offset8: 2, len8: 4, flags: 2, published: 40),
        .init(kind: .unknownFlags, offset8: 2, len8: 4, flags: 0x8000, published: 40),
        .init(kind: .truncated, offset8: 2, len8: 2, published: 16),
    ]

    @Test(arguments: cases, [UInt32(0), 1016])
    func malformedDescriptorFailsTheRing(_ c: Case, at offset: UInt32) throws {
        let t = try TestRing(dataSize: 1024)
        forge(t, at: offset, offset8: c.offset8, len8: c.len8, flags: c.flags, published: c.published)
        var reader = try RingReader(ring: t.ring)
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        #expect(throws: RingError.corrupt(.malformedDescriptor(c.kind))) { _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } }
        #expect(reader.counters[c.kind] == 1)
        #expect(reader.counters.corruptions == 1)
        #expect(reader.isFailed)
        #expect(throws: RingError.corrupt(.failed)) { _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } }
        #expect(throws: RingError.corrupt(.failed)) { _ = try reader.endRead() }
        // Nothing was consumed from a corrupt ring.
        #expect(t.header.readIndex.load(ordering: .relaxed) == offset)
    }

    @Test(arguments: [UInt32(3), 1024, 4096, 0xFFFF_FFF8])
    func badWriteIndexFailsTheReader(_ value: UInt32) throws {
        let t = try TestRing(dataSize: 1024)
        var reader = try RingReader(ring: t.ring)
        t.header.writeIndex.store(value, ordering: .relaxed)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(throws: RingError.corrupt(.badIndex(which: .writeIndex, value: value))) { _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } }
        #expect(reader.counters.badIndices == 1)
        #expect(throws: RingError.corrupt(.failed)) { _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } }
    }

    @Test(arguments: [UInt32(3), 1024, 0xFFFF_FFFF])
    func badReadIndexFailsTheWriter(_ value: UInt32) throws {
        let t = try TestRing(dataSize: 1024)
        var writer = try RingWriter(ring: t.ring)
        t.header.interruptMask.store(0, ordering: .relaxed)
        t.header.readIndex.store(value, ordering: .relaxed)
        #expect(throws: RingError.corrupt(.badIndex(which: .readIndex, value: value))) { _ = try writer.write(pattern(0, 8).withUnsafeBytes { $0 }) }
        #expect(writer.isFailed)
        #expect(throws: RingError.corrupt(.failed)) { _ = try writer.write(pattern(0, 8).withUnsafeBytes { $0 }) }
    }

    @Test func attachRefusesBadIndices() throws {
        let t = try TestRing(dataSize: 1024)
        t.header.readIndex.store(12, ordering: .relaxed)
        #expect(throws: RingError.corrupt(.badIndex(which: .readIndex, value: 12))) { _ = try RingReader(ring: t.ring) }
        #expect(throws: RingError.corrupt(.badIndex(which: .readIndex, value: 12))) { _ = try RingWriter(ring: t.ring) }
        t.header.readIndex.store(0, ordering: .relaxed)
        t.header.writeIndex.store(2048, ordering: .relaxed)
        #expect(throws: RingError.corrupt(.badIndex(which: .writeIndex, value: 2048))) { _ = try RingReader(ring: t.ring) }
    }

    /// The writer may only add data. Seen at the end of a batch, an index that shrank the unread span
    /// is a corruption.
    @Test func writeIndexMovingBackwardsIsDetected() throws {
        let t = try TestRing(dataSize: 1024)
        var writer = try RingWriter(ring: t.ring)
        var reader = try RingReader(ring: t.ring)
        for i in 0..<4 { _ = try writer.write(pattern(UInt64(i), 40).withUnsafeBytes { $0 }) }
        var buffer = [UInt8](repeating: 0, count: 64)
        reader.beginRead()
        _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } // snapshot: 256 bytes published
        t.header.writeIndex.store(128, ordering: .relaxed)                  // back over unread data
        #expect(throws: RingError.corrupt(.writeIndexMovedBackwards(from: 256, to: 128))) { _ = try reader.endRead() }
        #expect(reader.isFailed)
    }

    /// The host may change shared memory after the reader validated it: the reader works only from
    /// its copy, so the payload it returns is what was there when it copied.
    @Test func packetChangedAfterCopyDoesNotAffectTheCopy() throws {
        let t = try TestRing(dataSize: 1024)
        var writer = try RingWriter(ring: t.ring)
        var reader = try RingReader(ring: t.ring)
        _ = try writer.write(pattern(5, 32).withUnsafeBytes { $0 })
        var buffer = [UInt8](repeating: 0, count: 64)
        let d = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
        t.poke([UInt8](repeating: 0xFF, count: 56), at: 0) // the host rewrites descriptor and payload
        #expect(d?.paddedPayloadLength == 32)
        #expect(Array(buffer[..<32]) == pattern(5, 32))
    }

    /// Random garbage in the data area and header words never traps and always ends in data or a
    /// typed error.
    @Test func randomGarbageNeverTraps() throws {
        var rng = SplitMix64(state: 42)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var errors = 0
        for _ in 0..<3000 {
            let t = try TestRing(dataSize: 1024)
            for i in stride(from: 0, to: 1024, by: 8) { t.ring.data.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self) }
            let r = UInt32(rng.next() % 128) * 8
            t.setEmpty(at: r)
            var reader = try RingReader(ring: t.ring)
            t.header.writeIndex.store(UInt32(truncatingIfNeeded: rng.next() % 1100), ordering: .relaxed)
            do {
                while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) != nil {}
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0)
    }
}
