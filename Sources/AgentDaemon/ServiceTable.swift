import AgentConfig
import AgentCore
import FileCopy
import Heartbeat
import HVProtocol
import IPInjection
import KVPAgent
import KVPStore
import ShutdownSvc
import Timesync
import VSS

/// The services hvagent runs: one entry each (docs/ARCHITECTURE.md, "The service table").
///
/// Adding a service is its folder (wire types in HVProtocol, an ``AgentService`` in its module)
/// and one line here. Entries are built only for the services a start-up asks for, so a service
/// that is off or left to the kernel opens nothing (KVP opens its pools only when served).
public enum ServiceTable {
    /// What the entries need that depends on how the agent runs (installed daemon, simulated
    /// VMBus, demo, kvp-daemon).
    public struct Environment {
        public var live: LiveSettings
        public var shutdownPerformer: any ShutdownPerformer
        public var hibernation: any HibernationSupport
        public var timesyncMode: TimesyncMode
        public var clock: any GuestClock
        public var chrony: ChronySocketSender?
        public var kvpPoolDirectory: String
        public var kvpLockTimeout: Double
        public var kvpDevicePath: String
        /// `[kvp] ip_helper_socket`; "" applies SET_IP_INFO in this process (the demo, simulated VMBus).
        public var ipHelperSocket: String

        /// The defaults serve nothing for real: a dry-run shutdown, no clock discipline.
        public init(live: LiveSettings, shutdownPerformer: any ShutdownPerformer = DryRunShutdownPerformer(),
                    hibernation: any HibernationSupport = SysfsHibernationSupport(), timesyncMode: TimesyncMode = .off,
                    clock: any GuestClock = SystemClock(), chrony: ChronySocketSender? = nil, kvpPoolDirectory: String? = nil,
                    kvpLockTimeout: Double = 10, kvpDevicePath: String? = nil, ipHelperSocket: String? = nil) {
            self.live = live
            self.shutdownPerformer = shutdownPerformer
            self.hibernation = hibernation
            self.timesyncMode = timesyncMode
            self.clock = clock
            self.chrony = chrony
            self.kvpPoolDirectory = kvpPoolDirectory ?? live.current[.kvpPoolDir]
            self.kvpLockTimeout = kvpLockTimeout
            self.kvpDevicePath = kvpDevicePath ?? live.current[.kvpDevice]
            self.ipHelperSocket = ipHelperSocket ?? live.current[.ipHelperSocket]
        }
    }

    /// The table, in the order services are listed by status and doctor.
    static let entries: [(id: ICServiceID, make: @Sendable (Environment) throws -> any AgentService)] = [
        (.heartbeat, { HeartbeatAgentService(probe: $0.live.healthProbe) }),
        (.shutdown, { ShutdownAgentService(performer: $0.shutdownPerformer, hibernation: $0.hibernation) }),
        (.timesync, { env in
            let live = env.live
            return TimesyncAgentService(mode: env.timesyncMode, clock: env.clock, chrony: env.chrony,
                                        stepThresholdNanoseconds: { live.stepThresholdNanoseconds }) }),
        (.kvp, { env in
            let kvp = try KVPAgentService(poolDirectory: env.kvpPoolDirectory, lockTimeout: env.kvpLockTimeout,
                                          devicePath: env.kvpDevicePath, interfaceRules: env.live.interfaceRules,
                                          ipInjection: env.live.current[.ipInjection].backendKind,
                                          ipVerifyTimeout: .seconds(env.live.current[.ipVerifyTimeoutSeconds]),
                                          ipHelperSocket: env.ipHelperSocket)
            if let facts = kvp.facts { env.live.follow(facts) }
            return kvp }),
        (.fcopy, { FileCopyAgentService(policy: FileCopyPolicy(allowedRoots: $0.live.current[.fcopyAllowedRoots]), devicePath: $0.live.current[.fcopyDevice]) }),
        (.vss, { try VSSAgentService(settings: $0.live.current) }),
    ]

    /// Every service in the table.
    public static var all: [ICServiceID] { entries.map(\.id) }

    /// Builds the entries for `services`, in table order.
    public static func build(_ services: Set<ICServiceID>, in environment: Environment) throws -> [any AgentService] {
        try entries.filter { services.contains($0.id) }.map { try $0.make(environment) }
    }
}

extension IPInjectionChoice {
    /// The backend kind the choice names; nil for `off`. Read by the agent and by `hvagent ip-helper`.
    public var backendKind: IPInjectionBackendKind? {
        switch self {
        case .off: nil
        case .auto: .automatic
        case .networkmanager: .networkManager
        case .networkd: .networkd
        case .netplan: .netplan
        case .ifcfg: .ifcfg
        case .netlink: .netlink
        }
    }
}
