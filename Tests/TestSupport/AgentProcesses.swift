import Foundation
import HostSimulator

/// The built `hvagent` run as separate processes (sim-host, run, status), for the two-process,
/// idle and fault tests.
public enum AgentProcesses {
    /// The hvagent binary built next to this test bundle by `swift build --build-tests`.
    public static var hvagent: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hvagent").path
    }

    public static var built: Bool { FileManager.default.isExecutableFile(atPath: hvagent) }

    /// A fresh directory for one test's sockets, logs and pools.
    public static func directory(_ name: String) throws -> String {
        let directory = NSTemporaryDirectory() + "hvagent-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// `hvagent ARGUMENTS...`, not started yet.
    public static func process(_ arguments: [String]) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: hvagent)
        p.arguments = arguments
        return p
    }

    /// Starts `hvagent sim-host --socket SOCKET ARGUMENTS...` and waits (up to 10 s) for its socket.
    public static func startSimHost(socket: String, _ arguments: [String]) throws -> Process {
        let host = process(["sim-host", "--socket", socket] + arguments)
        host.standardError = FileHandle.nullDevice
        try host.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        return host
    }

    /// `hvagent status --socket SOCKET --json`: its exit status and the JSON object it printed.
    public static func status(socket: String) throws -> (exitCode: Int32, json: [String: Any]) {
        let status = process(["status", "--socket", socket, "--json"])
        let pipe = Pipe()
        status.standardOutput = pipe
        try status.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        status.waitUntilExit()
        return (status.terminationStatus, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// The simulated host's JSON-lines exchange log.
    public static func exchangeLog(_ path: String) throws -> [ExchangeRecord] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(ExchangeRecord.self, from: Data($0.utf8))
        }
    }

    /// The records of a log the host is still writing: a line cut short at the end is left out.
    public static func liveExchangeLog(_ path: String) -> [ExchangeRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(ExchangeRecord.self, from: Data($0.utf8)) }
    }

    /// Polls `condition` every 50 ms for up to `seconds`.
    public static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    public static func reloads(_ socket: String) throws -> [String: Any] {
        try AgentProcesses.status(socket: socket).json["reloads"] as? [String: Any] ?? [:]
    }

    /// Application states the host saw in heartbeat replies, in order.
    public static func healthSeen(_ log: String) -> [String] {
        ((try? AgentProcesses.exchangeLog(log)) ?? []).compactMap { record in
            guard record.channel == "heartbeat", record.event == "reply",
                  let range = record.detail.range(of: "application state ") else { return nil }
            return String(record.detail[range.upperBound...])
        }
    }

    /// Starts `hvagent ARGUMENTS` with standard output and error into the file `output` (created),
    /// or discarded.
    public static func start(_ arguments: [String], output: String? = nil) throws -> Process {
        let process = process(arguments)
        if let output {
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Runs `hvagent ARGUMENTS` (an agent whose simulated host ends the session) to its end, then
    /// waits for `host`: the agent's exit status and its combined output.
    public static func runToEnd(_ arguments: [String], host: Process) throws -> (status: Int32, output: String) {
        let agent = process(arguments)
        let output = Pipe()
        agent.standardOutput = output
        agent.standardError = output
        try agent.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        agent.waitUntilExit()
        host.waitUntilExit()
        return (agent.terminationStatus, text)
    }

    /// A scratch directory for one test's processes, with the usual paths in it; removed when the
    /// session goes away.
    public final class Session {
        public let directory: String
        /// Where the simulated host listens.
        public let socket: String
        /// The host's JSON-lines exchange log.
        public let log: String

        public init(_ name: String) throws {
            directory = try AgentProcesses.directory(name)
            socket = directory + "/sim.sock"
            log = directory + "/exchange.jsonl"
        }

        deinit {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
