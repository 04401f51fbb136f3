/// The 8-byte VMBus pipe header at the start of every IC packet payload (docs/PROTOCOL.md §5.1).
///
/// IC channels are message-mode pipes; the header says how many bytes after it belong to
/// the message. The guest echoes it unchanged in its reply, as Linux and FreeBSD do.
public struct PipeHeader: Hashable, Sendable {
    /// `flags` (Linux) / `packet_type` (openvmm). 1 = DATA; the only type an IC peer sends.
    public var packetType: UInt32
    /// `msgsize` / `len`: bytes after this header that belong to the message.
    public var messageSize: UInt32

    /// Encoded size in bytes.
    public static let size = 8
    /// The DATA pipe packet type.
    public static let dataType: UInt32 = 1
    /// openvmm's MAXIMUM_PIPE_PACKET_SIZE: the largest message a pipe carries.
    public static let maximumMessageSize: UInt32 = 16384

    public init(packetType: UInt32 = PipeHeader.dataType, messageSize: UInt32) {
        self.packetType = packetType
        self.messageSize = messageSize
    }

    public static func decode(_ bytes: [UInt8]) -> PipeHeader? {
        bytes.withUnsafeBytes { decode($0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> PipeHeader? {
        guard let type = LittleEndian.u32(bytes, at: 0), let size = LittleEndian.u32(bytes, at: 4) else {
            return nil
        }
        return PipeHeader(packetType: type, messageSize: size)
    }

    public func encode(into bytes: inout [UInt8]) {
        let offset = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.size))
        bytes.withUnsafeMutableBytes { encode(into: $0, at: offset) }
    }

    /// Stores the header's `size` bytes at `offset` of `buffer`; stores nothing unless all of
    /// them fit.
    public func encode(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        guard offset >= 0, offset <= buffer.count - Self.size else { return }
        buffer.storeBytes(of: packetType.littleEndian, toByteOffset: offset, as: UInt32.self)
        buffer.storeBytes(of: messageSize.littleEndian, toByteOffset: offset + 4, as: UInt32.self)
    }
}
