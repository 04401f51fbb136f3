import HVProtocol
/// What a service handler returns for one request: the reply's status and body, and an
/// action the runtime carries out only after the host consumed the reply.
public struct ICHandled<Action: Sendable>: Sendable {
    public var status: HResult
    /// The reply body. Linux echoes the request body (modified in place), so do we.
    public var body: [UInt8]
    public var action: Action?

    public init(status: HResult, body: [UInt8], action: Action? = nil) {
        self.status = status
        self.body = body
        self.action = action
    }
}

/// One integration service as a pure message handler. `ICEndpoint` owns framing,
/// negotiation and error replies; a service only sees validated requests of its own types.
public protocol ICService {
    /// What the runtime does after the reply is consumed (e.g. power off).
    associatedtype Action: Sendable

    /// Service versions, newest first.
    var serviceVersions: [ICVersion] { get }
    /// Framework versions, newest first.
    var frameworkVersions: [ICVersion] { get }

    /// Body bytes a request of this type needs at `version`, or nil if the type is not
    /// this service's (it then gets E_FAIL).
    func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int?

    /// Handles a validated request of one of this service's types.
    mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<Action>

    /// Forgets all per-negotiation state; called for every NEGOTIATE (docs/PROTOCOL.md §8 Q5).
    mutating func reset()
}

extension ICService {
    public var frameworkVersions: [ICVersion] { ICServiceID.heartbeat.frameworkVersions }
}
