import ICFramework
import HVProtocol
import IPInjection

/// The KVP (Data Exchange) integration component over our own VMBus ring: the ring front end
/// of ``KVPEngine``, doing what drivers/hv/hv_kvp.c plus hv_kvp_daemon do together.
///
/// `ICEndpoint` owns framing and negotiation (framework 3.0, 1.0 and KVP 4.0, 3.0, 1.0, newest
/// first, exactly Linux `fw_versions` / `kvp_versions`); this type only sees validated
/// KVPEXCHANGE (type 2) requests. The body is decoded by ``HostMessage`` as `kvp_send_key()`
/// converts it, run through the engine, and the answer is written into the same body in place
/// as `kvp_respond_to_host()` does, so the reply has exactly the request's length.
///
/// Where this differs from the kernel (see docs/COMPATIBILITY.md):
/// - A body shorter than the 2580 bytes every non-IP operation needs is dropped and counted by
///   `ICEndpoint` (the kernel reads past it into stale buffer bytes); an IP-info operation with
///   fewer than 7428 bytes is answered HV_E_FAIL with the body untouched.
/// - Message types other than NEGOTIATE and KVPEXCHANGE get E_FAIL like every IC here (the
///   kernel logs them and does not answer, which leaves the host waiting).
/// - There is no user-space hand-off, so there is no 30 s daemon timeout and no "daemon not
///   registered" HV_E_FAIL: every request is answered at once.
public struct KVPICService: ICService {
    /// A SET_IP_INFO whose reply is held until the configuration was applied (or not): the
    /// engine's ``KVPEngine/ipInjection`` runs it, ``KVPAgentService``'s channel handler sends the
    /// reply when it finishes.
    public typealias Action = HostIPSettings

    /// What the kernel registers with hv_kvp_daemon (HV_DRV_VERSION), and so what Hyper-V shows as
    /// IntegrationServicesVersion for a Linux guest; the ring front end reports the same.
    public static let integrationServicesVersion = "3.1"

    /// One answered request, for the timeline and tests.
    public struct Exchange: Equatable, Sendable {
        /// nil when the body was too short for the operation it names.
        public var request: KVPRequest?
        public var status: HResult
    }

    /// Shared with the rest of the agent (the pool files are locked across processes).
    public let engine: KVPEngine
    /// The last request answered since negotiation.
    public private(set) var lastExchange: Exchange?

    public var serviceVersions: [ICVersion] { ICServiceID.kvp.serviceVersions }
    public var frameworkVersions: [ICVersion] { ICServiceID.heartbeat.frameworkVersions }

    /// Sets the engine's IntegrationServicesVersion to the kernel's "3.1" unless a caller chose one.
    public init(engine: KVPEngine) {
        self.engine = engine
        if engine.integrationServicesVersion == nil {
            engine.integrationServicesVersion = Self.integrationServicesVersion
        }
    }

    /// Every version Linux negotiates (1.0, 3.0, 4.0) uses the same layout with string IP fields;
    /// the operation decides between 2580 and 7428 bytes, checked in `handle`.
    public func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .kvpExchange ? HostMessage.minimumSize : nil
    }

    public mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<HostIPSettings> {
        guard var message = HostMessage(bytes: request.body) else {
            // Only an IP-info operation can get here (the endpoint checked 2580 bytes).
            lastExchange = Exchange(request: nil, status: .fail)
            return ICHandled(status: .fail, body: request.body)
        }
        let kvpRequest = message.request()
        if case let .setIPInfo(settings) = kvpRequest, engine.ipInjection != nil {
            // Status-only reply: the body goes back as received, the status comes later.
            lastExchange = Exchange(request: kvpRequest, status: .ok)
            return ICHandled(status: .ok, body: message.bytes, action: settings)
        }
        let status = message.encodeReply(engine.handle(kvpRequest), for: kvpRequest)
        lastExchange = Exchange(request: kvpRequest, status: status)
        return ICHandled(status: HResult(rawValue: status.rawValue), body: message.bytes)
    }

    public mutating func reset() {
        lastExchange = nil
    }
}

// The engine is confined to the thread that runs the agent's loop (one request at a time, as
// the host sends them); the configuration only carries it there.
extension KVPEngine: @unchecked Sendable {}
