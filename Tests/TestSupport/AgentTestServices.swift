import AgentCore
import FileCopy
import Heartbeat
import KVPAgent
import ShutdownSvc
import Timesync
import VSS

/// The service table the agent tests run: the daemon's entries with test seams (a recording
/// shutdown performer, a simulated clock, an engine over a temporary pool directory).
public enum AgentTestServices {
    public static func make(
        performer: any ShutdownPerformer = DryRunShutdownPerformer(), hibernation: any HibernationSupport = NoHibernation(),
        timesyncMode: TimesyncMode = .discipline, clock: any GuestClock, chrony: ChronySocketSender? = nil,
        healthProbe: (any HealthProbe)? = nil, kvpEngine: KVPEngine? = nil, fileCopy: FileCopyPolicy? = nil,
        vss: VSSAgentService? = nil
    ) -> [any AgentService] {
        var services: [any AgentService] = [
            HeartbeatAgentService(probe: healthProbe),
            ShutdownAgentService(performer: performer, hibernation: hibernation),
            TimesyncAgentService(mode: timesyncMode, clock: clock, chrony: chrony),
        ]
        if let kvpEngine { services.append(KVPAgentService(engine: kvpEngine)) }
        if let fileCopy { services.append(FileCopyAgentService(policy: fileCopy)) }
        if let vss { services.append(vss) }
        return services
    }
}
