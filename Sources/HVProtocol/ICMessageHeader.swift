/// The 20-byte IC message header right after the pipe header (docs/PROTOCOL.md §5.2).
///
/// Offsets below are relative to the start of this header (payload offset 8).
public struct ICMessageHeader: Hashable, Sendable {
    /// +0 `icverframe`: negotiated framework version (0.0 in the host's negotiate request).
    public var frameworkVersion: ICVersion
    /// +4 `icmsgtype`.
    public var messageType: ICMessageType
    /// +6 `icvermsg`: negotiated service version.
    public var messageVersion: ICVersion
    /// +10 `icmsgsize`: bytes of body after this header (informational; Linux never checks it).
    public var messageSize: UInt16
    /// +12 `status`: HRESULT; 0 from the host, set by the guest in replies.
    public var status: HResult
    /// +16 `ictransaction_id`: echoed; the openvmm host rejects a reply whose id differs.
    public var transactionID: UInt8
    /// +17 `icflags`.
    public var flags: ICFlags
    /// +18 `reserved[2]`: zero from the host; echoed as received.
    public var reserved: UInt16

    /// Encoded size in bytes.
    public static let size = 20
    /// Pipe header + IC header: where every body starts (Linux ICMSG_HDR).
    public static let bodyOffset = PipeHeader.size + ICMessageHeader.size

    public init(
        frameworkVersion: ICVersion, messageType: ICMessageType, messageVersion: ICVersion,
        messageSize: UInt16, status: HResult = .ok, transactionID: UInt8 = 0,
        flags: ICFlags = .hostRequest, reserved: UInt16 = 0
    ) {
        self.frameworkVersion = frameworkVersion
        self.messageType = messageType
        self.messageVersion = messageVersion
        self.messageSize = messageSize
        self.status = status
        self.transactionID = transactionID
        self.flags = flags
        self.reserved = reserved
    }

    /// Decodes the header found at payload offset `offset` (normally 8).
    public static func decode(_ bytes: [UInt8], at offset: Int = PipeHeader.size) -> ICMessageHeader? {
        bytes.withUnsafeBytes { decode($0, at: offset) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int = PipeHeader.size) -> ICMessageHeader? {
        // One bounds check for all twenty bytes, then loads at fixed offsets (eight checked
        // optional reads were ~250 instructions per packet; docs/PERFORMANCE.md).
        guard offset >= 0, offset <= bytes.count - size else { return nil }
        func u16(_ at: Int) -> UInt16 {
            UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + at, as: UInt16.self))
        }
        let status = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
        return ICMessageHeader(
            frameworkVersion: ICVersion(u16(0), u16(2)), messageType: ICMessageType(rawValue: u16(4)),
            messageVersion: ICVersion(u16(6), u16(8)), messageSize: u16(10), status: HResult(rawValue: status),
            transactionID: bytes[offset + 16], flags: ICFlags(rawValue: bytes[offset + 17]), reserved: u16(18))
    }

    public func encode(into bytes: inout [UInt8]) {
        let offset = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.size))
        bytes.withUnsafeMutableBytes { encode(into: $0, at: offset) }
    }

    /// Stores the header's `size` bytes at `offset` of `buffer`, at the offsets `decode` reads;
    /// stores nothing unless all of them fit. The reply path writes into a buffer of the reply's
    /// final size instead of growing an array byte by byte.
    public func encode(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        guard offset >= 0, offset <= buffer.count - Self.size else { return }
        buffer.storeBytes(of: frameworkVersion.major.littleEndian, toByteOffset: offset, as: UInt16.self)
        buffer.storeBytes(of: frameworkVersion.minor.littleEndian, toByteOffset: offset + 2, as: UInt16.self)
        buffer.storeBytes(of: messageType.rawValue.littleEndian, toByteOffset: offset + 4, as: UInt16.self)
        buffer.storeBytes(of: messageVersion.major.littleEndian, toByteOffset: offset + 6, as: UInt16.self)
        buffer.storeBytes(of: messageVersion.minor.littleEndian, toByteOffset: offset + 8, as: UInt16.self)
        buffer.storeBytes(of: messageSize.littleEndian, toByteOffset: offset + 10, as: UInt16.self)
        buffer.storeBytes(of: status.rawValue.littleEndian, toByteOffset: offset + 12, as: UInt32.self)
        buffer.storeBytes(of: transactionID, toByteOffset: offset + 16, as: UInt8.self)
        buffer.storeBytes(of: flags.rawValue, toByteOffset: offset + 17, as: UInt8.self)
        buffer.storeBytes(of: reserved.littleEndian, toByteOffset: offset + 18, as: UInt16.self)
    }
}
