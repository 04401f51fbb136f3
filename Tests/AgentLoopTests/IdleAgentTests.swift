import Foundation
import TestSupport
import Testing

/// The agent must not wake while the host is quiet: after the channels are negotiated and the first
/// time sample is handled, a 10 s window without host traffic costs 0 context switches in every
/// thread of the agent. Also checks `hvagent status` against the running agent.
@Suite struct IdleAgentTests {
    static var hvagent: String { AgentProcesses.hvagent }

    /// Voluntary + involuntary context switches summed over all threads, and VmRSS in kB.
    static func counters(_ pid: Int32) -> (switches: Int, rssKB: Int, threads: Int) {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var switches = 0
        for task in tasks {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            for line in status.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches") || line.hasPrefix("nonvoluntary_ctxt_switches") {
                switches += Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS") }
            .flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) } ?? 0
        return (switches, rss, tasks.count)
    }

    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func idleAgentDoesNotWakeAndReportsStatus() throws {
        let session = try AgentProcesses.Session("idle")
        let (directory, socket) = (session.directory, session.socket)
        let statusSocket = directory + "/status.sock"
        // Periodic traffic every 60 s: after negotiation and the first SYNC the host is silent.
        let host = try AgentProcesses.startSimHost(socket: socket, [
            "--heartbeat-interval", "60", "--timesync-interval", "60", "--seconds", "20", "--log", directory + "/exchange.jsonl"])
        defer { if host.isRunning { host.terminate() } }
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: Self.hvagent)
        agent.arguments = ["run", "--sim-socket", socket, "--timesync-mode", "discipline", "--status-socket", statusSocket]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }

        // Let negotiation, the first heartbeat and the SYNC happen.
        sleep(2)
        let before = Self.counters(agent.processIdentifier)
        sleep(10)
        let after = Self.counters(agent.processIdentifier)
        print("idle agent: \(after.switches - before.switches) context switches in 10 s over \(after.threads) thread(s); VmRSS \(after.rssKB) kB")
        #expect(before.switches > 0)
        #expect(after.switches - before.switches == 0)

        // `hvagent status` asks the agent over its socket (one wake-up, after the window).
        let (exitCode, json) = try AgentProcesses.status(socket: statusSocket)
        #expect(exitCode == 0)
        let services = try #require(json["services"] as? [[String: Any]])
        let heartbeat = try #require(services.first { $0["name"] as? String == "heartbeat" })
        #expect(heartbeat["open"] as? Bool == true)
        #expect(heartbeat["framework_version"] as? String == "3.0")
        #expect((heartbeat["requests"] as? Int ?? 0) >= 2)

        // `hvagent doctor` reads the same socket: the last host request per service. This machine is
        // not a Hyper-V guest, so doctor still exits 1 with that reason.
        let config = directory + "/hvagent.conf"
        try "[agent]\nstatus_socket = \(statusSocket)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let doctor = AgentProcesses.process(["doctor", "--json", "--file", config])
        let doctorOut = Pipe()
        doctor.standardOutput = doctorOut
        try doctor.run()
        let report = doctorOut.fileHandleForReading.readDataToEndOfFile()
        doctor.waitUntilExit()
        let findings = try #require((try JSONSerialization.jsonObject(with: report) as? [String: Any])?["findings"] as? [[String: Any]])
        func doctorFinding(_ id: String) -> [String: Any]? { findings.first { $0["id"] as? String == id } }
        #expect(doctorFinding("daemon.running")?["severity"] as? String == "ok")
        #expect(doctorFinding("host.heartbeat")?["severity"] as? String == "ok")
        let heartbeatMessage: String = doctorFinding("host.heartbeat")?["message"] as? String ?? ""
        #expect(heartbeatMessage.hasPrefix("heartbeat (simulated): last host activity "))

        // SIGTERM stops it cleanly.
        agent.terminate()
        agent.waitUntilExit()
        #expect(agent.terminationReason == .exit && agent.terminationStatus == 0)
    }
}
