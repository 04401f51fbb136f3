import AgentCore
import DaemonSupport
import Foundation
import HVProtocol
import Testing
@testable import VSS
#if canImport(Glibc)
import Glibc
#endif

/// Real FIFREEZE/FITHAW on filesystems the test creates (root only).
///
/// A helper process started with `unshare -m --propagation private` loop-mounts an ext4 and an
/// xfs image made in a temporary directory, a read-only ext4, and an ext4 whose image lives on the
/// first ext4 (loop-backed on a filesystem that is frozen too). The freezer reads the helper's
/// mountinfo and opens mount points under `/proc/<helper>/root`, the same way the daemon reaches
/// the initial namespace through `/proc/1/root`. Nothing in this machine's own mount namespace
/// is mounted, and the guard (`only_under` = the test's directory, plus "also mounted outside"
/// refusal) keeps every other filesystem out of the plan; each test also checks the plan before
/// the first freeze and refuses to go on if it names anything else.
@Suite(.serialized) struct RealFreezeTests {
    /// Why these tests cannot run here, or nil.
    static let skipReason: String? = {
        if getuid() != 0 { return "not root" }
        if access("/dev/loop-control", F_OK) != 0 { return "no /dev/loop-control" }
        for tool in ["/usr/bin/unshare", "/usr/sbin/losetup", "/usr/sbin/mkfs.ext4", "/usr/sbin/mkfs.xfs"]
        where access(tool, X_OK) != 0 { return "\(tool) missing (scripts/setup.sh installs it)" }
        return nil
    }()

    /// The private mount namespace with its four filesystems.
    final class Lab {
        let directory: String
        let helper: Process
        var pid: Int32 { helper.processIdentifier }
        var root: String { "/proc/\(pid)/root" }
        var mountInfo: String { "/proc/\(pid)/mountinfo" }
        var mnt: String { directory + "/mnt" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("hvagent-vss-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory + "/hooks", withIntermediateDirectories: true)
            let script = """
            set -e
            cd "$1"
            mkdir -p mnt/ext4 mnt/xfs mnt/ro mnt/inner
            truncate -s 64M ext4.img && mkfs.ext4 -q -F ext4.img
            truncate -s 320M xfs.img && mkfs.xfs -q -f xfs.img
            truncate -s 16M ro.img && mkfs.ext4 -q -F ro.img
            mount -o loop ext4.img mnt/ext4
            mount -o loop xfs.img mnt/xfs
            mount -o loop,ro ro.img mnt/ro
            truncate -s 16M mnt/ext4/inner.img && mkfs.ext4 -q -F mnt/ext4/inner.img
            mount -o loop mnt/ext4/inner.img mnt/inner
            echo ready > ready
            # Until the test closes our stdin; then unmount (the loop devices go with the namespace).
            cat > /dev/null || true
            umount mnt/inner mnt/ro mnt/xfs mnt/ext4 || true
            """
            helper = Process()
            helper.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            helper.arguments = ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", directory]
            helper.standardInput = Pipe()
            helper.standardOutput = FileHandle.nullDevice
            try helper.run()
            let deadline = Date().addingTimeInterval(60)
            while access(directory + "/ready", F_OK) != 0 {
                guard helper.isRunning, Date() < deadline else { throw LabError.setupFailed }
                usleep(50_000)
            }
        }

        /// Thaws the lab's filesystems whatever a failed test left (EINVAL when not frozen), so
        /// the helper's unmount never waits on a freeze; then ends the namespace.
        func close() {
            let freezer = IoctlFilesystemFreezer(rootPrefix: root)
            for name in ["inner", "ro", "xfs", "ext4"] { _ = freezer.thaw(mnt + "/" + name) }
            (helper.standardInput as? Pipe)?.fileHandleForWriting.closeFile()
            helper.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }

        func procedure(hooks: String? = nil, freezeTimeout: Double = 30, freezer: (any FilesystemFreezer)? = nil) -> FreezeProcedure {
            let root = self.root
            return FreezeProcedure(
                mountInfoPath: mountInfo, rules: FreezePlan.Rules(onlyUnder: [mnt]),
                hooks: VSSHookRunner(directory: hooks ?? directory + "/hooks", timeoutSeconds: 2),
                freezeTimeoutSeconds: freezeTimeout, frozenList: FrozenList(path: directory + "/vss-frozen"),
                freezer: freezer ?? IoctlFilesystemFreezer(rootPrefix: root), facts: { SystemBlockDeviceFacts(rootPrefix: root) })
        }

        /// Starts a writer that creates and writes `name` on the filesystem at `mountPoint`.
        func writer(_ mountPoint: String, _ name: String = "w") throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "echo data > \"$1\"", "sh", root + mountPoint + "/" + name]
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
    }

    enum LabError: Error { case setupFailed }

    /// Runs the coordinator's loop inputs until `done` or `timeout`.
    static func pump(_ coordinator: VSSCoordinator, timeout: Double, until done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !done() {
            guard Date() < deadline else { return false }
            let inputs = coordinator.inputs
            var fds = inputs.map { pollfd(fd: $0.descriptor(), events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 50)
            for (index, input) in inputs.enumerated() where fds[index].revents != 0 { input.onReadable() }
        }
        return true
    }

    static func finishes(_ process: Process, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// The plan names exactly the lab's two freezable filesystems, children first; the guard check.
    static func checkedPlan(_ lab: Lab, _ procedure: FreezeProcedure) throws -> FreezePlan {
        let plan = procedure.plan()
        try #require(plan.targets.allSatisfy { $0.mountPoint.hasPrefix(lab.mnt + "/") }, "the plan names a filesystem the test did not create")
        #expect(Set(plan.targets.map(\.mountPoint)) == [lab.mnt + "/ext4", lab.mnt + "/xfs"])
        return plan
    }

    @Test func freezeBlocksWritersThawReleasesThemSkippedNeverBlock() throws {
        if let reason = Self.skipReason { print("RealFreezeTests skipped: \(reason)"); return }
        let lab = try Lab()
        defer { lab.close() }
        let procedure = lab.procedure()
        let plan = try Self.checkedPlan(lab, procedure)
        // Reverse mount order: xfs (mounted second) before ext4.
        #expect(plan.targets.map(\.mountPoint) == [lab.mnt + "/xfs", lab.mnt + "/ext4"])
        #expect(plan.skipped.contains { $0.mountPoint == lab.mnt + "/ro" && $0.reason == "read-only" })
        #expect(plan.skipped.contains { $0.mountPoint == lab.mnt + "/inner" && $0.reason.hasPrefix("loop-backed") })
        #expect(plan.skipped.contains { $0.mountPoint == "/" && $0.reason == "outside only_under" })

        let window = FreezeWindow(capacity: 1 << 16)
        let coordinator = try VSSCoordinator(procedure: procedure, thawTimeoutSeconds: 60, window: window, log: { _ in })
        var status: HResult?
        coordinator.freeze { status = $0 }
        #expect(window.isOpen)
        try #require(Self.pump(coordinator, timeout: 30) { status != nil })
        #expect(status == .ok)
        #expect(coordinator.phase == .frozen([lab.mnt + "/xfs", lab.mnt + "/ext4"]))
        #expect(FrozenList(path: lab.directory + "/vss-frozen").load() == [lab.mnt + "/xfs", lab.mnt + "/ext4"])

        let blocked = [try lab.writer(lab.mnt + "/ext4"), try lab.writer(lab.mnt + "/xfs")]
        let free = try lab.writer(lab.mnt + "/inner")
        let readOnly = try lab.writer(lab.mnt + "/ro")
        #expect(Self.finishes(free, within: 5), "a skipped filesystem blocked")
        #expect(Self.finishes(readOnly, within: 5), "the read-only filesystem blocked")
        usleep(1_000_000)
        let stillBlocked = blocked.allSatisfy { $0.isRunning }
        #expect(stillBlocked, "a writer to a frozen filesystem completed")

        status = nil
        coordinator.thaw { status = $0 }
        try #require(Self.pump(coordinator, timeout: 30) { status != nil })
        #expect(status == .ok)
        #expect(coordinator.phase == .idle)
        #expect(!window.isOpen)
        #expect(blocked.allSatisfy { Self.finishes($0, within: 10) }, "a writer stayed blocked after THAW")
        #expect(!FrozenList(path: lab.directory + "/vss-frozen").exists)
        // A second THAW is S_OK and thaws nothing.
        status = nil
        coordinator.thaw { status = $0 }
        #expect(status == .ok)
    }

    @Test func watchdogThawsWhenThawNeverComes() throws {
        if let reason = Self.skipReason { print("RealFreezeTests skipped: \(reason)"); return }
        let lab = try Lab()
        defer { lab.close() }
        let procedure = lab.procedure()
        _ = try Self.checkedPlan(lab, procedure)
        let coordinator = try VSSCoordinator(procedure: procedure, thawTimeoutSeconds: 1, window: FreezeWindow(), log: { _ in })
        var status: HResult?
        coordinator.freeze { status = $0 }
        try #require(Self.pump(coordinator, timeout: 30) { status != nil })
        #expect(status == .ok)
        let writer = try lab.writer(lab.mnt + "/ext4")
        #expect(Self.pump(coordinator, timeout: 15) { coordinator.phase == .idle })
        #expect(coordinator.watchdogThaws == 1)
        #expect(Self.finishes(writer, within: 10))
    }

    @Test func aRestartThawsWhatAKilledRunLeftFrozen() throws {
        if let reason = Self.skipReason { print("RealFreezeTests skipped: \(reason)"); return }
        let lab = try Lab()
        defer { lab.close() }
        let procedure = lab.procedure()
        _ = try Self.checkedPlan(lab, procedure)
        // The first run freezes and dies without thawing: only its frozen list remains.
        let frozen = procedure.freeze()
        try #require(frozen.status == .ok)
        let writer = try lab.writer(lab.mnt + "/xfs")
        usleep(500_000)
        #expect(writer.isRunning)
        // The next start builds the service, which thaws the list before serving anything.
        let coordinator = try VSSCoordinator(procedure: procedure, thawTimeoutSeconds: 60, window: FreezeWindow(), log: { _ in })
        _ = VSSAgentService(coordinator: coordinator)
        #expect(Self.finishes(writer, within: 10))
        #expect(!FrozenList(path: lab.directory + "/vss-frozen").exists)
    }

    @Test func hooksRunInOrderAndAFailingFreezeHookAbortsTheFreeze() throws {
        if let reason = Self.skipReason { print("RealFreezeTests skipped: \(reason)"); return }
        let lab = try Lab()
        defer { lab.close() }
        let trace = lab.directory + "/trace"
        for name in ["10-db", "20-app"] {
            let path = lab.directory + "/hooks/" + name
            try "#!/bin/sh\necho \"\(name) $1\" >> \(trace)\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        let procedure = lab.procedure()
        let frozen = procedure.freeze()
        #expect(frozen.status == .ok)
        #expect(procedure.thaw(frozen.frozen, reason: "test").status == .ok)
        #expect(try String(contentsOfFile: trace, encoding: .utf8) == "10-db freeze\n20-app freeze\n20-app thaw\n10-db thaw\n")

        // 20-app now fails its freeze: nothing is frozen, freeze-fail runs on both, reverse order.
        try FileManager.default.removeItem(atPath: trace)
        let failing = lab.directory + "/hooks/20-app"
        try "#!/bin/sh\necho \"20-app $1\" >> \(trace)\n[ \"$1\" != freeze ]\n".write(toFile: failing, atomically: true, encoding: .utf8)
        chmod(failing, 0o755)
        let refused = procedure.freeze()
        #expect(refused.status == .fail)
        #expect(refused.frozen.isEmpty)
        #expect(refused.notes.contains { $0.contains("freeze hook 20-app exited with status 1") })
        #expect(try String(contentsOfFile: trace, encoding: .utf8) == "10-db freeze\n20-app freeze\n20-app freeze-fail\n10-db freeze-fail\n")
        let writer = try lab.writer(lab.mnt + "/ext4")
        #expect(Self.finishes(writer, within: 5))

        // A hook that outlives its 2 s bound is killed and fails the freeze.
        try "#!/bin/sh\n[ \"$1\" != freeze ] || sleep 30\n".write(toFile: failing, atomically: true, encoding: .utf8)
        chmod(failing, 0o755)
        let started = Date()
        let slow = procedure.freeze()
        #expect(slow.status == .fail)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(slow.notes.contains { $0.contains("timed out") })
    }

    /// A failure in the middle thaws exactly what this pass froze, in reverse, and answers E_FAIL.
    @Test func partialFailureRollsBack() throws {
        if let reason = Self.skipReason { print("RealFreezeTests skipped: \(reason)"); return }
        let lab = try Lab()
        defer { lab.close() }
        // The real ioctls, except that ext4 (the second target) fails with EIO.
        struct FailingSecond: FilesystemFreezer {
            let real: IoctlFilesystemFreezer
            let failing: String
            func freeze(_ mountPoint: String) -> FreezeResult { mountPoint == failing ? .failed(EIO) : real.freeze(mountPoint) }
            func thaw(_ mountPoint: String) -> ThawResult { real.thaw(mountPoint) }
        }
        let procedure = lab.procedure(freezer: FailingSecond(real: IoctlFilesystemFreezer(rootPrefix: lab.root), failing: lab.mnt + "/ext4"))
        _ = try Self.checkedPlan(lab, procedure)
        let outcome = procedure.freeze()
        #expect(outcome.status == .fail)
        #expect(outcome.frozen.isEmpty)
        #expect(outcome.notes.contains { $0.hasPrefix("FREEZE failed at \(lab.mnt)/ext4") })
        let writer = try lab.writer(lab.mnt + "/xfs")
        #expect(Self.finishes(writer, within: 5), "the rolled-back xfs stayed frozen")
        #expect(!FrozenList(path: lab.directory + "/vss-frozen").exists)
    }

    /// EBUSY: someone else froze ext4 first; hvagent freezes the rest and never thaws ext4.
    @Test func neverThawsWhatSomeoneElseFroze() throws {
        if let reason = Self.skipReason { print("RealFreezeTests skipped: \(reason)"); return }
        let lab = try Lab()
        defer { lab.close() }
        let real = IoctlFilesystemFreezer(rootPrefix: lab.root)
        try #require(real.freeze(lab.mnt + "/ext4") == .frozen)
        defer { _ = real.thaw(lab.mnt + "/ext4") }
        let procedure = lab.procedure()
        let outcome = procedure.freeze()
        #expect(outcome.status == .ok)
        #expect(outcome.frozen == [lab.mnt + "/xfs"])
        #expect(procedure.thaw(outcome.frozen, reason: "test").status == .ok)
        let stillFrozen = try lab.writer(lab.mnt + "/ext4")
        usleep(700_000)
        #expect(stillFrozen.isRunning, "hvagent thawed a filesystem it did not freeze")
        _ = real.thaw(lab.mnt + "/ext4")
        #expect(Self.finishes(stillFrozen, within: 10))
    }
}
