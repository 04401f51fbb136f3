import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Serves SET_IP_INFO: checks the host's request, writes the compatibility files, applies the
/// configuration through a backend, waits (bounded) until the kernel shows it, and rolls back when
/// it does not (docs/PROTOCOL.md §7.19, docs/ARCHITECTURE.md "IP injection").
///
/// ``set(_:)`` blocks (a backend talks to a network manager, the verification waits for the
/// kernel): it runs on a thread of its own (KVPAgent's `IPInjectionRunner`), and the front ends hold
/// the host's reply until it returns, so the agent's loop keeps serving heartbeats and KVP. One
/// request at a time — the kernel and the host send one transaction at a time; the runner answers
/// a second that arrives anyway HV_E_FAIL at once instead of racing the first.
public final class IPInjector: Sendable {
    public struct Policy: Sendable {
        /// How long the kernel may take to show the configuration before it is rolled back. Below
        /// hv_utils' 30 s transaction timeout (HV_UTIL_TIMEOUT), after which the kernel would answer
        /// the host itself.
        public var verifyTimeout: Duration
        /// How often the kernel's state is read while waiting.
        public var pollInterval: Duration
        /// Where `ifcfg-<if>` and `<if>.nmconnection` are written (`/var/lib/hyperv`); nil writes none.
        public var compatibilityDirectory: String?
        /// After a rollback, how long to wait for the kernel to show the previous addresses and
        /// default routes again before answering: a manager may restore asynchronously
        /// (NetworkManager reactivates the earlier profile), and the host should get HV_E_FAIL when
        /// the VM is back as it was, not while it has no address at all. Also bounded by
        /// ``replyBudget``.
        public var restoreTimeout: Duration
        /// The whole request, from its start to the answer, stays within this: below hv_utils' 30 s
        /// and the IP helper client's 28 s, so the restore wait is cut short rather than the answer
        /// arriving after the kernel gave up.
        public var replyBudget: Duration

        public init(verifyTimeout: Duration = .seconds(20), pollInterval: Duration = .milliseconds(200),
                    compatibilityDirectory: String? = "/var/lib/hyperv", restoreTimeout: Duration = .seconds(5),
                    replyBudget: Duration = .seconds(27)) {
            self.verifyTimeout = verifyTimeout
            self.pollInterval = pollInterval
            self.compatibilityDirectory = compatibilityDirectory
            self.restoreTimeout = restoreTimeout
            self.replyBudget = replyBudget
        }
    }

    /// What became of one request: the host's status and the line the agent logs.
    public struct Outcome: Equatable, Sendable {
        public var status: HResult
        public var message: String

        public init(status: HResult, message: String) {
            self.status = status
            self.message = message
        }
    }

    private let backends: @Sendable (InjectionInterface) -> any IPConfigurationBackend
    private let probe: any IPStateProbe
    private let locator: InterfaceLocator
    private let policy: Policy

    /// - Parameter backends: the backend for an interface (``BackendSelector/backend(for:)``):
    ///   which one applies depends on what manages that interface now, so it is asked per request.
    public init(backends: @escaping @Sendable (InjectionInterface) -> any IPConfigurationBackend, probe: any IPStateProbe,
                locator: InterfaceLocator = InterfaceLocator(), policy: Policy = Policy()) {
        self.backends = backends
        self.probe = probe
        self.locator = locator
        self.policy = policy
    }

    /// One backend for every interface (tests, a forced choice).
    public convenience init(backend: any IPConfigurationBackend, probe: any IPStateProbe,
                            locator: InterfaceLocator = InterfaceLocator(), policy: Policy = Policy()) {
        self.init(backends: { _ in backend }, probe: probe, locator: locator, policy: policy)
    }

    public func set(_ settings: HostIPSettings) -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        do throws(IPConfigurationError) {
            let interface = try locator.interface(forAdapterGUID: settings.adapterID)
            let configuration = try IPConfiguration(parsing: settings)
            if let directory = policy.compatibilityDirectory {
                try writeCompatibilityFiles(settings, interface: interface, directory: directory)
            }
            let backend = backends(interface)
            let before = probe.observe(interface)
            let undo = try backend.apply(configuration, to: interface)
            let verifyTimeout = min(policy.verifyTimeout, backend.longestVerification ?? policy.verifyTimeout)
            let missing = waitUntil(on: interface, timeout: verifyTimeout) { configuration.missing(in: $0) }
            guard missing.isEmpty else {
                let rollback: String
                do throws(IPConfigurationError) {
                    try undo.undo()
                    let left = start.duration(to: clock.now)
                    let restoreTimeout = max(.zero, min(policy.restoreTimeout, policy.replyBudget - left))
                    let notBack = waitUntil(on: interface, timeout: restoreTimeout) { Self.missing(before, in: $0) }
                    rollback = notBack.isEmpty ? "previous configuration restored"
                        : "previous configuration put back, but \(notBack.joined(separator: ", ")) not shown again within \(restoreTimeout)"
                } catch {
                    rollback = "restoring the previous configuration failed too: \(error)"
                }
                throw .failed("\(interface.name) did not show \(missing.joined(separator: ", ")) within "
                              + "\(verifyTimeout) after \(backend.name) applied it; \(rollback)")
            }
            return Outcome(status: .ok, message: "SET_IP_INFO applied to \(interface.name) by \(backend.name): "
                           + Self.summary(configuration))
        } catch {
            return Outcome(status: error.status, message: "SET_IP_INFO for \(settings.adapterID) answered \(error.status): \(error)")
        }
    }

    private func writeCompatibilityFiles(_ settings: HostIPSettings, interface: InjectionInterface,
                                         directory: String) throws(IPConfigurationError) {
        let files = try CompatibilityFiles(interface: interface.name, mac: interface.mac, settings: settings)
        do {
            try ConfigurationFileWriter.write(files.ifcfg, directory: directory, name: CompatibilityFiles.ifcfgName(interface.name))
            try ConfigurationFileWriter.write(files.keyfile, directory: directory, name: CompatibilityFiles.keyfileName(interface.name))
        } catch {
            throw .failed("writing the compatibility files in \(directory): \(error)")
        }
    }

    /// What of the state before the request `state` does not show: its addresses and default
    /// routes (what the undo must bring back).
    static func missing(_ before: ObservedIPState, in state: ObservedIPState) -> [String] {
        before.addresses.subtracting(state.addresses).map { "address \($0)" }.sorted()
            + before.defaultGateways.subtracting(state.defaultGateways).map { "default route via \($0)" }.sorted()
    }

    /// Polls the kernel's state until `missing` finds nothing or the timeout passes; returns what
    /// is still missing.
    private func waitUntil(on interface: InjectionInterface, timeout: Duration,
                           _ missingIn: (ObservedIPState) -> [String]) -> [String] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let missing = missingIn(probe.observe(interface))
            if missing.isEmpty || clock.now >= deadline { return missing }
            let pause = min(policy.pollInterval, clock.now.duration(to: deadline)).components
            usleep(UInt32(max(0, pause.seconds * 1_000_000 + pause.attoseconds / 1_000_000_000_000)))
        }
    }

    static func summary(_ c: IPConfiguration) -> String {
        var parts: [String] = []
        if c.dhcpV4 { parts.append("IPv4 by DHCP") }
        if !c.addresses.isEmpty { parts.append("addresses " + c.addresses.map(\.description).joined(separator: ", ")) }
        if !c.gateways.isEmpty { parts.append("gateways " + c.gateways.map(\.description).joined(separator: ", ")) }
        if !c.dnsServers.isEmpty { parts.append("DNS " + c.dnsServers.map(\.description).joined(separator: ", ")) }
        return parts.isEmpty ? "no addresses" : parts.joined(separator: "; ")
    }
}
