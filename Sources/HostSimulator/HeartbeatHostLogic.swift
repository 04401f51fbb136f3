import HVProtocol

/// Host side of the heartbeat (docs/PROTOCOL.md §6.1): a request carries a sequence number, the
/// reply must carry exactly that number plus one.
///
/// Body layout, laid out here and not borrowed from the guest (Linux `struct heartbeat_msg_data`,
/// openvmm `heartbeat::HeartbeatMessage` in vm/devices/hyperv_ic_protocol/src/lib.rs):
/// +0 u64 `seq_num`, +8 u32 `application_state` (openvmm; inside Linux's reserved words), then
/// reserved bytes up to the body size.
public struct HeartbeatHostLogic: Sendable {
    public enum Check: Hashable, Sendable {
        case ok(sequence: UInt64, applicationState: UInt32?)
        case wrongSequence(sent: UInt64, received: UInt64?)
        case badStatus(HResult)
    }

    /// +0 u64 `seq_num`.
    static let sequenceOffset = 0
    /// +8 u32 `application_state`.
    static let applicationStateOffset = 8
    /// The smallest body the host sends: the sequence number alone.
    static let minimumBodySize = 8

    /// Next sequence number to send.
    public private(set) var nextSequence: UInt64
    /// The outstanding sequence number.
    public private(set) var outstanding: UInt64?
    /// Body size: 16 as openvmm's `HeartbeatMessage`, 40 as Linux's struct.
    public var bodySize: Int

    public init(firstSequence: UInt64 = 1, bodySize: Int = 16) {
        nextSequence = firstSequence
        self.bodySize = max(bodySize, Self.minimumBodySize)
    }

    /// Body of the next request: the sequence number, `application_state` 0 (unknown) and zeros.
    public mutating func requestBody() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: bodySize)
        LittleEndian.store(nextSequence, into: &body, at: Self.sequenceOffset)
        outstanding = nextSequence
        nextSequence &+= 1
        return body
    }

    /// Forgets the outstanding request (the channel was closed or reopened). The numbering goes on,
    /// so a late reply from before can never match a request sent after.
    public mutating func abandonOutstanding() {
        outstanding = nil
    }

    /// Checks a reply body (from `HostReply.response`).
    public mutating func check(status: HResult, body: [UInt8]) -> Check {
        let sent = outstanding ?? 0
        outstanding = nil
        guard status == .ok else { return .badStatus(status) }
        let received = LittleEndian.u64(body, at: Self.sequenceOffset)
        guard received == sent &+ 1 else { return .wrongSequence(sent: sent, received: received) }
        return .ok(sequence: sent, applicationState: LittleEndian.u32(body, at: Self.applicationStateOffset))
    }

    /// How the exchange log names an `application_state` (openvmm `ApplicationState`).
    public static func applicationStateName(_ value: UInt32) -> String {
        switch value {
        case 0: "unknown"
        case 1: "healthy"
        case 2: "critical"
        case 3: "stopped"
        default: "\(value)"
        }
    }
}
