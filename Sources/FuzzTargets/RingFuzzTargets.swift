import RingTransport

/// Fuzz targets for the ring: the reader and the writer over ring memory the fuzzer controls
/// completely (header words and data), as a hostile host could in a confidential VM.
public enum RingFuzzTargets {
    /// Data area size of the fuzzed ring: small, so that fuzzed indices hit the edges often, and not a
    /// power of two.
    static let dataSize = 1000

    /// Builds a ring from the input: the first 20 bytes are the header words write_index, read_index,
    /// interrupt_mask, pending_send_sz and feature_bits; the rest fills the data area (repeated).
    static func withFuzzedRing(_ input: UnsafeRawBufferPointer, _ body: (RingBuffer, UnsafeRawBufferPointer) -> Void) {
        let total = RingLayout.minimumHeaderSize + dataSize
        let memory = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 4096)
        defer { memory.deallocate() }
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        let header = Array(input.prefix(20)) + [UInt8](repeating: 0, count: max(0, 20 - input.count))
        func word(_ i: Int) -> UInt32 {
            UInt32(header[i]) | UInt32(header[i + 1]) << 8 | UInt32(header[i + 2]) << 16 | UInt32(header[i + 3]) << 24
        }
        let offsets = [RingLayout.writeIndexOffset, RingLayout.readIndexOffset, RingLayout.interruptMaskOffset,
                       RingLayout.pendingSendSizeOffset, RingLayout.featureBitsOffset]
        for (k, offset) in offsets.enumerated() { memory.storeBytes(of: word(4 * k), toByteOffset: offset, as: UInt32.self) }
        let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst(20))
        if !rest.isEmpty {
            for i in 0..<dataSize { memory.storeBytes(of: rest[i % rest.count], toByteOffset: RingLayout.minimumHeaderSize + i, as: UInt8.self) }
        }
        guard let ring = try? RingBuffer(base: memory, ringSize: total, headerSize: RingLayout.minimumHeaderSize) else { return }
        body(ring, rest)
    }

    /// The reader drains whatever the input describes, then ends the batch.
    public static let reader = FuzzTarget(name: "ring-reader") { input in
        withFuzzedRing(input) { ring, _ in
            guard var reader = try? RingReader(ring: ring) else { return }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: dataSize, alignment: 8)
            defer { buffer.deallocate() }
            reader.beginRead()
            for _ in 0..<(dataSize / 24 + 2) {
                do {
                    guard try reader.read(into: buffer) != nil else { break }
                } catch {
                    break
                }
            }
            _ = try? reader.endRead()
            precondition(reader.nextPacketOffset < UInt32(dataSize) && reader.nextPacketOffset % 8 == 0)
        }
    }

    /// The writer appends packets whose sizes come from the input, against fuzzed peer indices.
    public static let writer = FuzzTarget(name: "ring-writer") { input in
        withFuzzedRing(input) { ring, rest in
            guard var writer = try? RingWriter(ring: ring) else { return }
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
            defer { payload.deallocate() }
            payload.initializeMemory(as: UInt8.self, repeating: 0x5A)
            for byte in rest.prefix(64) {
                let length = Int(byte) * 4
                do {
                    _ = try writer.write(UnsafeRawBufferPointer(rebasing: payload[..<length]))
                } catch RingError.ringFull {
                    continue
                } catch {
                    break
                }
                precondition(writer.nextPacketOffset < UInt32(dataSize) && writer.nextPacketOffset % 8 == 0)
            }
        }
    }
}
