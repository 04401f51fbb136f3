import Foundation
import TestSupport
import Testing

/// SIGHUP on the running agent (`hvagent run --sim-socket ... --config FILE`): what may change
/// while running changes (the heartbeat's health probe, the log level), what may not is reported
/// as needing a restart, and an invalid file changes nothing.
@Suite struct SighupReloadTests {
    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func sighupAppliesLiveKeysReportsRestartKeysAndRefusesAnInvalidFile() throws {
        let session = try AgentProcesses.Session("reload")
        let (directory, socket, log) = (session.directory, session.socket, session.log)
        let statusSocket = directory + "/status.sock"
        let config = directory + "/hvagent.conf"
        let output = directory + "/agent.log"
        try "[heartbeat]\nhealth_command = exit 1\n".write(toFile: config, atomically: true, encoding: .utf8)

        let host = try AgentProcesses.startSimHost(socket: socket, [
            "--heartbeat-interval", "0.1", "--timesync-interval", "60", "--seconds", "60", "--log", log])
        defer { if host.isRunning { host.terminate() } }
        let agent = try AgentProcesses.start(["run", "--sim-socket", socket, "--timesync-mode", "off", "--config", config,
                                              "--status-socket", statusSocket], output: output)
        defer { if agent.isRunning { agent.terminate() } }

        // The configured probe (exit 1) reports critical.
        #expect(AgentProcesses.eventually { AgentProcesses.healthSeen(log).contains("critical") }, "no heartbeat carried the probe's state")

        // An invalid file: refused with file:line, the running configuration stays.
        try "[heartbeat]\nhealth_command = true\nno_such_key = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(try AgentProcesses.eventually { try AgentProcesses.reloads(statusSocket)["count"] as? Int == 1 })
        let refused = try AgentProcesses.reloads(statusSocket)
        #expect((refused["last_error"] as? String ?? "").contains("hvagent.conf:3"), "\(refused)")
        let seenBefore = AgentProcesses.healthSeen(log).count
        #expect(AgentProcesses.eventually { AgentProcesses.healthSeen(log).count >= seenBefore + 5 })
        #expect(AgentProcesses.healthSeen(log).suffix(5).allSatisfy { $0 == "critical" }, "an invalid file changed the probe")

        // A valid file: the probe changes at once (no restart, no cached answer); the keys that
        // choose modes and paths are reported as waiting for a restart.
        try "[heartbeat]\nhealth_command = true\n[services]\nkvp = off\n[kvp]\npool_dir = \(directory)/pools\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(AgentProcesses.eventually { AgentProcesses.healthSeen(log).last == "healthy" }, "the reloaded probe never reported")
        let applied = try AgentProcesses.reloads(statusSocket)
        #expect(applied["count"] as? Int == 2)
        #expect(applied["last_error"] == nil)
        #expect(applied["restart_pending"] as? [String] == ["services.kvp", "kvp.pool_dir"])
        // Once healthy, it stays healthy.
        let seenAfter = AgentProcesses.healthSeen(log).count
        #expect(AgentProcesses.eventually { AgentProcesses.healthSeen(log).count >= seenAfter + 5 })
        #expect(AgentProcesses.healthSeen(log).suffix(5).allSatisfy { $0 == "healthy" })

        // The log level applies on reload too: at "error", stopping (a notice) is not logged.
        try "[agent]\nlog_level = error\n[heartbeat]\nhealth_command = true\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(try AgentProcesses.eventually { try AgentProcesses.reloads(statusSocket)["count"] as? Int == 3 })
        #expect(try AgentProcesses.reloads(statusSocket)["restart_pending"] as? [String] == [])
        agent.terminate()
        agent.waitUntilExit()
        #expect(agent.terminationReason == .exit && agent.terminationStatus == 0)

        let text = try String(contentsOfFile: output, encoding: .utf8)
        print(text.split(separator: "\n").filter { $0.contains("SIGHUP") }.joined(separator: "\n"))
        #expect(text.contains("SIGHUP: keeping the running configuration: \(config):3"))
        #expect(text.contains("applied heartbeat.health_command; changed but applied only at the next start (systemctl restart hvagent): services.kvp, kvp.pool_dir"))
        #expect(!text.contains("stopping"), "a notice was logged after log_level = error")
    }
}
