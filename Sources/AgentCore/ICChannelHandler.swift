import ICFramework

/// One IC channel's message handling, independent of the service type, so the event loop can
/// hold heterogeneous channels.
protocol ICChannelHandler: AnyObject {
    var serviceName: String { get }
    /// Handles one payload: the reply to send (if any), and work to run once the host
    /// consumed the reply.
    func handle(_ payload: [UInt8]) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?)
}

/// Adapts an `ICEndpoint<Service>` to `ICChannelHandler`.
final class ServiceChannelHandler<Service: ICService>: ICChannelHandler {
    private var endpoint: ICEndpoint<Service>
    private let perform: (Service.Action, inout ICEndpoint<Service>) -> ((Bool) -> Void)?
    private let observe: (ICOutcome<Service.Action>, ICEndpoint<Service>) -> Void

    init(service: Service,
         perform: @escaping (Service.Action, inout ICEndpoint<Service>) -> ((Bool) -> Void)?,
         observe: @escaping (ICOutcome<Service.Action>, ICEndpoint<Service>) -> Void) {
        endpoint = ICEndpoint(service: service)
        self.perform = perform
        self.observe = observe
    }

    var serviceName: String { endpoint.service.name }

    func handle(_ payload: [UInt8]) -> (reply: [UInt8]?, deferred: ((Bool) -> Void)?) {
        let outcome = endpoint.process(payload)
        observe(outcome, endpoint)
        let deferred = outcome.action.flatMap { perform($0, &endpoint) }
        return (outcome.reply, deferred)
    }
}
