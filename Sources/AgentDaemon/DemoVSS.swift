import AgentConfig
import FoundationEssentials
import HostSimulator
import HVProtocol
import ProcessSupport
import VSS
#if canImport(Glibc)
import Glibc
#endif

/// The demo's backup (docs/PROTOCOL.md §6.5): as root, the simulated host runs a production
/// checkpoint against a small ext4 image the demo makes and loop-mounts in a private mount
/// namespace of a child process (the machine's own mounts never change, and the mount goes away
/// with the child), so the freeze is real but `vss.only_under` confines it to that one
/// filesystem. Without root (or without the tools) it is a dry run, labelled as such: the plan a
/// backup of this machine would freeze, and what it would leave alone and why.
final class DemoVSS {
    private let timeline: Timeline
    /// The demo's own directory (image, mount point, frozen list, an empty hook directory).
    let directory: String
    var mountPoint: String { directory + "/mnt" }
    /// Why this run is a dry run, or nil when it freezes for real.
    private(set) var dryRunReason: String?
    /// The child holding the private mount namespace; nil in a dry run.
    private var namespace: BackgroundProcess?
    private var namespacePID: pid_t = 0

    init(timeline: Timeline) throws {
        self.timeline = timeline
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hvagent-demo-vss-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/hooks", withIntermediateDirectories: true)
        dryRunReason = Self.cannotFreezeReason()
        if dryRunReason == nil { startNamespace() }
    }

    /// Why this machine cannot run the real demo backup, or nil.
    static func cannotFreezeReason() -> String? {
        guard FreezeProcedure.mayFreeze() else { return "not root (no CAP_SYS_ADMIN)" }
        guard access("/dev/loop-control", F_OK) == 0 else { return "no /dev/loop-control" }
        for tool in ["/usr/bin/unshare", "/usr/sbin/mkfs.ext4", "/bin/mount"] where access(tool, X_OK) != 0 {
            return "\(tool) is missing"
        }
        return nil
    }

    /// The `[vss]` settings the demo's agent runs with: its own frozen list and (empty) hook
    /// directory, and freezes only under the demo's mount point, read from the child's namespace.
    func configure(_ settings: inout AgentSettings) throws {
        try settings.override("vss.only_under=\(mountPoint)")
        try settings.override("vss.frozen_list=\(directory)/vss-frozen")
        try settings.override("vss.hook_dir=\(directory)/hooks")
        if namespace != nil { try settings.override("vss.mountinfo=/proc/\(namespacePID)/mountinfo") }
    }

    /// Runs the backup (or shows the dry run); whether it went as it should.
    func exchange(with host: SimulatedHyperVHost) -> Bool {
        if let dryRunReason { return dryRun(dryRunReason) }
        let procedure = FreezeProcedure(settings: settingsForPlan())
        let plan = procedure.plan()
        guard plan.targets.map(\.mountPoint) == [mountPoint] else {
            timeline.log("demo", "vss: the plan is not the demo's one filesystem (\(plan.targets.map(\.mountPoint))); no backup run")
            return false
        }
        let frozenList = FrozenList(path: directory + "/vss-frozen")
        timeline.log("demo", "vss: a 16 MiB ext4 image loop-mounted at \(mountPoint) in a private mount namespace (pid \(namespacePID))")
        do {
            var frozenSeen: [String] = []
            let steps = try host.vssRun(.backup(hold: 0.5), whileFrozen: { frozenSeen = frozenList.load() })
            timeline.log("guest", "vss: while the host held the checkpoint, frozen: \(frozenSeen.isEmpty ? "nothing" : frozenSeen.joined(separator: " "))")
            let ok = steps.map(\.status) == [.ok, .ok, .ok] && frozenSeen == [mountPoint] && !frozenList.exists
            timeline.log("guest", ok ? "vss: backup done (\(steps.map(\.description).joined(separator: ", "))), nothing left frozen"
                                     : "vss: backup went wrong: \(steps.map(\.description).joined(separator: ", "))")
            return ok
        } catch {
            timeline.log("demo", "vss: \(error)")
            return false
        }
    }

    /// Ends the namespace (after a safety FITHAW, so an unmount never waits on a freeze) and
    /// removes the directory.
    func remove() {
        stopNamespace()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func stopNamespace() {
        if let namespace {
            _ = IoctlFilesystemFreezer(rootPrefix: "/proc/\(namespacePID)/root").thaw(mountPoint)
            unlink(directory + "/keep")
            for _ in 0..<200 where namespace.isRunning {
                _ = namespace.handleReadable()
                usleep(10_000)
            }
        }
        namespace = nil
    }

    private func settingsForPlan() -> AgentSettings {
        var settings = AgentSettings()
        try? configure(&settings)
        return settings
    }

    private func dryRun(_ reason: String) -> Bool {
        // This machine's plan as the service would build it, read from the namespace this process
        // can see (no /proc/1/root without privileges); nothing is frozen.
        var settings = AgentSettings()
        try? settings.override("vss.mountinfo=/proc/self/mountinfo")
        let plan = FreezeProcedure(settings: settings, freezer: IoctlFilesystemFreezer()).plan()
        timeline.log("demo", "vss: DRY RUN (\(reason)): no filesystem is frozen; a backup of this machine would freeze, in this order: "
                     + (plan.targets.isEmpty ? "nothing" : plan.targets.map { "\($0.mountPoint) (\($0.filesystemType) on \($0.source))" }.joined(separator: ", ")))
        for skip in plan.skipped { timeline.log("demo", "vss: DRY RUN: would leave \(skip.mountPoint) (\(skip.source)) alone: \(skip.reason)") }
        return true
    }

    /// Makes the image and mounts it in a child's private mount namespace; the child waits while
    /// `keep` exists, then unmounts. On any failure the demo falls back to the dry run.
    private func startNamespace() {
        let script = """
            set -e
            cd "$1"
            truncate -s 16M disk.img
            mkfs.ext4 -q -F disk.img
            mkdir -p mnt
            mount -o loop disk.img mnt
            echo $$ > ready.tmp && mv ready.tmp ready
            while [ -e keep ]; do sleep 0.1; done
            umount mnt
            """
        guard let child = BackgroundProcess(), FileManager.default.createFile(atPath: directory + "/keep", contents: nil) else {
            dryRunReason = "cannot start the namespace's child"
            return
        }
        if let failed = child.start(path: "/usr/bin/unshare", arguments: ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", directory],
                                    timeoutSeconds: 600) {
            dryRunReason = "unshare failed: \(failed)"
            return
        }
        namespace = child
        for _ in 0..<300 where access(directory + "/ready", F_OK) != 0 && child.isRunning {
            _ = child.handleReadable()
            usleep(20_000)
        }
        guard let text = try? String(contentsOfFile: directory + "/ready", encoding: .utf8),
              let pid = pid_t(text.split(separator: "\n").first ?? "") else {
            dryRunReason = "the loop image could not be made or mounted"
            stopNamespace()
            return
        }
        namespacePID = pid
    }
}
