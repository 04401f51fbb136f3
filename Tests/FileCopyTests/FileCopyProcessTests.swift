import Foundation
import HostSimulator
import HVProtocol
import SimTransport
import Testing
import TestSupport

/// The built `hvagent run --sim-socket` as a separate process under the in-process simulated host:
/// a SIGKILL mid-copy, and a disk that fills up mid-copy (a 256 KiB tmpfs in the agent's private
/// mount namespace). Each asserts the destination afterwards.
@Suite(.serialized) struct FileCopyProcessTests {
    /// Host side: listens, starts agents, serves one agent connection at a time.
    final class Rig {
        let directory: String
        let root: String
        let listener: SimListener
        var agent: Process?
        var host: SimulatedHyperVHost?

        init(_ name: String) throws {
            directory = try AgentProcesses.directory("fcopy-\(name)")
            root = directory + "/dest"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            listener = try SimListener(path: directory + "/sim.sock")
        }

        deinit {
            if let agent, agent.isRunning { kill(agent.processIdentifier, SIGKILL); agent.waitUntilExit() }
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Starts the agent (optionally wrapped, e.g. in `unshare`), accepts it and negotiates file copy.
        func start(wrapper: [String] = []) throws -> Bool {
            let arguments = ["run", "--sim-socket", directory + "/sim.sock", "--timesync-mode", "off",
                             "--config", "/dev/null", "--set", "fcopy.allowed_roots=\(root)"]
            let process: Process
            if wrapper.isEmpty {
                process = AgentProcesses.process(arguments)
            } else {
                process = Process()
                process.executableURL = URL(fileURLWithPath: wrapper[0])
                process.arguments = Array(wrapper.dropFirst()) + [AgentProcesses.hvagent] + arguments
            }
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            agent = process
            guard let socket = try listener.accept(timeoutMilliseconds: 10_000) else { return false }
            var configuration = SimHostConfiguration()
            configuration.services = [.fcopy]
            let host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: socket), configuration: configuration)
            self.host = host
            try host.offerAll()
            return try host.run(timeout: 10) { host.isReady(.fcopy) }
        }

        /// The destination as the agent's mount namespace shows it.
        func tree(through pid: Int32? = nil) -> [String] {
            let path = pid.map { "/proc/\($0)/root" + root } ?? root
            return (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []).sorted()
        }
    }

    @Test func sigkillMidCopyLeavesNothingAfterRestart() throws {
        guard AgentProcesses.built else { print("skipped: hvagent is not built"); return }
        let rig = try Rig("kill")
        #expect(try rig.start())
        guard let host = rig.host, let agent = rig.agent else { return }
        let start = try FileCopyHostLogic.startBody(fileName: "big", pathName: rig.root, flags: 0, fileSize: 10 * 6144)
        #expect(try host.fcopySend(start, detail: "START") == .ok)
        for index in 0..<5 {
            let chunk = [UInt8](repeating: UInt8(index), count: 6144)
            #expect(try host.fcopySend(FileCopyHostLogic.writeBody(offset: UInt64(index * 6144), data: chunk[...]), detail: "WRITE") == .ok)
        }
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        #expect(rig.tree().isEmpty)
        // A restarted agent: nothing left from the killed copy, and copies work again.
        #expect(try rig.start())
        guard let again = rig.host else { return }
        #expect(try again.copyVMFile(HostFileCopy(fileName: "big", destination: rig.root, data: [1, 2, 3])).status == .ok)
        #expect(rig.tree() == ["big"])
    }

    @Test func diskFullMidCopyLeavesNothing() throws {
        guard AgentProcesses.built else { print("skipped: hvagent is not built"); return }
        guard getuid() == 0 else { print("skipped: mounting a tmpfs in a private mount namespace needs root"); return }
        let rig = try Rig("full")
        let wrapper = ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                       "mount -t tmpfs -o size=256k,mode=0755 hvagent-fcopy-test \"\(rig.root)\" && exec \"$0\" \"$@\""]
        guard try rig.start(wrapper: wrapper), let host = rig.host, let agent = rig.agent else {
            print("skipped: could not start the agent in a private mount namespace with a tmpfs (unshare -m unavailable?)")
            return
        }
        let pid = agent.processIdentifier
        let data = [UInt8](repeating: 0x5A, count: 1 << 20)
        // file_size announced: refused at START, before a byte is written.
        #expect(try host.copyVMFile(HostFileCopy(fileName: "announced", destination: rig.root, data: data)).status == .diskFull)
        // file_size 0 (unknown): ENOSPC mid-copy is ERROR_DISK_FULL; the host's CANCEL is S_OK.
        var unknown = HostFileCopy(fileName: "unknown", destination: rig.root, data: data)
        unknown.announcedSize = 0
        let result = try host.copyVMFile(unknown)
        #expect(result.status == .diskFull)
        #expect(result.writes.last == .diskFull)
        #expect(result.writes.count > 1 && result.writes.count < data.count / 6144)
        #expect(result.cancel == .ok)
        #expect(rig.tree(through: pid).isEmpty)
        // The space came back: a small file fits.
        #expect(try host.copyVMFile(HostFileCopy(fileName: "small", destination: rig.root, data: [1])).status == .ok)
        #expect(rig.tree(through: pid) == ["small"])
        // The test's own view never saw the tmpfs.
        #expect(rig.tree().isEmpty)
    }
}
