import Heartbeat
import KVPAgent
import ShutdownSvc
import Timesync

/// Which services the agent runs and with what seams.
public struct AgentConfiguration: Sendable {
    public var heartbeatProbe: (any HealthProbe)?
    public var shutdownPerformer: any ShutdownPerformer
    public var hibernation: any HibernationSupport
    public var timesyncMode: TimesyncMode
    /// How far behind a sample must show the guest to step the clock (asked per sample, so a
    /// reload applies to open channels).
    public var timesyncStepThreshold: @Sendable () -> Int64
    public var clock: any GuestClock
    /// Where chrony mode sends samples (nil: chrony mode sends nothing).
    public var chrony: ChronySocketSender?
    /// How long a shutdown waits for the host to consume the reply (docs/PROTOCOL.md §6.2: about 1 s).
    public var replyConsumeTimeout: Double
    /// Serves the KVP channel (pools, auto pool, IP info); nil leaves KVP offers unopened, e.g.
    /// when the kernel's hv_kvp device serves KVP instead.
    public var kvpEngine: KVPEngine?

    public init(shutdownPerformer: any ShutdownPerformer, hibernation: any HibernationSupport = SysfsHibernationSupport(),
                timesyncMode: TimesyncMode, clock: any GuestClock, chrony: ChronySocketSender? = nil,
                heartbeatProbe: (any HealthProbe)? = nil, replyConsumeTimeout: Double = 1.0,
                kvpEngine: KVPEngine? = nil,
                timesyncStepThreshold: @escaping @Sendable () -> Int64 = { TimesyncService.defaultStepThresholdNanoseconds }) {
        self.timesyncStepThreshold = timesyncStepThreshold
        self.shutdownPerformer = shutdownPerformer
        self.hibernation = hibernation
        self.timesyncMode = timesyncMode
        self.clock = clock
        self.chrony = chrony
        self.heartbeatProbe = heartbeatProbe
        self.replyConsumeTimeout = replyConsumeTimeout
        self.kvpEngine = kvpEngine
    }
}
