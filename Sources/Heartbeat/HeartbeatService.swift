import ICFramework
import HVProtocol

/// The heartbeat IC (docs/PROTOCOL.md §6.1, Linux `heartbeat_onchannelcallback`).
///
/// The reply echoes the request with `seq_num + 1`. Only 8 body bytes are required
/// because the host may not fill the reserved area (docs/PROTOCOL.md §8 Q15).
public struct HeartbeatService: ICService {
    public typealias Action = Never


    public var serviceVersions: [ICVersion] { ICServiceID.heartbeat.serviceVersions }
    /// nil (default): `application_state` is echoed untouched, as Linux does.
    public var healthProbe: (any HealthProbe)?
    /// Last sequence number seen since negotiation (for the timeline and tests).
    public private(set) var lastSequence: UInt64?

    public init(healthProbe: (any HealthProbe)? = nil) {
        self.healthProbe = healthProbe
    }

    public func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .heartbeat ? HeartbeatMessage.minimumSize : nil
    }

    public mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<Never> {
        // A copy of its own from the start (the request still holds its body): growing a shared
        // array copy-on-write at the first store cost more than copying it outright.
        var body = request.body.withUnsafeBytes { [UInt8]($0) }
        let sequence = LittleEndian.u64(body, at: HeartbeatMessage.sequenceOffset) ?? 0
        LittleEndian.store(sequence &+ 1, into: &body, at: HeartbeatMessage.sequenceOffset)
        if let state = healthProbe?.applicationState() {
            // Written only if the host sent the field; a short body stays short.
            LittleEndian.store(state.rawValue, into: &body, at: HeartbeatMessage.applicationStateOffset)
        }
        lastSequence = sequence
        return ICHandled(status: .ok, body: body)
    }

    public mutating func reset() {
        lastSequence = nil
    }
}
