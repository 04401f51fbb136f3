import HVProtocol

/// Why a guest reply could not be framed.
public enum HostFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than pipe header + IC header (28).
    case shorterThanHeaders(length: Int)
    /// The pipe header's packet type is not DATA.
    case notDataMessage(pipeType: UInt32)
    /// The pipe header's size is below an IC header, above a pipe message, or past the packet.
    case badPipeSize(declared: UInt32, available: Int)
    /// `icmsgsize` claims more body than the pipe message carries.
    case badMessageSize(declared: UInt16, available: Int)

    public var description: String {
        switch self {
        case .shorterThanHeaders(let length): "\(length) bytes, shorter than the 28 header bytes"
        case .notDataMessage(let type): "pipe packet type \(type), not DATA"
        case .badPipeSize(let declared, let available): "pipe size \(declared) with \(available) bytes after the pipe header"
        case .badMessageSize(let declared, let available): "icmsgsize \(declared) with \(available) body bytes"
        }
    }
}

/// One IC message as the host frames it (docs/PROTOCOL.md §5): the 8-byte pipe header, the 20-byte
/// IC header, then the body.
///
/// The host's own framing, independent of the guest's `ICRequest`: if one side got an offset wrong
/// the two would no longer agree, and the tests would show it. The header value types
/// (``PipeHeader``, ``ICMessageHeader``) are the protocol's tables and shared on purpose.
///
/// Packet offsets: +0 pipe `packet_type` (1 = DATA), +4 pipe `msgsize` (bytes after the pipe
/// header), +8 `icverframe`, +12 `icmsgtype`, +14 `icvermsg`, +18 `icmsgsize`, +20 `status`,
/// +24 `ictransaction_id`, +25 `icflags`, +26 reserved, +28 body.
public struct HostICFrame: Hashable, Sendable {
    public var header: ICMessageHeader
    public var body: [UInt8]

    public init(header: ICMessageHeader, body: [UInt8]) {
        self.header = header
        self.body = body
    }

    /// Where the body starts in a packet.
    public static let bodyOffset = 28

    /// A host request: pipe DATA header sized to the message, IC header with flags
    /// TRANSACTION|REQUEST (0x03), status 0, the given transaction id, and `icmsgsize` = body size,
    /// as openvmm's host writes it (vm/devices/hyperv_ic/src/common.rs, `IcPipe::write_message`).
    public static func request(type: ICMessageType, framework: ICVersion, version: ICVersion, transactionID: UInt8 = 0,
                               body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bodyOffset + body.count)
        PipeHeader(packetType: PipeHeader.dataType, messageSize: UInt32(ICMessageHeader.size + body.count)).encode(into: &bytes)
        ICMessageHeader(frameworkVersion: framework, messageType: type, messageVersion: version,
                        messageSize: UInt16(truncatingIfNeeded: body.count), status: .ok, transactionID: transactionID,
                        flags: .hostRequest, reserved: 0).encode(into: &bytes)
        bytes += body
        return bytes
    }

    /// Frames a guest reply. The body is what `icmsgsize` declares, as openvmm's host reads it
    /// (`IcPipe::read_message`); ring padding past the pipe message is ignored. Flags, transaction
    /// id and type are the channel's to check (``HostICChannel/accept(_:)``).
    public static func parse(_ payload: [UInt8]) throws(HostFrameError) -> HostICFrame {
        guard payload.count >= bodyOffset, let pipe = PipeHeader.decode(payload),
              let header = ICMessageHeader.decode(payload, at: PipeHeader.size)
        else { throw .shorterThanHeaders(length: payload.count) }
        guard pipe.packetType == PipeHeader.dataType else { throw .notDataMessage(pipeType: pipe.packetType) }
        let available = payload.count - PipeHeader.size
        guard pipe.messageSize >= UInt32(ICMessageHeader.size), pipe.messageSize <= PipeHeader.maximumMessageSize,
              Int(pipe.messageSize) <= available
        else { throw .badPipeSize(declared: pipe.messageSize, available: available) }
        let bodyBytes = Int(pipe.messageSize) - ICMessageHeader.size
        guard Int(header.messageSize) <= bodyBytes else {
            throw .badMessageSize(declared: header.messageSize, available: bodyBytes)
        }
        return HostICFrame(header: header, body: Array(payload[bodyOffset..<(bodyOffset + Int(header.messageSize))]))
    }
}
