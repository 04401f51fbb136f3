import HVProtocol
/// What happened to one packet, for logs, counters and the demo timeline.
public enum ICEvent: Hashable, Sendable {
    case negotiated(NegotiatedVersions)
    /// A NEGOTIATE with no common version; answered with counts 0/0.
    case negotiationFailed
    case handled(type: ICMessageType, status: HResult)
    /// A well-formed message of a type this service does not know; answered with E_FAIL.
    case unknownType(ICMessageType)
    /// Not answered.
    case dropped(ICParseError)
}

/// Per-channel counters.
public struct ICCounters: Hashable, Sendable {
    public var received = 0
    public var replied = 0
    public var dropped = 0
    public var unknownTypes = 0
    public var negotiations = 0
    public var failedNegotiations = 0
    public init() {}
}

/// The result of processing one packet.
public struct ICOutcome<Action: Sendable>: Sendable {
    /// Payload bytes to send (packet type 6, flags 0), or nil if the packet was dropped.
    public var reply: [UInt8]?
    /// To run after the reply was consumed by the host.
    public var action: Action?
    public var event: ICEvent
}

/// Framing + negotiation state for one IC channel, driving one `ICService`.
public struct ICEndpoint<Service: ICService> {
    public private(set) var service: Service
    /// The versions of the last successful NEGOTIATE, or nil.
    public private(set) var negotiated: NegotiatedVersions?
    public private(set) var counters = ICCounters()

    public init(service: Service) {
        self.service = service
    }

    /// Lets the runtime reach service configuration (e.g. the timesync discipline).
    public mutating func withService<R>(_ body: (inout Service) -> R) -> R {
        body(&service)
    }

    /// Processes one packet payload (pipe header onwards).
    public mutating func process(_ payload: [UInt8]) -> ICOutcome<Service.Action> {
        counters.received += 1
        let request: ICRequest
        let service = self.service
        let negotiated = self.negotiated
        do throws(ICParseError) {
            request = try ICRequest.parse(payload) { header in
                service.minimumBodySize(
                    for: header.messageType, version: Self.bodyVersion(for: header, negotiated: negotiated)) ?? 0
            }
        } catch {
            counters.dropped += 1
            return ICOutcome(reply: nil, action: nil, event: .dropped(error))
        }
        counters.replied += 1

        if request.header.messageType == .negotiate {
            // Any NEGOTIATE, in any state, is a full reset (channel reopen, restore, resume).
            self.service.reset()
            counters.negotiations += 1
            let (body, result) = ICNegotiation.replyBody(
                for: request.body, guestFrameworks: service.frameworkVersions,
                guestServices: service.serviceVersions)
            self.negotiated = result
            if result == nil { counters.failedNegotiations += 1 }
            let reply = request.reply(
                status: request.header.status, body: body, messageSize: ICNegotiation.replyMessageSize)
            return ICOutcome(reply: reply, action: nil, event: result.map { .negotiated($0) } ?? .negotiationFailed)
        }

        let version = Self.bodyVersion(for: request.header, negotiated: negotiated)
        guard service.minimumBodySize(for: request.header.messageType, version: version) != nil else {
            counters.unknownTypes += 1
            return ICOutcome(
                reply: request.reply(status: .fail, body: request.body), action: nil,
                event: .unknownType(request.header.messageType))
        }
        let handled = self.service.handle(request, version: version)
        return ICOutcome(
            reply: request.reply(status: handled.status, body: handled.body), action: handled.action,
            event: .handled(type: request.header.messageType, status: handled.status))
    }

    /// The service version that governs the body layout: the negotiated one, else (a host
    /// that skipped negotiation) the version the host wrote in the header.
    private static func bodyVersion(for header: ICMessageHeader, negotiated: NegotiatedVersions?) -> ICVersion {
        negotiated?.service ?? header.messageVersion
    }
}
