import HVSystem
import ProcessSupport
import Synchronization

/// The probe the daemon gives the heartbeat service: whatever the configuration names now.
///
/// The heartbeat channel keeps its service for as long as it is open, so a reload (SIGHUP) that
/// changes `[heartbeat] health_units` or `health_command` swaps the probe inside this holder
/// rather than reopening the channel. The swap also drops the old probe's answer, so the next
/// heartbeats report the new probe's answer once it has one (the host's value is echoed until then).
///
/// The event loop watches the holder as one input: ``descriptor`` is an ``EventSet`` holding the
/// current probe's descriptor and those of replaced probes whose cancelled commands are not
/// reaped yet, so a reload neither waits for the old command nor leaves it a zombie.
public final class ReplaceableHealthProbe: HealthProbe {
    private struct Probes {
        var current: (any HealthProbe)?
        /// Replaced probes still collecting their cancelled background work.
        var retired: [any HealthProbe] = []
    }

    private let probes: Mutex<Probes>
    /// nil when no descriptor was left: the current probe's own descriptor is polled instead, and
    /// a replaced probe is simply dropped (its deinit kills and reaps what it ran).
    private let events = EventSet()

    public init(_ probe: (any HealthProbe)?) {
        probes = Mutex(Probes(current: probe))
        if let probe { watch(probe) }
    }

    /// Puts `probe` in place; the old one's background work is cancelled (killed, and reaped
    /// through ``handleReadable()``). Asks the new probe once, which starts its first run unless
    /// it already has.
    public func replace(with probe: (any HealthProbe)?) {
        if let probe { watch(probe) }
        let old = probes.withLock { probes in
            let old = probes.current
            probes.current = probe
            return old
        }
        _ = probe?.applicationState()
        // The same probe again (a class instance) stays as it is.
        guard let old, probe.map({ ($0 as AnyObject) !== (old as AnyObject) }) ?? true else { return }
        old.cancel()
        if old.isRunning && events != nil {
            probes.withLock { $0.retired.append(old) }
        } else {
            unwatch(old)
        }
    }

    /// Stable while the holder lives, unless no descriptor was left for its set.
    public var descriptor: Int32 {
        events?.descriptor ?? probes.withLock { $0.current }?.descriptor ?? -1
    }

    public var isRunning: Bool {
        let (current, retired) = probes.withLock { ($0.current, $0.retired) }
        return current?.isRunning == true || retired.contains { $0.isRunning }
    }

    public func applicationState() -> ApplicationState? {
        probes.withLock { $0.current }?.applicationState()
    }

    public func handleReadable() {
        let (current, retired) = probes.withLock { ($0.current, $0.retired) }
        current?.handleReadable()
        guard !retired.isEmpty else { return }
        for probe in retired { probe.handleReadable() }
        let done = probes.withLock { probes in
            let done = probes.retired.filter { !$0.isRunning }
            probes.retired.removeAll { !$0.isRunning }
            return done
        }
        for probe in done { unwatch(probe) }
    }

    public func cancel() {
        probes.withLock { $0.current }?.cancel()
    }

    private func watch(_ probe: any HealthProbe) {
        if probe.descriptor >= 0 { events?.watch(probe.descriptor) }
    }

    private func unwatch(_ probe: any HealthProbe) {
        if probe.descriptor >= 0 { events?.unwatch(probe.descriptor) }
    }
}
