import ICFramework
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
/// a time; replies are checked as openvmm's host checks them.
public struct HostICChannel: Sendable {
    public enum State: Hashable, Sendable {
        case closed
        case negotiating
        case ready
        case waiting(ICMessageType)
        case failed(String)
    }

    public let kind: HostServiceKind
    public var offer: HostVersionOffer
    public private(set) var state: State = .closed
    public private(set) var negotiated: NegotiatedVersions?

    public init(kind: HostServiceKind, offer: HostVersionOffer) {
        self.kind = kind
        self.offer = offer
    }

    /// The NEGOTIATE request; resets the channel (the host starts over after every open).
    public mutating func negotiateRequest() -> [UInt8] {
        state = .negotiating
        negotiated = nil
        var body: [UInt8] = []
        NegotiateBody(frameworkVersions: offer.frameworkVersions, serviceVersions: offer.serviceVersions).encode(into: &body)
        return ICRequest.host(type: .negotiate, framework: ICVersion(0, 0), version: ICVersion(0, 0), body: body).encoded()
    }

    /// A request of `type`, with the negotiated versions in its header.
    public mutating func request(type: ICMessageType, body: [UInt8]) throws(HostChannelError) -> [UInt8] {
        guard let negotiated else { throw .notReady }
        guard state == .ready else { throw state == .negotiating || state == .closed ? .notReady : .busy }
        state = .waiting(type)
        return ICRequest.host(type: type, framework: negotiated.framework, version: negotiated.service, body: body).encoded()
    }

    /// Marks the channel closed (rescind).
    public mutating func close() {
        state = .closed
        negotiated = nil
    }

    /// Checks a guest reply.
    public mutating func accept(_ payload: [UInt8]) -> HostReply {
        let reply: ICRequest
        do {
            reply = try ICRequest.parse(payload) { _ in 0 }
        } catch {
            return .protocolError("unparseable reply: \(error)")
        }
        let header = reply.header
        guard header.flags.contains(.transaction), header.flags.contains(.response) else {
            return .protocolError("reply flags 0x\(String(header.flags.rawValue, radix: 16)) lack TRANSACTION|RESPONSE")
        }
        guard header.transactionID == 0 else { return .protocolError("reply transaction id \(header.transactionID) != 0") }
        switch state {
        case .negotiating:
            guard header.messageType == .negotiate else { return .stale(header.messageType) }
            guard let body = NegotiateBody.decode(reply.body), body.frameworkVersions.count == 1,
                  body.serviceVersions.count == 1,
                  offer.frameworkVersions.contains(body.frameworkVersions[0]),
                  offer.serviceVersions.contains(body.serviceVersions[0])
            else {
                state = .failed("no supported versions")
                return .negotiationFailed("no supported versions")
            }
            let versions = NegotiatedVersions(framework: body.frameworkVersions[0], service: body.serviceVersions[0])
            negotiated = versions
            state = .ready
            return .negotiated(versions)
        case .waiting(let type):
            guard header.messageType == type else { return .protocolError("reply type \(header.messageType), expected \(type)") }
            state = .ready
            return .response(header: header, body: reply.body)
        case .closed, .ready, .failed:
            return .protocolError("unsolicited reply of type \(header.messageType)")
        }
    }
}
