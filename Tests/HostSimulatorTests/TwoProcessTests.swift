import Foundation
import HostSimulator
import Testing

/// `hvagent sim-host` and `hvagent run --sim-socket` as separate processes.
@Suite struct TwoProcessTests {
    /// The hvagent binary built next to this test bundle by `swift build --build-tests`.
    static var hvagent: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hvagent").path
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: TwoProcessTests.hvagent), "hvagent binary not built"))
    func simHostAndRunTalkOverASocket() throws {
        let directory = NSTemporaryDirectory() + "hvagent-twoproc-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/sim.sock"
        let log = directory + "/exchange.jsonl"
        let host = Process()
        host.executableURL = URL(fileURLWithPath: Self.hvagent)
        host.arguments = ["sim-host", "--socket", socket, "--heartbeat-interval", "0.2", "--timesync-interval", "0.2",
                          "--seconds", "3", "--shutdown-flags", "2", "--shutdown-after", "1", "--log", log]
        host.standardError = FileHandle.nullDevice
        try host.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: Self.hvagent)
        agent.arguments = ["run", "--sim-socket", socket, "--timesync-mode", "discipline"]
        let output = Pipe()
        agent.standardOutput = output
        agent.standardError = output
        try agent.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        agent.waitUntilExit()
        host.waitUntilExit()
        #expect(host.terminationStatus == 0)
        #expect(agent.terminationStatus == 0, "agent output: \(text)")
        let records = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(ExchangeRecord.self, from: Data($0.utf8))
        }
        #expect(records.filter { $0.channel == "heartbeat" && $0.event == "reply" && $0.status == "S_OK" }.count >= 5)
        #expect(records.contains { $0.channel == "timesync" && $0.event == "reply" && $0.type == "negotiate" && $0.detail.contains("service 4.0") })
        #expect(records.contains { $0.channel == "shutdown" && $0.event == "reply" && $0.type == "shutdown" && $0.status == "S_OK" })
        #expect(!records.contains { $0.event == "error" })
        #expect(text.contains("dry run: would run systemctl reboot"))
        #expect(text.contains("timesync: guest behind by"))
    }
}
