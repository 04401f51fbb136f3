import Synchronization

/// The probe the daemon gives the heartbeat service: whatever the configuration names now.
///
/// The heartbeat channel keeps its service for as long as it is open, so a reload (SIGHUP) that
/// changes `[heartbeat] health_units` or `health_command` swaps the probe inside this holder
/// rather than reopening the channel. The swap also drops the old probe's cached result, so the
/// next heartbeat reports the new probe's answer.
public final class ReplaceableHealthProbe: HealthProbe {
    private let current: Mutex<(any HealthProbe)?>

    public init(_ probe: (any HealthProbe)?) {
        current = Mutex(probe)
    }

    public func replace(with probe: (any HealthProbe)?) {
        current.withLock { $0 = probe }
    }

    public func applicationState() -> ApplicationState? {
        current.withLock { $0 }?.applicationState()
    }
}
