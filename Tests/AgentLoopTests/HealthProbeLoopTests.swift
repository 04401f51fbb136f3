import Foundation
import TestSupport
import HostSimulator
import Testing

/// The heartbeat's health probe runs beside the event loop, not in it: a probe command that takes
/// 5 s must not hold up heartbeat and timesync replies (before, the loop ran it synchronously and
/// answered nothing for those 5 s), and a configured probe must not wake an idle agent.
@Suite struct HealthProbeLoopTests {
    /// Heartbeat and timesync request-to-reply times (seconds) in an exchange log, in order.
    static func roundTrips(_ records: [ExchangeRecord]) -> [Double] {
        var sent: [String: Double] = [:]
        var trips: [Double] = []
        for record in records where (record.channel == "heartbeat" || record.channel == "timesync") && record.type != "negotiate" {
            if record.event == "request" {
                sent[record.channel] = record.time
            } else if record.event == "reply", let time = sent.removeValue(forKey: record.channel) {
                trips.append(record.time - time)
            }
        }
        return trips
    }

    /// A sim host started with `hostArguments` (and the session's log) and `hvagent run` against
    /// it with `[heartbeat] health_command = command`.
    static func start(_ session: AgentProcesses.Session, healthCommand command: String,
                      host hostArguments: [String]) throws -> (host: Process, agent: Process) {
        let config = session.directory + "/hvagent.conf"
        try "[heartbeat]\nhealth_command = \(command)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let host = try AgentProcesses.startSimHost(socket: session.socket, hostArguments + ["--log", session.log])
        let agent = try AgentProcesses.start(["run", "--sim-socket", session.socket, "--timesync-mode", "off", "--config", config])
        return (host, agent)
    }

    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func aFiveSecondProbeDoesNotStallTheLoop() throws {
        let session = try AgentProcesses.Session("probe-stall")
        let log = session.log
        let (host, agent) = try Self.start(session, healthCommand: "sleep 5",
                                           host: ["--heartbeat-interval", "0.2", "--timesync-interval", "0.3", "--seconds", "60"])
        defer { if host.isRunning { host.terminate() } }
        defer { if agent.isRunning { agent.terminate() } }

        // The first run starts with the agent and ends (exit 0 or the 5 s timeout) after 5-6 s; the
        // heartbeats go on meanwhile, echoing the host's value until the answer is there.
        #expect(AgentProcesses.eventually(15) { !AgentProcesses.healthSeen(log).isEmpty }, "the probe never answered")
        usleep(500_000)
        agent.terminate()
        agent.waitUntilExit()

        let trips = Self.roundTrips(try AgentProcesses.exchangeLog(log))
        let longest = trips.max() ?? .infinity
        print("5 s health probe: \(trips.count) round trips, longest \(Int(longest * 1000)) ms")
        #expect(trips.count >= 20, "the host got \(trips.count) replies")
        #expect(longest < 1, "the loop stalled for \(longest) s")
    }

    /// With a probe configured and the host quiet, the agent does not wake: the probe refreshes only
    /// when a heartbeat asks, never on a timer.
    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func aConfiguredProbeDoesNotWakeAnIdleAgent() throws {
        let session = try AgentProcesses.Session("probe-idle")
        let (host, agent) = try Self.start(session, healthCommand: "true",
                                           host: ["--heartbeat-interval", "60", "--timesync-interval", "60", "--seconds", "30"])
        defer { if host.isRunning { host.terminate() } }
        defer { if agent.isRunning { agent.terminate() } }

        // Negotiation, the first heartbeat and the probe's first run.
        sleep(2)
        let before = IdleAgentTests.counters(agent.processIdentifier)
        sleep(5)
        let after = IdleAgentTests.counters(agent.processIdentifier)
        #expect(before.switches > 0)
        #expect(after.switches - before.switches == 0, "the idle agent woke \(after.switches - before.switches) times")
    }
}
