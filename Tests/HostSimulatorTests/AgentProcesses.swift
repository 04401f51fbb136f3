import Foundation
import HostSimulator

/// The built `hvagent` run as separate processes (sim-host, run, status), for the two-process,
/// idle and fault tests.
enum AgentProcesses {
    /// The hvagent binary built next to this test bundle by `swift build --build-tests`.
    static var hvagent: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hvagent").path
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: hvagent) }

    /// A fresh directory for one test's sockets, logs and pools.
    static func directory(_ name: String) throws -> String {
        let directory = NSTemporaryDirectory() + "hvagent-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// `hvagent ARGUMENTS...`, not started yet.
    static func process(_ arguments: [String]) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: hvagent)
        p.arguments = arguments
        return p
    }

    /// Starts `hvagent sim-host --socket SOCKET ARGUMENTS...` and waits (up to 10 s) for its socket.
    static func startSimHost(socket: String, _ arguments: [String]) throws -> Process {
        let host = process(["sim-host", "--socket", socket] + arguments)
        host.standardError = FileHandle.nullDevice
        try host.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        return host
    }

    /// `hvagent status --socket SOCKET --json`: its exit status and the JSON object it printed.
    static func status(socket: String) throws -> (exitCode: Int32, json: [String: Any]) {
        let status = process(["status", "--socket", socket, "--json"])
        let pipe = Pipe()
        status.standardOutput = pipe
        try status.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        status.waitUntilExit()
        return (status.terminationStatus, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// The simulated host's JSON-lines exchange log.
    static func exchangeLog(_ path: String) throws -> [ExchangeRecord] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(ExchangeRecord.self, from: Data($0.utf8))
        }
    }
}
