import Heartbeat
import ICFramework
import HVProtocol

/// Host side of the heartbeat: a request carries a sequence number, the reply must carry
/// exactly that number plus one.
public struct HeartbeatHostLogic: Sendable {
    public enum Check: Hashable, Sendable {
        case ok(sequence: UInt64, applicationState: UInt32?)
        case wrongSequence(sent: UInt64, received: UInt64?)
        case badStatus(HResult)
    }

    /// Next sequence number to send.
    public private(set) var nextSequence: UInt64
    /// The outstanding sequence number.
    public private(set) var outstanding: UInt64?
    /// Body size: 16 as openvmm's `HeartbeatMessage`, 40 as Linux's struct.
    public var bodySize: Int

    public init(firstSequence: UInt64 = 1, bodySize: Int = 16) {
        nextSequence = firstSequence
        self.bodySize = max(bodySize, HeartbeatMessage.minimumSize)
    }

    /// Body of the next request.
    public mutating func requestBody() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: bodySize)
        LittleEndian.store(nextSequence, into: &body, at: HeartbeatMessage.sequenceOffset)
        outstanding = nextSequence
        nextSequence &+= 1
        return body
    }

    /// Checks a reply body (from `HostReply.response`).
    public mutating func check(status: HResult, body: [UInt8]) -> Check {
        let sent = outstanding ?? 0
        outstanding = nil
        guard status == .ok else { return .badStatus(status) }
        let received = LittleEndian.u64(body, at: HeartbeatMessage.sequenceOffset)
        guard received == sent &+ 1 else { return .wrongSequence(sent: sent, received: received) }
        return .ok(sequence: sent, applicationState: LittleEndian.u32(body, at: HeartbeatMessage.applicationStateOffset))
    }
}
