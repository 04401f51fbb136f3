import Foundation
import HostSimulator
import KVPAgent
import KVPStore
import Testing
import TestSupport

/// The real `kvp` CLI writes pool 1 while the agent serves the simulated host's KVP channel.
@Suite(.serialized) struct KVPCLIHostTests {
    static var kvpPath: String {
        URL(fileURLWithPath: AgentProcesses.hvagent).deletingLastPathComponent().appendingPathComponent("kvp").path
    }

    func kvp(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.kvpPath)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: KVPCLIHostTests.kvpPath), "kvp binary not built"))
    func kvpSetIsSeenByHostEnumerateWithTheKernelCaps() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true), autoPool: StaticAutoPool())
        let harness = try SimHarness(configure: { $0.services = [.kvp] }, kvpEngine: engine)
        defer { harness.stop() }
        try harness.host.offerAll()
        #expect(try harness.host.run(timeout: 10) { harness.host.isReady(.kvp) })
        #expect(try kvp(["set", "--pool-dir", dir.path, "role", "web frontend ✓"]) == 0)
        // 1500 characters: the CLI stores them (warning about the host limit), the host reads 1022 units.
        let long = String(repeating: "x", count: 1500)
        #expect(try kvp(["set", "--pool-dir", dir.path, "long", long]) == 0)
        let walk = try harness.host.kvpEnumerate(pool: 1)
        #expect(walk.records == [KVPHostRecord(key: "role", value: "web frontend ✓"),
                                 KVPHostRecord(key: "long", value: String(repeating: "x", count: 1022))])
        #expect(walk.end == .noMoreItems)
        #expect(try kvp(["delete", "--pool-dir", dir.path, "role"]) == 0)
        #expect(try harness.host.kvpEnumerate(pool: 1).records.map(\.key) == ["long"])
    }
}
