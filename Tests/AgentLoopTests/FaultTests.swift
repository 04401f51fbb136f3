import Foundation
import TestSupport
import HostSimulator
import HVProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Faults around the agent: killed mid-exchange and restarted, channels rescinded and re-offered
/// over and over.
@Suite(.serialized) struct FaultTests {
    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func sigkillMidExchangeAndRestartRenegotiates() throws {
        let session = try AgentProcesses.Session("kill")
        let (socket, log) = (session.socket, session.log)
        let host = try AgentProcesses.startSimHost(socket: socket, [
            "--heartbeat-interval", "0.02", "--timesync-interval", "0.1", "--seconds", "20", "--accept-reconnect", "--log", log])
        defer { if host.isRunning { host.terminate() } }
        #expect(FileManager.default.fileExists(atPath: socket))

        let first = try AgentProcesses.start(["run", "--sim-socket", socket, "--timesync-mode", "discipline"])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let heartbeatReplies = { AgentProcesses.liveExchangeLog(log).filter { $0.channel == "heartbeat" && $0.event == "reply" && $0.type == "heartbeat" } }
        #expect(AgentProcesses.eventually(10) { heartbeatReplies().count >= 10 })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)
        let killedAt = AgentProcesses.liveExchangeLog(log).count

        let second = try AgentProcesses.start(["run", "--sim-socket", socket, "--timesync-mode", "discipline"])
        defer { if second.isRunning { second.terminate() } }
        let afterRestart = { Array(AgentProcesses.liveExchangeLog(log).dropFirst(killedAt)) }
        let renegotiated = AgentProcesses.eventually(10) {
            let records = afterRestart()
            let negotiated = Set(records.filter { $0.event == "reply" && $0.type == "negotiate" && $0.status == "S_OK" }.map(\.channel))
            return negotiated.isSuperset(of: ["heartbeat", "shutdown", "timesync"])
                && records.filter { $0.channel == "heartbeat" && $0.type == "heartbeat" && $0.event == "reply" }.count >= 10
        }
        #expect(renegotiated)
        let records = afterRestart()
        // In the log: the kill seen as a disconnect, then the second connection.
        let all = AgentProcesses.liveExchangeLog(log)
        let disconnect = all.firstIndex { $0.channel == "host" && $0.event == "error" && $0.detail == "agent disconnected" }
        let reconnect = all.firstIndex { $0.channel == "host" && $0.event == "connect" && $0.detail == "agent connection 2" }
        #expect(disconnect != nil && reconnect != nil && disconnect! < reconnect!)
        let failures = records.filter { $0.channel == "heartbeat" && $0.event == "error" }
        #expect(failures.isEmpty, "\(failures)")
        second.terminate()
        second.waitUntilExit()
        #expect(second.terminationReason == .exit && second.terminationStatus == 0)
    }

    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    /// 50 rescind + re-offer cycles of timesync and shutdown while heartbeats keep flowing:
    /// every re-offer is negotiated, nothing leaks (descriptors), heartbeats never fail.
    @Test func rescindAndReofferFiftyTimesWhileServing() throws {
        let harness = try AgentUnderAttack()
        defer { harness.stop() }
        let host = harness.host
        try host.run(timeout: 0.2)
        let descriptorsBefore = Self.openDescriptors()
        let heartbeatsBefore = host.heartbeatsOK
        let start = Date()
        for round in 1...50 {
            for kind in [ICServiceID.timesync, .shutdown] {
                try host.rescind(kind)
                try host.offer(kind)
            }
            let negotiated = try host.run(timeout: 3) {
                host.negotiationCount[.timesync] == round + 1 && host.negotiationCount[.shutdown] == round + 1
            }
            #expect(negotiated, "round \(round) not renegotiated")
            if !negotiated { break }
        }
        let elapsed = Date().timeIntervalSince(start)
        try harness.expectStillServing()
        try harness.expectStillServing(witness: .timesync)
        #expect(host.heartbeatsOK > heartbeatsBefore)
        #expect(host.heartbeatFailures.isEmpty)
        #expect(host.protocolErrors.isEmpty, "\(host.protocolErrors)")
        // Closed channels' eventfds are released on both sides. Other suites run in parallel in
        // this process and open descriptors of their own, so allow some noise: a leak of even one
        // descriptor per rescind would show as >= 100.
        let leaked = Self.openDescriptors() - descriptorsBefore
        #expect(leaked < 50, "\(leaked) descriptors more after 100 rescinds")
        print("rescind/re-offer: 50 rounds x 2 channels in \(String(format: "%.2f", elapsed)) s, descriptor delta \(leaked)")
    }
}
