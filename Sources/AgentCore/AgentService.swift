import HVProtocol

/// One integration service as the agent runs it: the entry a service module exports for the
/// daemon's service table (docs/ARCHITECTURE.md, "The service table").
///
/// The agent knows services only through this protocol, so AgentCore imports no service module
/// and adding a service is one folder plus one line in the table. A service is asked for what it
/// needs in the mode the daemon chose for it: a message handler for a channel over hvagent's own
/// ring (uio or the simulator), or, in kernel mode where hv_utils keeps the channel, the loop
/// inputs that serve it through the kernel's interface instead.
public protocol AgentService: AnyObject {
    /// Which service: class GUID, name, version lists.
    var id: ICServiceID { get }

    /// Serves one channel over hvagent's ring. Called for every (re)opened channel: per-channel
    /// state starts fresh, long-lived state (pools, clock discipline) lives in the service.
    func channelHandler(events: ServiceEvents) -> any ICChannelHandler

    /// Kernel mode: what the loop watches to serve the service through the kernel's interface
    /// (KVP's `/dev/vmbus/hv_kvp`, timesync's `hyperv` PTP clock); empty when the kernel does it
    /// all (heartbeat, shutdown). Called once at start.
    func kernelModeInputs(events: ServiceEvents) throws -> [PollInput]

    /// What the loop watches whatever the mode (KVP's network facts, the heartbeat's health
    /// probe). Called once at start.
    func inputs(events: ServiceEvents) -> [PollInput]

    /// The daemon is stopping (SIGTERM, the host went away): undo what must not outlive the
    /// process (VSS thaws). May block; the loop is no longer running.
    func stop()
}

extension AgentService {
    public func kernelModeInputs(events: ServiceEvents) throws -> [PollInput] { [] }
    public func inputs(events: ServiceEvents) -> [PollInput] { [] }
    public func stop() {}
}

/// Where a service reports what it did; the agent's observer (status board, log, timeline) gets
/// every event. Called on the agent's thread.
public struct ServiceEvents: Sendable {
    public let service: ICServiceID
    private let observer: AgentEventObserver?

    public init(service: ICServiceID, observer: AgentEventObserver?) {
        self.service = service
        self.observer = observer
    }

    public func emit(_ event: AgentEvent) { observer?(event) }

    /// Something the service did that is worth a line (``ServiceActivity``).
    public func activity(_ activity: any ServiceActivity) { observer?(.activity(service, activity)) }

    /// An action after a reply failed (the shutdown command, a clock adjustment).
    public func failed(_ error: String) { observer?(.actionFailed(service, error: error)) }
}
