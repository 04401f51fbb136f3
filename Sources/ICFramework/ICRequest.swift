import HVProtocol
/// Why a packet was not answered. Every case is counted by `ICEndpoint`.
public enum ICParseError: Error, Hashable, Sendable {
    /// Fewer bytes than pipe header + IC header.
    case shorterThanHeaders(length: Int)
    /// The pipe header is not a DATA message.
    case notDataMessage(pipeType: UInt32)
    /// The pipe header claims more bytes than the packet holds, fewer than an IC header,
    /// or more than a pipe message may carry.
    case badPipeSize(declared: UInt32, available: Int)
    /// The body is shorter than this message type needs.
    case bodyTooShort(type: ICMessageType, length: Int, required: Int)
}

/// A validated IC request: headers decoded and the body copied out of the packet.
///
/// The only way to obtain one is `ICRequest.parse`, so every service sees sizes that were
/// checked in one place.
public struct ICRequest: Hashable, Sendable {
    /// The pipe header as received (echoed in the reply).
    public let pipe: PipeHeader
    /// The IC header as received.
    public let header: ICMessageHeader
    /// The body: the message bytes after the IC header, as declared by the pipe header.
    public let body: [UInt8]

    /// Parses a packet payload (pipe header onwards) and validates every size.
    ///
    /// - Parameter minimumBodySize: how many body bytes this header's message type needs
    ///   (0 for types the service does not know: those still get an E_FAIL reply).
    /// Bytes past `8 + pipe.messageSize` (ring padding) are ignored.
    public static func parse(
        _ payload: [UInt8], minimumBodySize: (ICMessageHeader) -> Int
    ) throws(ICParseError) -> ICRequest {
        let parsed = payload.withUnsafeBytes { raw -> Result<ICRequest, ICParseError> in
            do throws(ICParseError) {
                return .success(try parse(raw, minimumBodySize: minimumBodySize))
            } catch {
                return .failure(error)
            }
        }
        return try parsed.get()
    }

    /// The same over a private copy of the payload (a ring packet's, valid during the call): the
    /// headers are decoded in place and only the body is copied out, once.
    public static func parse(
        _ payload: UnsafeRawBufferPointer, minimumBodySize: (ICMessageHeader) -> Int
    ) throws(ICParseError) -> ICRequest {
        guard payload.count >= ICMessageHeader.bodyOffset,
              let pipe = PipeHeader.decode(payload),
              let header = ICMessageHeader.decode(payload)
        else { throw .shorterThanHeaders(length: payload.count) }
        guard pipe.packetType == PipeHeader.dataType else { throw .notDataMessage(pipeType: pipe.packetType) }
        let available = payload.count - PipeHeader.size
        guard pipe.messageSize >= UInt32(ICMessageHeader.size), pipe.messageSize <= PipeHeader.maximumMessageSize,
              Int(pipe.messageSize) <= available
        else { throw .badPipeSize(declared: pipe.messageSize, available: available) }
        let end = PipeHeader.size + Int(pipe.messageSize)
        // Copied from raw bytes: `Array(payload[range])` and `Array(unsafeUninitializedCapacity:)`
        // reach the runtime's unspecialized allocator (a generic metadata look-up, ~500
        // instructions per call, two per request; docs/PERFORMANCE.md, "Where the round trip goes").
        let body = [UInt8](UnsafeRawBufferPointer(rebasing: payload[ICMessageHeader.bodyOffset..<end]))
        let required = header.messageType == .negotiate ? NegotiateBody.countsSize : minimumBodySize(header)
        guard body.count >= required else {
            throw .bodyTooShort(type: header.messageType, length: body.count, required: required)
        }
        return ICRequest(pipe: pipe, header: header, body: body)
    }

    /// Builds a request as a host would (used by the simulator and tests).
    public init(pipe: PipeHeader, header: ICMessageHeader, body: [UInt8]) {
        self.pipe = pipe
        self.header = header
        self.body = body
    }

    /// Encodes the reply to this request: the pipe header echoed, the IC header echoed
    /// with flags TRANSACTION|RESPONSE, the given status and the same transaction id.
    ///
    /// - Parameter messageSize: `icmsgsize` for the reply; Linux leaves it as received
    ///   except for NEGOTIATE (0x10).
    public func reply(status: HResult, body replyBody: [UInt8], messageSize: UInt16? = nil) -> [UInt8] {
        var replyHeader = header
        replyHeader.flags = .guestResponse
        replyHeader.status = status
        if let messageSize { replyHeader.messageSize = messageSize }
        var replyPipe = pipe
        replyPipe.messageSize = UInt32(ICMessageHeader.size + replyBody.count)
        // One allocation of the final size, headers stored at their offsets, the body copied once.
        let count = ICMessageHeader.bodyOffset + replyBody.count
        // Built in a temporary buffer, then copied into the array from raw bytes: the array
        // initializers that allocate first (`repeating:count:`, `unsafeUninitializedCapacity:`)
        // reach the unspecialized allocator (see `parse`).
        return withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { destination in
            replyPipe.encode(into: destination, at: 0)
            replyHeader.encode(into: destination, at: PipeHeader.size)
            replyBody.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[ICMessageHeader.bodyOffset...]).copyMemory(from: source)
            }
            return [UInt8](UnsafeRawBufferPointer(destination))
        }
    }

    /// Encodes this request as packet payload bytes (host side).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        pipe.encode(into: &bytes)
        header.encode(into: &bytes)
        bytes.append(contentsOf: body)
        return bytes
    }

    /// A host request with a correct pipe header, flags 0x03 and transaction id 0.
    public static func host(
        type: ICMessageType, framework: ICVersion, version: ICVersion, body: [UInt8]
    ) -> ICRequest {
        let header = ICMessageHeader(
            frameworkVersion: framework, messageType: type, messageVersion: version,
            messageSize: UInt16(truncatingIfNeeded: body.count))
        return ICRequest(
            pipe: PipeHeader(messageSize: UInt32(ICMessageHeader.size + body.count)), header: header, body: body)
    }
}
