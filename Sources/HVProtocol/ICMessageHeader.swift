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
        guard let framework = ICVersion.decode(bytes, at: offset),
              let type = LittleEndian.u16(bytes, at: offset + 4),
              let version = ICVersion.decode(bytes, at: offset + 6),
              let size = LittleEndian.u16(bytes, at: offset + 10),
              let status = LittleEndian.u32(bytes, at: offset + 12),
              let transaction = LittleEndian.u8(bytes, at: offset + 16),
              let flags = LittleEndian.u8(bytes, at: offset + 17),
              let reserved = LittleEndian.u16(bytes, at: offset + 18)
        else { return nil }
        return ICMessageHeader(
            frameworkVersion: framework, messageType: ICMessageType(rawValue: type), messageVersion: version,
            messageSize: size, status: HResult(rawValue: status), transactionID: transaction,
            flags: ICFlags(rawValue: flags), reserved: reserved)
    }

    public func encode(into bytes: inout [UInt8]) {
        let offset = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.size))
        encode(into: &bytes, at: offset)
    }

    /// Overwrites `size` bytes at `offset`, the offsets of `decode` (the reply path writes the
    /// header into a buffer of the reply's final size instead of growing an array byte by byte;
    /// nothing is written past the end).
    public func encode(into bytes: inout [UInt8], at offset: Int) {
        LittleEndian.store(frameworkVersion.major, into: &bytes, at: offset)
        LittleEndian.store(frameworkVersion.minor, into: &bytes, at: offset + 2)
        LittleEndian.store(messageType.rawValue, into: &bytes, at: offset + 4)
        LittleEndian.store(messageVersion.major, into: &bytes, at: offset + 6)
        LittleEndian.store(messageVersion.minor, into: &bytes, at: offset + 8)
        LittleEndian.store(messageSize, into: &bytes, at: offset + 10)
        LittleEndian.store(status.rawValue, into: &bytes, at: offset + 12)
        guard offset >= 0, offset + 19 < bytes.count else { return }
        bytes[offset + 16] = transactionID
        bytes[offset + 17] = flags.rawValue
        LittleEndian.store(reserved, into: &bytes, at: offset + 18)
    }
}
