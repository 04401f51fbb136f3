/// The 16-byte descriptor at the start of every VMBus packet (docs/PROTOCOL.md §2.1; Linux `struct vmpacket_descriptor`,
/// openvmm `PacketDescriptor`).
///
/// A value type decoded from a private copy of the ring bytes, so the host cannot change it after it
/// was validated.
public struct PacketDescriptor: Equatable, Sendable {
    /// Packet type (docs/PROTOCOL.md §2.2). All integration-component traffic is ``PacketType/dataInBand``.
    public var type: UInt16
    /// Offset of the payload from the start of the descriptor, in 8-byte units (>= 2).
    public var dataOffset8: UInt16
    /// Descriptor + extra header + payload + padding, in 8-byte units. Excludes the trailer.
    public var length8: UInt16
    /// Bit 0 = completion requested. No other bit is defined.
    public var flags: UInt16
    /// Request id, echoed in replies.
    public var transactionID: UInt64

    public init(type: UInt16, dataOffset8: UInt16, length8: UInt16, flags: UInt16, transactionID: UInt64) {
        self.type = type
        self.dataOffset8 = dataOffset8
        self.length8 = length8
        self.flags = flags
        self.transactionID = transactionID
    }

    /// The only flag bit the format defines.
    public static let flagCompletionRequested: UInt16 = 1

    /// Decodes the descriptor from its two little-endian 64-bit words.
    @inlinable
    public init(word0: UInt64, word1: UInt64) {
        type = UInt16(truncatingIfNeeded: word0)
        dataOffset8 = UInt16(truncatingIfNeeded: word0 >> 16)
        length8 = UInt16(truncatingIfNeeded: word0 >> 32)
        flags = UInt16(truncatingIfNeeded: word0 >> 48)
        transactionID = word1
    }

    /// The first little-endian 64-bit word of the encoded descriptor.
    @inlinable
    public var word0: UInt64 {
        UInt64(type) | UInt64(dataOffset8) << 16 | UInt64(length8) << 32 | UInt64(flags) << 48
    }

    /// Payload bytes including the trailing pad: `(length8 - dataOffset8) * 8`.
    @inlinable
    public var paddedPayloadLength: Int { (Int(length8) - Int(dataOffset8)) * 8 }

    /// Encodes the 16 bytes, little-endian.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: word0.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: transactionID.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
        return out
    }
}

/// VMBus packet types (docs/PROTOCOL.md §2.2, Linux `enum vmbus_packet_type`).
public enum PacketType {
    /// In-band data: all IC traffic in both directions.
    public static let dataInBand: UInt16 = 0x6
    /// Transfer-page data (netvsc receive).
    public static let dataUsingTransferPages: UInt16 = 0x7
    /// GPA-direct data (storage / network TX).
    public static let dataUsingGPADirect: UInt16 = 0x9
    /// Completion (reply to a packet with the completion-requested flag). Never used for IC replies.
    public static let completion: UInt16 = 0xb
}
