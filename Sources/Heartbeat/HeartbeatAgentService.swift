import AgentCore
import HVProtocol
import ICFramework

/// The heartbeat's entry in the daemon's service table. Kernel mode needs nothing from the agent
/// (hv_utils answers heartbeats itself).
public final class HeartbeatAgentService: AgentService {
    public let id = ICServiceID.heartbeat
    /// What `application_state` reports; nil echoes the host's value, as Linux does.
    public let probe: (any HealthProbe)?

    public init(probe: (any HealthProbe)?) {
        self.probe = probe
    }

    public func channelHandler(events: ServiceEvents) -> any ICChannelHandler {
        ServiceChannelHandler(HeartbeatService(healthProbe: probe), events: events, observe: { outcome, service in
            if case .handled(.heartbeat, _) = outcome.event, let sequence = service.lastSequence {
                events.activity(HeartbeatAnswered(sequence: sequence))
            }
        })
    }

    /// The probe's background command: its end is a loop event, so no probe ever stalls the loop
    /// (the descriptor may change when a reload replaces the probe).
    public func inputs(events: ServiceEvents) -> [PollInput] {
        guard let probe else { return [] }
        return [PollInput(currentDescriptor: { probe.descriptor }) { probe.handleReadable() }]
    }
}

/// A heartbeat request answered with `sequence + 1`.
public struct HeartbeatAnswered: ServiceActivity, Hashable {
    public var sequence: UInt64

    public init(sequence: UInt64) {
        self.sequence = sequence
    }
    public var description: String { "seq \(sequence) -> \(sequence &+ 1)" }
    public var isRoutine: Bool { true }
}
