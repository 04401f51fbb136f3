import Foundation
import TestSupport
import HostSimulator
import Testing

/// `hvagent sim-host` and `hvagent run --sim-socket` as separate processes.
@Suite struct TwoProcessTests {
    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func simHostAndRunTalkOverASocket() throws {
        let session = try AgentProcesses.Session("twoproc")
        let (socket, log) = (session.socket, session.log)
        let host = try AgentProcesses.startSimHost(socket: socket, [
            "--heartbeat-interval", "0.2", "--timesync-interval", "0.2", "--seconds", "3", "--shutdown-flags", "2",
            "--shutdown-after", "1", "--log", log])
        let (status, text) = try AgentProcesses.runToEnd(["run", "--sim-socket", socket, "--timesync-mode", "discipline"], host: host)
        #expect(host.terminationStatus == 0)
        #expect(status == 0, "agent output: \(text)")
        let records = try AgentProcesses.exchangeLog(log)
        #expect(records.filter { $0.channel == "heartbeat" && $0.event == "reply" && $0.status == "S_OK" }.count >= 5)
        #expect(records.contains { $0.channel == "timesync" && $0.event == "reply" && $0.type == "negotiate" && $0.detail.contains("service 4.0") })
        #expect(records.contains { $0.channel == "shutdown" && $0.event == "reply" && $0.type == "shutdown" && $0.status == "S_OK" })
        #expect(!records.contains { $0.event == "error" })
        #expect(text.contains("dry run: would run systemctl reboot"))
        #expect(text.contains("timesync: guest behind by"))
    }
}
