import AgentCore
import DaemonSupport
import HVSystem
import Synchronization
import Testing
import TestSupport
@testable import VSS
#if canImport(Glibc)
import Glibc
#endif

/// The freeze helper (docs/PROTOCOL.md §6.5.9) in process, over a real SOCK_SEQPACKET socket, with
/// a recording freezer: nothing real is frozen, so no root is needed.
@Suite struct FreezeHelperTests {
    final class LineSink: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// A helper serving on a thread of its own until `stop()`.
    final class Running: @unchecked Sendable {
        let directory = TempDir()
        let freezer = RecordingFreezer()
        let socketPath: String
        let helper: FreezeHelper
        let sink = LineSink()
        private var stopPipe: [Int32] = [-1, -1]
        private let done = Atomic<Bool>(false)

        init(peerUnit: String? = nil) throws {
            socketPath = directory.path + "/freeze.sock"
            let listener = try HelperSocket.bind(path: socketPath)
            let procedure = FreezeProcedure.twoDisks(in: directory.path, freezer: freezer)
            let sink = self.sink
            helper = FreezeHelper(listener: listener, procedure: procedure, peerUnit: peerUnit, idleExitSeconds: nil,
                                  log: { line in sink.lines.withLock { $0.append(line) } })
            _ = pipe(&stopPipe)
            let stop = stopPipe[0]
            let helper = self.helper
            let started = DetachedThread.start { [self] in
                helper.run(stop: stop)
                done.store(true, ordering: .releasing)
            }
            #expect(started)
        }

        /// Stops the helper (it thaws what it holds) and waits until it has.
        func stop() {
            var one: UInt8 = 1
            _ = write(stopPipe[1], &one, 1)
            waitUntil { done.load(ordering: .acquiring) }
            close(stopPipe[0])
            close(stopPipe[1])
        }

        func waitUntil(_ condition: () -> Bool) {
            for _ in 0..<400 where !condition() { usleep(5_000) }
        }
    }

    @Test func theClientGetsTheHelpersPlanAndFreezesOnlyItsTargets() throws {
        let running = try Running()
        defer { running.stop() }
        let client = FreezeHelperClient(socketPath: running.socketPath, replyTimeoutSeconds: 5)
        let plan = try client.plan(local: { FreezePlan(targets: [], skipped: []) })
        #expect(plan.targets.map(\.mountPoint) == ["/data", "/"])
        #expect(client.freeze("/etc") == .failed(EPERM))
        #expect(client.freeze("/run") == .failed(EPERM))  // tmpfs: not a target
        #expect(client.freeze("/data") == .frozen)
        #expect(client.freeze("/") == .frozen)
        #expect(client.thaw("/") == .thawed)
        #expect(client.thaw("/data") == .thawed)
        #expect(client.thaw("/data") == .notFrozen)
        #expect(client.thaw("/etc") == .failed(EPERM))
        #expect(running.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data", "thaw /data"])
        running.stop()
        #expect(running.sink.lines.withLock { $0 }.contains { $0.contains("refused FREEZE of /etc: not in the freeze plan") })
    }

    @Test func anAgentThatGoesAwayWhileFrozenIsThawedAtOnce() throws {
        let running = try Running()
        defer { running.stop() }
        do {
            let client = FreezeHelperClient(socketPath: running.socketPath, replyTimeoutSeconds: 5)
            #expect(client.freeze("/data") == .frozen)
            #expect(client.freeze("/") == .frozen)
        }  // the client (its connection) is gone: as if the agent was killed
        running.waitUntil { running.freezer.frozen.isEmpty }
        #expect(running.freezer.frozen.isEmpty)
        #expect(running.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data"])
    }

    @Test func stoppingTheHelperThawsWhatItHolds() throws {
        let running = try Running()
        let client = FreezeHelperClient(socketPath: running.socketPath, replyTimeoutSeconds: 5)
        #expect(client.freeze("/data") == .frozen)
        running.stop()
        #expect(running.freezer.frozen.isEmpty)
        // A restarted helper (here: a reconnect fails, the socket is gone) is reported, not hidden.
        #expect(client.thaw("/data") == .failed(EIO))
    }

    @Test func aPeerOutsideTheAgentsUnitIsRefused() throws {
        let running = try Running(peerUnit: "no-such-unit.service")
        defer { running.stop() }
        let client = FreezeHelperClient(socketPath: running.socketPath, replyTimeoutSeconds: 5)
        #expect(client.freeze("/data") == .failed(EPERM))
        #expect(throws: SystemCallError.self) { try client.plan(local: { FreezePlan(targets: [], skipped: []) }) }
        #expect(running.freezer.calls.isEmpty)
    }

    @Test func malformedRequestsAreRefusedAndChangeNothing() throws {
        let running = try Running()
        defer { running.stop() }
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        defer { close(fd) }
        #expect(try UnixSocketAddress(path: running.socketPath).connect(fd) == 0)
        for request in ["freeze data", "freeze", "thaw / /", "mount /data", "freeze /da\0ta", String(repeating: "x", count: 20_000), "plan now"] {
            let bytes = Array(request.utf8)
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var reply = [UInt8](repeating: 0, count: 4096)
            let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            #expect(n > 0 && String(decoding: reply[..<max(n, 0)], as: UTF8.self).hasPrefix("refused"), "\(request.prefix(20))")
        }
        #expect(running.freezer.calls.isEmpty)
    }

    @Test func requestsAndRepliesRoundTrip() {
        for request in [FreezeHelperRequest.plan, .freeze("/"), .thaw("/mnt/with space\\and\ttab")] {
            #expect(FreezeHelperRequest(request.encoded) == request)
        }
        let plan = FreezePlan(targets: [.init(mountPoint: "/data", device: "8:2", filesystemType: "xfs", source: "/dev/sdb1")],
                              skipped: [.init(mountPoint: "/boot/efi", source: "/dev/sda15", reason: "filesystem type vfat excluded")])
        let cases: [(FreezeHelperRequest, FreezeHelperReply)] = [
            (.plan, .plan(plan)), (.freeze("/"), .freeze(.frozen)), (.freeze("/"), .freeze(.alreadyFrozen)),
            (.freeze("/"), .freeze(.unsupported)), (.freeze("/"), .freeze(.failed(EIO))), (.thaw("/"), .thaw(.thawed)),
            (.thaw("/"), .thaw(.notFrozen)), (.thaw("/"), .thaw(.failed(EPERM))), (.thaw("/"), .refused("why")),
        ]
        for (request, reply) in cases { #expect(FreezeHelperReply(reply.encoded, answering: request) == reply) }
        // An answer that does not fit the question is not taken.
        #expect(FreezeHelperReply(FreezeHelperReply.thaw(.thawed).encoded, answering: .freeze("/")) == nil)
        #expect(FreezeHelperReply(Array("failed -1".utf8), answering: .freeze("/")) == nil)
    }
}

/// The helper is single-threaded; a test hands it to one thread and never touches it again.
extension FreezeHelper: @unchecked Sendable {}
