import AgentCore
import Heartbeat
import ArgumentParser
import Foundation
import Logging
import ShutdownSvc
import SimTransport
import Timesync

/// `hvagent run`: the agent. For now over the simulated VMBus of a separate `hvagent sim-host`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent (heartbeat, shutdown, timesync).")

    @Option(help: "Connect to a simulated host (`hvagent sim-host --socket PATH`).")
    var simSocket: String

    @Option(help: "Timesync mode: discipline, chrony or off (default: chrony if chronyd is installed).")
    var timesyncMode: TimesyncMode?

    @Option(help: "chronyd's SOCK refclock socket (chrony mode).")
    var chronySocket: String = "/run/hvagent/chrony.sock"

    @Flag(help: "Discipline the machine's clock instead of a simulated one (needs CAP_SYS_TIME).")
    var systemClock = false

    @Option(help: "Initial error of the simulated guest clock, milliseconds.")
    var simulatedClockOffsetMs: Double = -2500

    @Option(help: "Drift of the simulated guest clock, ppm.")
    var simulatedClockDriftPpm: Double = 100

    @Option(help: "Report heartbeat application health from these systemd units (all active = healthy). Repeatable.")
    var healthUnit: [String] = []

    @Option(help: "Report heartbeat application health from this shell command (exit 0 = healthy).")
    var healthCommand: String?

    @Flag(help: "Really run `systemctl poweroff|reboot|hibernate` when the simulated host asks (default: dry run).")
    var actOnShutdown = false

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let timeline = Timeline()
        let mode = timesyncMode ?? DefaultTimesyncMode.detected
        let clock: any GuestClock
        if systemClock || mode == .chrony {
            // chrony mode only reads the clock (chronyd owns it), and its samples must carry
            // the real system time that chronyd compares them with.
            #if canImport(Glibc)
            clock = SystemClock()
            #else
            throw ValidationError("--system-clock is only available on Linux")
            #endif
        } else {
            clock = SimulatedClock(source: SystemTimeSource(), initialOffsetNanoseconds: Int64(simulatedClockOffsetMs * 1e6),
                                   driftPPM: simulatedClockDriftPpm)
        }
        let chrony = mode == .chrony ? try ChronySocketSender(path: chronySocket) : nil
        let performer: any ShutdownPerformer = actOnShutdown ? CommandShutdownPerformer() : DryRunShutdownPerformer()
        var probe: (any HealthProbe)?
        if let healthCommand {
            probe = CommandHealthProbe(executable: "/bin/sh", arguments: ["-c", healthCommand])
        } else if !healthUnit.isEmpty {
            probe = CommandHealthProbe.systemdUnits(healthUnit)
        }
        let agent = try IntegrationAgent(
            endpoint: SimGuestEndpoint(connectingTo: simSocket),
            configuration: AgentConfiguration(
                shutdownPerformer: performer, timesyncMode: mode, clock: clock, chrony: chrony, heartbeatProbe: probe),
            observer: { event in
                if let line = Timeline.describe(event) { timeline.log("agent", line) }
            })
        timeline.log("agent", "connected to \(simSocket); timesync mode \(mode.rawValue), \(systemClock ? "system" : "simulated") clock")
        try agent.run()
        timeline.log("agent", "host disconnected")
    }
}
