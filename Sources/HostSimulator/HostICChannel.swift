import HVProtocol

/// What a guest reply meant to the host.
public enum HostReply: Hashable, Sendable {
    /// NEGOTIATE answered with exactly one supported framework and service version.
    case negotiated(NegotiatedVersions)
    /// NEGOTIATE answered without a usable version: the channel stays failed until reopened.
    case negotiationFailed(String)
    /// The reply to the outstanding request.
    case response(header: ICMessageHeader, body: [UInt8])
    /// A reply to a request from before a renegotiation; skipped, as openvmm does.
    case stale(ICMessageType)
    /// Not a valid reply (bad framing, flags, id, unexpected type).
    case protocolError(String)
}

/// Errors of the host's request API.
public enum HostChannelError: Error, Hashable, Sendable {
    /// Not negotiated (yet, or negotiation failed).
    case notReady
    /// A transaction is already outstanding (one per channel, docs/PROTOCOL.md §5.3).
    case busy
}

/// Host side of one IC channel as a pure state machine: negotiation, then one transaction at
/// a time; replies are checked as openvmm's host checks them (vm/devices/hyperv_ic/src/common.rs,
/// `IcPipe::read_message`: TRANSACTION and RESPONSE set, the transaction id echoed).
public struct HostICChannel: Sendable {
    public enum State: Hashable, Sendable {
        case closed
        case negotiating
        case ready
        case waiting(ICMessageType)
        case failed(String)
    }

    public let kind: ICServiceID
    public var offer: HostVersionOffer
    public private(set) var state: State = .closed
    public private(set) var negotiated: NegotiatedVersions?
    /// The `ictransaction_id` of every request. openvmm's host always sends 0 and rejects a
    /// reply with any other value; kept as a constant so the check has something to compare with.
    public static let transactionID: UInt8 = 0

    public init(kind: ICServiceID, offer: HostVersionOffer) {
        self.kind = kind
        self.offer = offer
    }

    /// The NEGOTIATE request; resets the channel (the host starts over after every open).
    /// Its header carries framework and service 0.0: nothing is agreed yet (openvmm zeroes them).
    public mutating func negotiateRequest() -> [UInt8] {
        state = .negotiating
        negotiated = nil
        return HostICFrame.request(type: .negotiate, framework: ICVersion(0, 0), version: ICVersion(0, 0),
                                   transactionID: Self.transactionID, body: HostNegotiation.requestBody(offer))
    }

    /// A request of `type`, with the negotiated versions in its header.
    public mutating func request(type: ICMessageType, body: [UInt8]) throws(HostChannelError) -> [UInt8] {
        guard let negotiated else { throw .notReady }
        guard state == .ready else { throw state == .negotiating || state == .closed ? .notReady : .busy }
        state = .waiting(type)
        return HostICFrame.request(type: type, framework: negotiated.framework, version: negotiated.service,
                                   transactionID: Self.transactionID, body: body)
    }

    /// Marks the channel closed (rescind, the agent's close, a ring error).
    public mutating func close() {
        state = .closed
        negotiated = nil
    }

    /// Checks a guest reply.
    public mutating func accept(_ payload: [UInt8]) -> HostReply {
        let frame: HostICFrame
        do {
            frame = try HostICFrame.parse(payload)
        } catch {
            return .protocolError("unparseable reply: \(error)")
        }
        let header = frame.header
        guard header.flags.contains(.transaction), header.flags.contains(.response) else {
            return .protocolError("reply flags 0x\(String(header.flags.rawValue, radix: 16)) lack TRANSACTION|RESPONSE")
        }
        guard header.transactionID == Self.transactionID else {
            return .protocolError("reply transaction id \(header.transactionID) != \(Self.transactionID)")
        }
        switch state {
        case .negotiating:
            guard header.messageType == .negotiate else { return .stale(header.messageType) }
            guard let versions = HostNegotiation.agreedVersions(replyBody: frame.body, offer: offer) else {
                state = .failed("no supported versions")
                return .negotiationFailed("no supported versions")
            }
            negotiated = versions
            state = .ready
            return .negotiated(versions)
        case .waiting(let type):
            guard header.messageType == type else { return .protocolError("reply type \(header.messageType), expected \(type)") }
            state = .ready
            return .response(header: header, body: frame.body)
        case .closed, .ready, .failed:
            return .protocolError("unsolicited reply of type \(header.messageType)")
        }
    }
}
