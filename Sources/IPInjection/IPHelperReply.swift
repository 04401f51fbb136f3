import HVProtocol

/// `hvagent ip-helper`'s answer to one ``IPHelperRequest``: the ``IPInjector/Outcome`` (the status
/// for the host, the line the agent logs), one SOCK_SEQPACKET packet (docs/PROTOCOL.md §7.19.1).
///
/// Layout, little-endian: `version` u8 (1), reserved u8 (0), `messageLength` u16, `status` u32 (the
/// HRESULT), then `messageLength` bytes of UTF-8, at most ``maximumMessageBytes``. Nothing may follow.
public struct IPHelperReply: Equatable, Sendable {
    public static let version: UInt8 = 1
    /// A longer message is cut (at a character boundary) when encoded: it is a log line.
    public static let maximumMessageBytes = 4096
    public static let maximumSize = 8 + maximumMessageBytes

    public var outcome: IPInjector.Outcome

    public init(_ outcome: IPInjector.Outcome) {
        self.outcome = outcome
    }

    public var encoded: [UInt8] {
        var message = Array(outcome.message.utf8)
        if message.count > Self.maximumMessageBytes {
            var end = Self.maximumMessageBytes
            // Back to the start of a character: continuation bytes are 0b10xxxxxx.
            while end > 0 && message[end] & 0xC0 == 0x80 { end -= 1 }
            message = Array(message[..<end])
        }
        var bytes: [UInt8] = [Self.version, 0]
        LittleEndian.append(UInt16(message.count), to: &bytes)
        LittleEndian.append(outcome.status.rawValue, to: &bytes)
        return bytes + message
    }

    /// Nil for anything malformed: short, another version, a reserved byte set, a length that is
    /// over the limit or disagrees with the packet, invalid UTF-8.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 8, bytes[0] == Self.version, bytes[1] == 0,
              let length = LittleEndian.u16(bytes, at: 2).map(Int.init), length <= Self.maximumMessageBytes,
              bytes.count == 8 + length, let status = LittleEndian.u32(bytes, at: 4),
              let message = String(validating: bytes[8...], as: UTF8.self) else { return nil }
        outcome = IPInjector.Outcome(status: HResult(rawValue: status), message: message)
    }
}
