import Foundation
import TestSupport
import HostSimulator
import KVPStore
import Testing

/// KVP between `hvagent sim-host` and `hvagent run --sim-socket --kvp-pool-dir` as separate processes.
@Suite struct KVPTwoProcessTests {
    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func simHostEnumeratesPoolsServedByRun() throws {
        let directory = try AgentProcesses.directory("kvp-twoproc")
        let pools = directory + "/pools"
        try FileManager.default.createDirectory(atPath: pools, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try PoolStore(directory: pools, writable: true).file(.guest).set(try #require(PoolRecord(key: "greeting", value: "hello host")))
        let socket = directory + "/sim.sock"
        let log = directory + "/exchange.jsonl"
        let host = try AgentProcesses.startSimHost(socket: socket, ["--seconds", "2", "--kvp-enumerate-after", "0.3", "--log", log])
        let (status, text) = try AgentProcesses.runToEnd(["run", "--sim-socket", socket, "--timesync-mode", "off", "--kvp-pool-dir", pools], host: host)
        #expect(host.terminationStatus == 0)
        #expect(status == 0, "agent output: \(text)")
        let records = try AgentProcesses.exchangeLog(log)
        let kvp = records.filter { $0.channel == "kvp" && $0.event == "reply" }
        #expect(kvp.contains { $0.type == "negotiate" && $0.detail == "framework 3.0, service 4.0" })
        #expect(kvp.contains { $0.type == "kvp" && $0.detail == "enumerate pool 2: no more items" })
        #expect(kvp.contains { $0.type == "kvp" && $0.status == "S_OK" && $0.detail == "pool 1: greeting = hello host" })
        #expect(kvp.last?.detail == "enumerate pool 1: no more items")
        #expect(!records.contains { $0.event == "error" })
    }
}
