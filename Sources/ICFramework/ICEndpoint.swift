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

    @inlinable
    public init(reply: [UInt8]?, action: Action?, event: ICEvent) {
        self.reply = reply
        self.action = action
        self.event = event
    }
}

/// Framing + negotiation state for one IC channel, driving one `ICService`.
///
/// `process` is `@inlinable`, so a service module that builds its channel handler
/// (`ServiceChannelHandler`, AgentCore) gets it specialized for its own service type: unspecialized,
/// the generic outcome and request values cost four metadata look-ups and value-witness copies
/// per packet, a third of the agent's work per heartbeat (docs/PERFORMANCE.md, "Integration
/// services"). The stored state is `@usableFromInline` for that reason only; it is read-only
/// outside this file.
public struct ICEndpoint<Service: ICService> {
    public var service: Service { storedService }
    /// The versions of the last successful NEGOTIATE, or nil.
    public var negotiated: NegotiatedVersions? { storedNegotiated }
    public var counters: ICCounters { storedCounters }
    @usableFromInline var storedService: Service
    @usableFromInline var storedNegotiated: NegotiatedVersions?
    @usableFromInline var storedCounters = ICCounters()

    public init(service: Service) {
        storedService = service
    }

    /// Lets the runtime reach service configuration (e.g. the timesync discipline).
    public mutating func withService<R>(_ body: (inout Service) -> R) -> R {
        body(&storedService)
    }

    /// Processes one packet payload (pipe header onwards).
    @inlinable
    public mutating func process(_ payload: [UInt8]) -> ICOutcome<Service.Action> {
        payload.withUnsafeBytes { process($0) }
    }

    /// The same over a private copy of the payload valid during the call (a ring packet's, as the
    /// channel hands it over): nothing of it is kept but the body ICRequest copies out.
    @inlinable
    public mutating func process(_ payload: UnsafeRawBufferPointer) -> ICOutcome<Service.Action> {
        storedCounters.received += 1
        let request: ICRequest
        let service = storedService
        let negotiated = storedNegotiated
        do throws(ICParseError) {
            request = try ICRequest.parse(payload) { header in
                service.minimumBodySize(
                    for: header.messageType, version: Self.bodyVersion(for: header, negotiated: negotiated)) ?? 0
            }
        } catch {
            storedCounters.dropped += 1
            return ICOutcome(reply: nil, action: nil, event: .dropped(error))
        }
        storedCounters.replied += 1

        if request.header.messageType == .negotiate {
            // Any NEGOTIATE, in any state, is a full reset (channel reopen, restore, resume).
            storedService.reset()
            storedCounters.negotiations += 1
            let (body, result) = ICNegotiation.replyBody(
                for: request.body, guestFrameworks: service.frameworkVersions,
                guestServices: service.serviceVersions)
            storedNegotiated = result
            if result == nil { storedCounters.failedNegotiations += 1 }
            let reply = request.reply(
                status: request.header.status, body: body, messageSize: ICNegotiation.replyMessageSize)
            return ICOutcome(reply: reply, action: nil, event: result.map { .negotiated($0) } ?? .negotiationFailed)
        }

        let version = Self.bodyVersion(for: request.header, negotiated: negotiated)
        guard service.minimumBodySize(for: request.header.messageType, version: version) != nil else {
            storedCounters.unknownTypes += 1
            return ICOutcome(
                reply: request.reply(status: .fail, body: request.body), action: nil,
                event: .unknownType(request.header.messageType))
        }
        let handled = storedService.handle(request, version: version)
        return ICOutcome(
            reply: request.reply(status: handled.status, body: handled.body), action: handled.action,
            event: .handled(type: request.header.messageType, status: handled.status))
    }

    /// The service version that governs the body layout: the negotiated one, else (a host
    /// that skipped negotiation) the version the host wrote in the header.
    @usableFromInline
    static func bodyVersion(for header: ICMessageHeader, negotiated: NegotiatedVersions?) -> ICVersion {
        negotiated?.service ?? header.messageVersion
    }
}
