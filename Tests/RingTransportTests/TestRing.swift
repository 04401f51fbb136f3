import RingTransport

/// One ring in private memory, for tests that look at raw bytes: a 4 KiB header and a small data
/// area so that every wrap position can be tried.
final class TestRing {
    let memory: SharedMemoryRegion
    let ring: RingBuffer
    static let headerSize = 4096

    init(dataSize: Int = 256) throws {
        memory = try SharedMemoryRegion(anonymousByteCount: TestRing.headerSize + dataSize)
        RingHeader.format(memory.baseAddress, headerSize: TestRing.headerSize)
        ring = try RingBuffer(base: memory.baseAddress, ringSize: TestRing.headerSize + dataSize, headerSize: TestRing.headerSize)
    }

    var header: RingHeader { ring.header }
    var dataSize: Int { Int(ring.dataSize) }

    /// Puts both indices at `position` (an empty ring whose next packet starts there).
    func setEmpty(at position: UInt32) {
        header.writeIndex.store(position, ordering: .relaxed)
        header.readIndex.store(position, ordering: .relaxed)
    }

    func fillData(_ byte: UInt8) {
        ring.data.initializeMemory(as: UInt8.self, repeating: byte, count: dataSize)
    }

    /// Byte `i` of the data area, counted from `start` with wrap-around.
    func byte(at start: Int, _ i: Int) -> UInt8 {
        ring.data.load(fromByteOffset: (start + i) % dataSize, as: UInt8.self)
    }

    /// Writes raw bytes into the data area at `offset` with wrap-around (to forge packets).
    func poke(_ bytes: [UInt8], at offset: Int) {
        for (i, b) in bytes.enumerated() {
            ring.data.storeBytes(of: b, toByteOffset: (offset + i) % dataSize, as: UInt8.self)
        }
    }
}

/// The packet a writer must lay down, as a flat byte array built independently of the ring code:
/// descriptor, payload, zero pad to 8, trailer = start << 32 (docs/PROTOCOL.md §1.4, §2.1).
func expectedPacketBytes(type: UInt16, flags: UInt16, transactionID: UInt64, payload: [UInt8], start: UInt32) -> [UInt8] {
    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    let padded = (payload.count + 7) / 8 * 8
    var out = le16(type) + le16(2) + le16(UInt16((16 + padded) / 8)) + le16(flags) + le64(transactionID)
    out += payload + [UInt8](repeating: 0, count: padded - payload.count)
    out += [0, 0, 0, 0] + le64(UInt64(start)).prefix(4)
    return out
}

/// Deterministic payload bytes for a sequence number.
func pattern(_ seq: UInt64, _ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: 1 + (seq &* 7 &+ UInt64($0)) % 255) }
}
