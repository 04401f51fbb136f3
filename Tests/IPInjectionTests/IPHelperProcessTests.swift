import Foundation
import HVProtocol
import IPInjection
import Testing
import TestSupport

/// The built `hvagent ip-helper` as a process, as hvagent-ip.service runs it (bar the socket,
/// which it binds itself here): its configuration read, its answer, its idle exit and SIGTERM.
/// Nothing on this machine is changed: the adapter it is asked about does not exist, so the
/// injector stops at the lookup, before writing or configuring anything.
@Suite(.serialized) struct IPHelperProcessTests {
    static let unknownAdapter = HostIPSettings(adapterID: "{00000000-0000-0000-0000-0000000000ff}",
                                               addresses: "192.0.2.10", subnets: "255.255.255.0")

    func start(_ directory: TempDir, config: String, idleExitSeconds: Int) throws -> (Process, String) {
        directory.write("hvagent.conf", Array(config.utf8))
        let socket = directory.path + "/ip.sock"
        let process = try AgentProcesses.start(["ip-helper", "--socket", socket, "--config", directory.path + "/hvagent.conf",
                                                "--idle-exit-seconds", String(idleExitSeconds)],
                                               output: directory.path + "/helper.log")
        #expect(AgentProcesses.eventually(10) { FileManager.default.fileExists(atPath: socket) })
        return (process, socket)
    }

    @Test(.enabled(if: AgentProcesses.built)) func theHelperAppliesWithItsOwnConfigurationAndExitsWhenIdle() throws {
        let directory = TempDir()
        let (process, socket) = try start(directory, config: "[kvp]\nip_injection = netlink\npool_dir = \(directory.path)\n",
                                          idleExitSeconds: 2)
        defer { if process.isRunning { process.terminate() } }
        let outcome = IPHelperClient(socketPath: socket, replyTimeout: .seconds(10)).set(Self.unknownAdapter)
        #expect(outcome.status == .guidNotFound)
        #expect(outcome.message.contains("HV_GUID_NOTFOUND"))
        // Nothing was written: the lookup failed first.
        #expect(directory.bytes("ifcfg-eth0").isEmpty)
        // Idle for 2 s after the request: it exits on its own, successfully.
        #expect(AgentProcesses.eventually(10) { !process.isRunning })
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: directory.bytes("helper.log"), as: UTF8.self).contains("answered HV_GUID_NOTFOUND"))
    }

    @Test(.enabled(if: AgentProcesses.built)) func withInjectionOffEveryRequestIsRefusedAndSIGTERMStopsIt() throws {
        let directory = TempDir()
        let (process, socket) = try start(directory, config: "[kvp]\nip_injection = off\n", idleExitSeconds: 0)
        defer { if process.isRunning { process.terminate() } }
        let outcome = IPHelperClient(socketPath: socket, replyTimeout: .seconds(10)).set(Self.unknownAdapter)
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("IP injection is off"))
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
