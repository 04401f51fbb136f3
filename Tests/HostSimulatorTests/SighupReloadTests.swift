import Foundation
import Testing

/// SIGHUP on the running agent (`hvagent run --sim-socket ... --config FILE`): what may change
/// while running changes (the heartbeat's health probe, the log level), what may not is reported
/// as needing a restart, and an invalid file changes nothing.
@Suite struct SighupReloadTests {
    /// Polls `condition` every 50 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    static func reloads(_ socket: String) throws -> [String: Any] {
        try AgentProcesses.status(socket: socket).json["reloads"] as? [String: Any] ?? [:]
    }

    /// Application states the host saw in heartbeat replies, in order.
    static func healthSeen(_ log: String) -> [String] {
        ((try? AgentProcesses.exchangeLog(log)) ?? []).compactMap { record in
            guard record.channel == "heartbeat", record.event == "reply",
                  let range = record.detail.range(of: "application state ") else { return nil }
            return String(record.detail[range.upperBound...])
        }
    }

    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func sighupAppliesLiveKeysReportsRestartKeysAndRefusesAnInvalidFile() throws {
        let directory = try AgentProcesses.directory("reload")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/sim.sock"
        let log = directory + "/exchange.jsonl"
        let statusSocket = directory + "/status.sock"
        let config = directory + "/hvagent.conf"
        let output = directory + "/agent.log"
        try "[heartbeat]\nhealth_command = exit 1\n".write(toFile: config, atomically: true, encoding: .utf8)

        let host = try AgentProcesses.startSimHost(socket: socket, [
            "--heartbeat-interval", "0.1", "--timesync-interval", "60", "--seconds", "60", "--log", log])
        defer { if host.isRunning { host.terminate() } }
        let agent = AgentProcesses.process(["run", "--sim-socket", socket, "--timesync-mode", "off", "--config", config,
                                            "--status-socket", statusSocket])
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let outputHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        agent.standardOutput = outputHandle
        agent.standardError = outputHandle
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }

        // The configured probe (exit 1) reports critical.
        #expect(Self.eventually { Self.healthSeen(log).contains("critical") }, "no heartbeat carried the probe's state")

        // An invalid file: refused with file:line, the running configuration stays.
        try "[heartbeat]\nhealth_command = true\nno_such_key = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(try Self.eventually { try Self.reloads(statusSocket)["count"] as? Int == 1 })
        let refused = try Self.reloads(statusSocket)
        #expect((refused["last_error"] as? String ?? "").contains("hvagent.conf:3"), "\(refused)")
        let seenBefore = Self.healthSeen(log).count
        #expect(Self.eventually { Self.healthSeen(log).count >= seenBefore + 5 })
        #expect(Self.healthSeen(log).suffix(5).allSatisfy { $0 == "critical" }, "an invalid file changed the probe")

        // A valid file: the probe changes at once (no restart, no cached answer); the keys that
        // choose modes and paths are reported as waiting for a restart.
        try "[heartbeat]\nhealth_command = true\n[services]\nkvp = off\n[kvp]\npool_dir = \(directory)/pools\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(Self.eventually { Self.healthSeen(log).last == "healthy" }, "the reloaded probe never reported")
        let applied = try Self.reloads(statusSocket)
        #expect(applied["count"] as? Int == 2)
        #expect(applied["last_error"] == nil)
        #expect(applied["restart_pending"] as? [String] == ["services.kvp", "kvp.pool_dir"])
        // Once healthy, it stays healthy.
        let seenAfter = Self.healthSeen(log).count
        #expect(Self.eventually { Self.healthSeen(log).count >= seenAfter + 5 })
        #expect(Self.healthSeen(log).suffix(5).allSatisfy { $0 == "healthy" })

        // The log level applies on reload too: at "error", stopping (a notice) is not logged.
        try "[agent]\nlog_level = error\n[heartbeat]\nhealth_command = true\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(try Self.eventually { try Self.reloads(statusSocket)["count"] as? Int == 3 })
        #expect(try Self.reloads(statusSocket)["restart_pending"] as? [String] == [])
        agent.terminate()
        agent.waitUntilExit()
        try outputHandle.close()
        #expect(agent.terminationReason == .exit && agent.terminationStatus == 0)

        let text = try String(contentsOfFile: output, encoding: .utf8)
        print(text.split(separator: "\n").filter { $0.contains("SIGHUP") }.joined(separator: "\n"))
        #expect(text.contains("SIGHUP: keeping the running configuration: \(config):3"))
        #expect(text.contains("applied heartbeat.health_command; changed but applied only at the next start (systemctl restart hvagent): services.kvp, kvp.pool_dir"))
        #expect(!text.contains("stopping"), "a notice was logged after log_level = error")
    }
}
