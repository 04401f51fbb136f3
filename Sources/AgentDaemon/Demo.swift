import AgentConfig
import AgentCore
import DaemonSupport
import Dispatch
import FoundationEssentials
import HostSimulator
import HVProtocol
import KVPAgent
import Logging
import ShutdownSvc
import SimTransport
import Synchronization
import Timesync

/// `hvagent demo`: the simulated Hyper-V host and the agent in one process, with a live
/// timeline: negotiations, heartbeats, the guest clock converging on host time, the host reading
/// the KVP auto pool and a key the guest set (pools in a temporary directory, never
/// /var/lib/hyperv), a file copy, a backup (a real freeze of the demo's own loop image as root, a
/// labelled dry run otherwise), and a shutdown request carried out as a dry run.
public enum Demo {
    /// Runs the demo for `seconds`; whether every service behaved.
    public static func run(seconds: Double, clockOffsetMilliseconds: Double, driftPPM: Double) throws -> Bool {
        let timeline = Timeline()
        let (hostSocket, agentSocket) = try SimSocket.pair()
        var configuration = SimHostConfiguration()
        configuration.heartbeatInterval = 1
        configuration.timesyncInterval = 1
        let log = ExchangeLog(observer: { record in
            if let line = Self.describe(record) { timeline.log("host", line) }
        })
        let host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: hostSocket), configuration: configuration, log: log)
        let clock = SimulatedClock(source: configuration.timeSource, initialOffsetNanoseconds: Int64(clockOffsetMilliseconds * 1e6),
                                   driftPPM: driftPPM)
        let performer = DemoShutdownPerformer(timeline: timeline)
        let kvp = try DemoKVP(timeline: timeline)
        defer { kvp.removeDirectory() }
        let fileCopy = try DemoFileCopy(timeline: timeline)
        defer { fileCopy.removeDirectory() }
        let backup = try DemoVSS(timeline: timeline)
        defer { backup.remove() }
        // The daemon's defaults (network rules, step threshold), with nothing read from /etc; file
        // copy confined to the demo's own directory, and VSS may touch nothing of this machine: no
        // freeze outside the demo's own loop image, no hooks from /etc, its frozen list there too.
        var settings = AgentSettings()
        try settings.override("fcopy.allowed_roots=\(fileCopy.directory)")
        try backup.configure(&settings)
        let live = LiveSettings(settings, path: "", overrides: [])
        let services = try ServiceTable.build(
            Set(ServiceTable.all),
            in: .init(live: live, shutdownPerformer: performer, hibernation: SysfsHibernationSupport(), timesyncMode: .discipline,
                      clock: clock, kvpPoolDirectory: kvp.directory, ipHelperSocket: ""))
        kvp.hasFacts = services.contains { ($0 as? KVPAgentService)?.facts != nil }
        if !kvp.hasFacts { timeline.log("demo", "kvp: network facts unavailable; the auto pool walk is skipped") }
        let agent = try IntegrationAgent(
            endpoint: SimGuestEndpoint(socket: agentSocket), services: services,
            observer: { event in
                if let line = Timeline.describe(event) { timeline.log("agent", line) }
            })
        for service in services { agent.inputs += service.inputs(events: agent.events(for: service.id)) }
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue(label: "demo-agent").async {
            do { try agent.run() } catch { timeline.log("agent", "stopped: \(error)") }
            finished.signal()
        }
        timeline.log("demo", "guest clock starts \(FixedPoint.text(clockOffsetMilliseconds, digits: 1)) ms off host time, drifting "
                     + "\(FixedPoint.text(driftPPM, digits: 0)) ppm (simulated; the real clock is never touched)")
        let start = Date()
        try host.offerAll()
        // KVP a moment in, once the channels are up; then the rest of the time for heartbeats
        // and timesync.
        _ = try host.run(timeout: seconds - 2.5) { host.isReady(.kvp) }
        try host.run(timeout: min(2, max(0, seconds - 2.5 - Date().timeIntervalSince(start))))
        let kvpOK = kvp.exchange(with: host)
        let fcopyOK = host.isReady(.fcopy) && fileCopy.exchange(with: host)
        let vssOK = host.isReady(.vss) && backup.exchange(with: host)
        try host.run(timeout: max(0, seconds - 2 - Date().timeIntervalSince(start)))
        var shutdownOK = false
        if host.isReady(.shutdown) {
            try host.requestShutdown(flags: 0, reason: ShutdownMessage.reasonPlanned, timeoutSeconds: 30, message: "demo: planned shutdown")
            shutdownOK = try host.run(timeout: 2) { performer.performed && !host.shutdownStatuses.isEmpty }
                && host.shutdownStatuses == [.ok]
        }
        agent.stop()
        finished.wait()
        let error = Double(clock.errorNanoseconds()) / 1e6
        timeline.log("demo", "heartbeats answered: \(host.heartbeatsOK), timesync samples: \(host.timesyncReplies), "
            + "guest clock error now \(FixedPoint.text(error, digits: 3, plus: true)) ms, "
            + "frequency correction \(FixedPoint.text(clock.frequencyCorrectionPPM, digits: 1, plus: true)) ppm")
        let negotiatedAll = ServiceTable.all.allSatisfy { host.negotiated[$0] != nil }
        let ok = negotiatedAll && host.heartbeatsOK > 0 && host.heartbeatFailures.isEmpty && host.protocolErrors.isEmpty && shutdownOK
            && kvpOK && fcopyOK && vssOK
        timeline.log("demo", ok ? "done: all services healthy, shutdown carried out as a dry run" : "done with errors: \(host.protocolErrors + host.heartbeatFailures)")
        return ok
    }

    /// The host lines worth showing; routine requests are left out to keep the timeline readable.
    static func describe(_ record: ExchangeRecord) -> String? {
        switch (record.event, record.type) {
        case ("offer", _): "\(record.channel): offered"
        case ("request", "negotiate"): "\(record.channel): NEGOTIATE offering \(record.detail)"
        case ("reply", "negotiate"): "\(record.channel): negotiation \(record.status == "S_OK" ? "done, \(record.detail)" : "failed: \(record.detail)")"
        case ("request", "timesync") where record.detail.hasPrefix("SYNC"): "timesync: SYNC sent"
        case ("request", "shutdown"): "shutdown: request sent (\(record.detail))"
        case ("reply", "shutdown"): "shutdown: guest replied \(record.status ?? "?")"
        case ("reply", "heartbeat"): "heartbeat: \(record.detail) ok"
        case ("request", "kvp") where !record.detail.hasPrefix("ENUMERATE"): "kvp: \(record.detail)"
        case ("reply", "kvp"): "kvp: guest replied \(record.status ?? "?"), \(record.detail)"
        case ("request", "fcopy"): "fcopy: \(record.detail)"
        case ("reply", "fcopy"): "fcopy: guest replied \(record.status ?? "?") to \(record.detail)"
        case ("request", "vss"): "vss: \(record.detail)"
        case ("reply", "vss"): "vss: guest replied \(record.status ?? "?") (\(record.detail))"
        case ("error", _), ("rescind", _): "\(record.channel): \(record.event) \(record.detail)"
        default: nil
        }
    }
}

/// Shows the shutdown the host asked for instead of performing it.
final class DemoShutdownPerformer: ShutdownPerformer, @unchecked Sendable {
    private let timeline: Timeline
    private let lock = Mutex(())
    private var done = false

    init(timeline: Timeline) {
        self.timeline = timeline
    }

    var performed: Bool {
        return lock.withLock { _ in
            return done
        }
    }

    func perform(_ request: ShutdownRequest) throws {
        timeline.log("agent", "shutdown: dry run, would now run `systemctl \(request.kind.rawValue)`")
        lock.withLock { _ in done = true }
    }
}
