/// The interop peers' shared conventions (`../shared/peers/dpdk-vmbus/peer_common.h`, restated
/// here so hvagent's ring can be checked line for line against DPDK's and the C reference's):
/// the payload bytes of packet `seq`, how the exact length is read back through the zero padding,
/// the FNV-1a hash, and the one line printed per packet.
enum TestPattern {
    /// Byte `i` of the payload of packet `seq`: `1 + (seq * 7 + i) % 255`. Never 0, so the writer's
    /// zero padding up to a multiple of 8 can be told from the payload.
    static func byte(seq: UInt64, index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: 1 &+ (seq &* 7 &+ UInt64(index)) % 255)
    }

    static func fill(_ buffer: UnsafeMutableRawBufferPointer, seq: UInt64, count: Int) {
        for i in 0..<count { buffer[i] = byte(seq: seq, index: i) }
    }

    /// The exact payload length (the padded length minus trailing zero bytes) and whether the bytes
    /// are packet `seq`'s pattern with less than 8 bytes of padding.
    static func check(_ padded: UnsafeRawBufferPointer, seq: UInt64) -> (length: Int, ok: Bool) {
        var length = padded.count
        while length > 0 && padded[length - 1] == 0 { length -= 1 }
        guard padded.count - length < 8 else { return (length, false) }
        for i in 0..<length where padded[i] != byte(seq: seq, index: i) { return (length, false) }
        return (length, true)
    }

    /// 64-bit FNV-1a of the payload.
    static func fnv(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// `peer_print`: identical to the C peers' line after the first word (`who`). `wrap` says the
    /// packet (descriptor, payload, trailer) runs past the end of the data area.
    static func line(
        who: String, seq: UInt64, type: UInt16, flags: UInt16, offset8: UInt16, length8: UInt16, start: UInt32,
        dataSize: UInt32, length: Int, hash: UInt64, ok: Bool
    ) -> String {
        let total = UInt64(length8) * 8 + 8
        let wrap = UInt64(start) + total > UInt64(dataSize) ? 1 : 0
        let hex = String(hash, radix: 16)
        let fnv = String(repeating: "0", count: 16 - hex.count) + hex
        return "\(who) pkt seq=\(seq) type=\(type) flags=\(flags) off8=\(offset8) len8=\(length8) len=\(length) "
            + "start=\(start) wrap=\(wrap) fnv=\(fnv) \(ok ? "ok" : "BAD")"
    }
}
