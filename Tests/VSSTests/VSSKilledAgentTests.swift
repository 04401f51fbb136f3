import Foundation
import HVProtocol
import HostSimulator
import SimTransport
import Testing
import TestSupport
import VSS

/// The agent killed while frozen (issue 12's failure script), with real processes: the built
/// `hvagent run --sim-socket` against the simulated host of this test, freezing through a freeze
/// helper served in this process with a recording freezer (so nothing real is frozen; as root the
/// agent is started without CAP_SYS_ADMIN so that it, like the packaged one, must ask the helper).
@Suite(.serialized) struct VSSKilledAgentTests {
    static func agent(_ session: AgentProcesses.Session, helperSocket: String) throws -> Process {
        let run = ["run", "--sim-socket", session.socket, "--config", "/dev/null", "--timesync-mode", "off",
                   "--set", "vss.only_under=\(session.directory)/none", "--set", "vss.frozen_list=\(session.directory)/vss-frozen",
                   "--set", "vss.hook_dir=\(session.directory)/hooks", "--set", "vss.freeze_helper_socket=\(helperSocket)"]
        let process: Process
        if getuid() == 0 {
            // Root keeps CAP_SYS_ADMIN unless the bounding set drops it; then it uses the helper.
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--bounding-set", "-sys_admin", "--", AgentProcesses.hvagent] + run
        } else {
            process = AgentProcesses.process(run)
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    /// Accepts the agent's connection and negotiates VSS.
    static func host(_ listener: SimListener) throws -> SimulatedHyperVHost {
        let connection = try #require(try listener.accept(timeoutMilliseconds: 20_000))
        var configuration = SimHostConfiguration()
        configuration.services = [.heartbeat, .vss]
        let host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: connection), configuration: configuration)
        try host.offerAll()
        #expect(try host.run(timeout: 20) { host.negotiationCount[.vss, default: 0] > 0 })
        return host
    }

    @Test func anAgentKilledWhileFrozenIsThawedAtOnceAndItsRestartClearsTheList() throws {
        guard AgentProcesses.built else { print("VSSKilledAgentTests skipped: hvagent is not built next to the tests"); return }
        if getuid() == 0 && access("/usr/bin/setpriv", X_OK) != 0 { print("VSSKilledAgentTests skipped: /usr/bin/setpriv missing"); return }
        let session = try AgentProcesses.Session("vss-killed")
        let helper = try FreezeHelperTests.Running()
        defer { helper.stop() }
        let listener = try SimListener(path: session.socket)
        let frozenList = FrozenList(path: session.directory + "/vss-frozen")

        // The first agent freezes for the host, then is killed (SIGKILL: no stop handler runs).
        let first = try Self.agent(session, helperSocket: helper.socketPath)
        defer { if first.isRunning { first.terminate() } }
        let host = try Self.host(listener)
        #expect(try host.vssHotBackup().status == .ok)
        #expect(try host.vssFreeze().status == .ok)
        #expect(helper.freezer.frozen == ["/data", "/"])
        #expect(frozenList.load() == ["/data", "/"])
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // The helper saw the agent's connection close and thawed, children last frozen first.
        helper.waitUntil { helper.freezer.frozen.isEmpty }
        #expect(helper.freezer.frozen.isEmpty)
        #expect(helper.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data"])
        #expect(frozenList.exists)  // a killed agent cannot tidy up; its next start does

        // The restarted agent thaws what the list names (already thawed: EINVAL, fine) and
        // removes it; the host's THAW, late and on a new channel, gets S_OK; a new backup works.
        let second = try Self.agent(session, helperSocket: helper.socketPath)
        defer {
            second.terminate()
            second.waitUntilExit()
        }
        let again = try Self.host(listener)
        #expect(!frozenList.exists)
        #expect(try again.vssThaw() == .ok)
        #expect(try again.vssRun(.backup(hold: 0.1)).map(\.status) == [.ok, .ok, .ok])
        #expect(helper.freezer.frozen.isEmpty)
        #expect(Array(helper.freezer.calls.dropFirst(4)) == ["thaw /", "thaw /data", "freeze /data", "freeze /", "thaw /", "thaw /data"])
    }
}
