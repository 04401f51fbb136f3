import Foundation
import TestSupport
import Testing

/// Under systemd, standard error is journald's stream and `JOURNAL_STREAM` names it: the agent then
/// writes `<priority>text` lines (so `journalctl -p` filters work and journald's timestamp is the
/// only one); with the variable naming some other stream it keeps swift-log's format.
@Suite struct JournalLoggingTests {
    /// Runs the agent against a sim host for about a second, stderr into a file, with
    /// `JOURNAL_STREAM` set to that file's device:inode (or to another value), and returns its log.
    static func agentLog(journalStreamMatches: Bool) throws -> String {
        let session = try AgentProcesses.Session("journal-\(journalStreamMatches)")
        let (directory, socket) = (session.directory, session.socket)
        let logPath = directory + "/agent.log"
        let host = try AgentProcesses.startSimHost(socket: socket, ["--heartbeat-interval", "0.2", "--timesync-interval", "60", "--seconds", "30"])
        defer { if host.isRunning { host.terminate() } }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        var st = stat()
        fstat(handle.fileDescriptor, &st)
        let agent = AgentProcesses.process(["run", "--sim-socket", socket, "--timesync-mode", "off"])
        var environment = ProcessInfo.processInfo.environment
        environment["JOURNAL_STREAM"] = journalStreamMatches ? "\(st.st_dev):\(st.st_ino)" : "\(st.st_dev):\(st.st_ino &+ 1)"
        agent.environment = environment
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = handle
        try agent.run()
        usleep(1_000_000)
        agent.terminate()
        agent.waitUntilExit()
        try handle.close()
        #expect(agent.terminationStatus == 0)
        return try String(contentsOfFile: logPath, encoding: .utf8)
    }

    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func journaldGetsPriorityPrefixesAndNoTimestamps() throws {
        let log = try Self.agentLog(journalStreamMatches: true)
        print(log)
        // SIGTERM is logged at notice: priority 5, the text alone.
        #expect(log.contains("<5>signal 15: stopping\n"))
        #expect(!log.contains("notice hvagent"))
        let other = try Self.agentLog(journalStreamMatches: false)
        #expect(other.contains("notice hvagent: [hvagent] signal 15: stopping"))
        #expect(!other.contains("<5>"))
    }
}
