import AgentDaemon
import AgentConfig
import AgentCore
import ArgumentParser
import DaemonSupport
import FoundationEssentials

/// `hvagent status`: asks the running daemon over its local socket what it is doing.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running daemon's services, modes, negotiated versions and activity."
    )

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "The daemon's status socket (default: agent.status_socket from the configuration).")
    var socket: String?

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config = AgentSettings.defaultPath

    func run() throws {
        let path: String
        if let socket {
            path = socket
        } else {
            do {
                path = try AgentSettings.load(path: config)[.statusSocket]
            } catch {
                throw CommandFailure(error.description)
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try LocalSocketServer.fetch(path: path)
        } catch {
            throw CommandFailure("cannot reach the daemon at \(path) (\(error)); is hvagent.service running?")
        }
        if json {
            print(String(decoding: bytes, as: UTF8.self))
            return
        }
        guard let status = AgentStatus.decode(bytes) else {
            throw CommandFailure("the daemon at \(path) sent an unreadable answer")
        }
        print("hvagent \(status.version), pid \(status.pid), up since \(status.started)")
        for s in status.services {
            let versions = s.frameworkVersion.map { " framework \($0), service \(s.serviceVersion ?? "?")" } ?? ""
            print("  \(s.name): \(s.mode)\(s.open ? ", open" : "")\(versions); \(s.requests) requests, \(s.dropped) dropped"
                + (s.lastActivity.map { ", last \($0)" } ?? "") + (s.lastError.map { "; last error: \($0)" } ?? ""))
            print("    \(s.reason)")
        }
        let reloads = status.reloads
        if reloads.count > 0 {
            print("configuration: reloaded \(reloads.count) time(s)" + (reloads.last.map { ", last \($0)" } ?? "")
                + (reloads.lastError.map { "; last reload refused: \($0)" } ?? ""))
        }
        if !reloads.restartPending.isEmpty {
            print("configuration: restart needed to apply " + reloads.restartPending.joined(separator: ", "))
        }
    }
}
