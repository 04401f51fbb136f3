import NetInfo

/// What applies a host SET_IP_INFO: ``IPInjector`` in this process, or ``IPHelperClient``, which
/// asks `hvagent ip-helper` (the one process holding CAP_NET_ADMIN) to run its ``IPInjector``.
/// KVPAgent's `IPInjectionRunner` calls it on a thread of its own; it may block, but must return
/// within hv_utils' 30-second transaction timeout.
public protocol IPInjecting: Sendable {
    func set(_ settings: HostIPSettings) -> IPInjector.Outcome
}

extension IPInjector: IPInjecting {}

extension IPInjector {
    /// The injector as `[kvp] ip_injection`, `ip_verify_timeout_seconds` and `pool_dir` configure
    /// it, built the same way in the agent (in-process) and in `hvagent ip-helper`: the backend
    /// chosen per request by ``BackendSelector``, verified through the rtnetlink `tracker`, the
    /// compatibility files written into `compatibilityDirectory`.
    public convenience init(kind: IPInjectionBackendKind, tracker: AddressTracker, verifyTimeout: Duration,
                            compatibilityDirectory: String?) {
        let selector = BackendSelector(kind: kind, tracker: tracker)
        self.init(backends: selector.backend(for:), probe: TrackerStateProbe(tracker: tracker),
                  policy: Policy(verifyTimeout: verifyTimeout, compatibilityDirectory: compatibilityDirectory))
    }
}
