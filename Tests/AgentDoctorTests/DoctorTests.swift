import RingTransport
import Foundation
import Testing
@testable import AgentConfig
@testable import AgentDoctor
import DaemonSupport
import HVSystem
@testable import VMBusDiscovery
import HVProtocol
import VSS

/// An in-memory machine: files, symlinks (sysfs `driver`), and scripted commands.
final class FakeHost: SystemAccess, SysfsAccess {
    var files: [String: String] = [:]
    var links: [String: String] = [:]
    var commands: [String: (Int32, String)] = [:]
    var ran: [[String]] = []
    /// What the daemon's status socket answers, by socket path (nothing: not running).
    var statuses: [String: AgentStatus] = [:]
    let root = "/"
    /// Executable regular files (VSS hooks).
    var executables: Set<String> = []
    /// Block devices by path, and loop devices' backing filesystems by `MAJ:MIN`.
    var blockDevices: [String: (UInt32, UInt32)] = [:]
    var loopBacking: [String: [String]] = [:]
    /// The root prefixes the freeze planner was given.
    var factRoots: [String] = []

    func isExecutableFile(_ path: String) -> Bool { executables.contains(path) }
    func blockDeviceFacts(rootPrefix: String) -> any BlockDeviceFacts {
        factRoots.append(rootPrefix)
        return FakeBlockDeviceFacts(devices: blockDevices, loops: loopBacking)
    }

    func daemonStatus(socket: String) -> AgentStatus? { statuses[socket] }

    func read(_ path: String) -> String? { files[path] }
    func exists(_ path: String) -> Bool {
        files[path] != nil || links[path] != nil || files.keys.contains { $0.hasPrefix(path + "/") }
    }
    func list(_ path: String) -> [String] {
        let prefix = path + "/"
        return Set((Array(files.keys) + Array(links.keys)).filter { $0.hasPrefix(prefix) }
            .compactMap { $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init) }).sorted()
    }
    func fileStatus(_ path: String) -> (mtime: Int, size: Int)? { files[path].map { (0, $0.utf8.count) } }
    func run(_ argv: [String]) -> (status: Int32, output: String)? {
        ran.append(argv)
        return commands[argv.joined(separator: " ")].map { ($0.0, $0.1) }
    }
    func append(_ path: String, _ text: String) throws { files[path, default: ""] += text }
    func write(_ path: String, _ value: String) throws(SystemCallError) { files[path] = value }
    func linkTargetName(_ path: String) -> String? { links[path] }
    func fileSize(_ path: String) -> Int? { files[path]?.utf8.count }

    func device(_ instance: String, _ c: VMBusDeviceClass, relID: Int, driver: String?) {
        let dir = "/sys/bus/vmbus/devices/\(instance)"
        files["\(dir)/class_id"] = "{\(c.classID)}\n"
        files["\(dir)/id"] = "\(relID)\n"
        if let driver { links["\(dir)/driver"] = driver }
    }
}

struct FakeBlockDeviceFacts: BlockDeviceFacts {
    var devices: [String: (UInt32, UInt32)]
    var loops: [String: [String]]
    func blockDevice(_ source: String) -> (major: UInt32, minor: UInt32)? { devices[source].map { (major: $0.0, minor: $0.1) } }
    func loopBackingFilesystems(major: UInt32, minor: UInt32) -> [String]? { loops["\(major):\(minor)"] }
    func isISCSI(major: UInt32, minor: UInt32) -> Bool { false }
}

@Suite("hvagent doctor")
struct DoctorTests {
    /// A Hyper-V guest with one problem of each kind seeded.
    func seeded() -> FakeHost {
        let h = FakeHost()
        h.commands["systemd-detect-virt"] = (0, "microsoft\n")
        for m in ["hv_vmbus", "hv_storvsc", "hv_utils", "hv_balloon"] { h.files["/sys/module/\(m)/refcnt"] = "1\n" }
        h.commands["modinfo -F filename hv_netvsc"] = (0, "/lib/modules/x/hv_netvsc.ko\n")        // available, not loaded
        h.commands["modinfo -F filename uio_hv_generic"] = (0, "/lib/modules/x/uio_hv_generic.ko\n")
        h.files["/etc/initramfs-tools/modules"] = "# list\nhv_vmbus\nhv_storvsc\n"                  // hv_blkvsc, hv_netvsc missing
        h.files["/proc/sys/kernel/osrelease"] = "6.1.0-18-amd64\n"                                  // too old for uio
        h.device("00000001-1111-4222-8333-444455556666", .kvp, relID: 1, driver: "uio_hv_generic")  // left on uio
        h.device("00000002-1111-4222-8333-444455556666", .heartbeat, relID: 2, driver: "hv_utils")
        h.device("00000003-1111-4222-8333-444455556666", .timesync, relID: 3, driver: "hv_utils")
        h.files["/sys/bus/vmbus/hibernation"] = "1\n"
        return h
    }

    func finding(_ all: [Finding], _ id: String) -> Finding? { all.first { $0.id == id } }

    @Test func reportsEachSeededProblemWithItsFix() throws {
        let h = seeded()
        var config = AgentSettings()
        try config.override("services.timesync=uio")   // forced uio on a 6.1 kernel: refused
        try config.override("timesync.mode=chrony")     // chronyd not installed
        let findings = Doctor(system: h, sysfs: h, config: config).run()
        #expect(finding(findings, "hyperv.detected")?.severity == .ok)
        #expect(finding(findings, "module.hv_vmbus")?.severity == .ok)
        #expect(finding(findings, "module.hv_netvsc")?.severity == .warning)
        #expect(finding(findings, "module.hv_netvsc")?.fix == "modprobe hv_netvsc")
        #expect(finding(findings, "module.hid_hyperv")?.severity == .info) // not available: not needed for a server
        let initramfs = try #require(finding(findings, "initramfs.modules"))
        #expect(initramfs.severity == .warning)
        #expect(initramfs.message.contains("hv_blkvsc hv_netvsc"))
        let kvp = try #require(finding(findings, "service.kvp"))
        #expect(kvp.severity == .warning)
        #expect(kvp.fix == "hvagent release")
        let ts = try #require(finding(findings, "service.timesync"))
        #expect(ts.severity == .error)
        #expect(ts.message.contains("predates"))
        #expect(finding(findings, "service.heartbeat")?.severity == .ok)
        #expect(finding(findings, "service.shutdown")?.severity == .info) // not offered
        #expect(finding(findings, "hibernation")?.severity == .warning)
        #expect(finding(findings, "time.chrony")?.severity == .error)
    }

    @Test func fixAppendsTheInitramfsModulesAndRebuilds() throws {
        let h = seeded()
        h.commands["update-initramfs -u"] = (0, "")
        let doctor = Doctor(system: h, sysfs: h, config: AgentSettings())
        let done = try doctor.fixInitramfs()
        #expect(h.files["/etc/initramfs-tools/modules"] == "# list\nhv_vmbus\nhv_storvsc\n# added by hvagent doctor --fix\nhv_blkvsc\nhv_netvsc\n")
        #expect(h.ran.last == ["update-initramfs", "-u"])
        #expect(done.count == 2)
        #expect(finding(doctor.run(), "initramfs.modules")?.severity == .ok)
        #expect(try doctor.fixInitramfs().isEmpty) // idempotent
    }

    @Test func dracutSystemsGetADropIn() throws {
        let h = seeded()
        h.files.removeValue(forKey: "/etc/initramfs-tools/modules")
        h.files["/etc/dracut.conf.d/01-dist.conf"] = "hostonly=yes\n"
        h.commands["dracut -f"] = (0, "")
        let doctor = Doctor(system: h, sysfs: h, config: AgentSettings())
        #expect(finding(doctor.run(), "initramfs.modules")?.severity == .warning)
        _ = try doctor.fixInitramfs()
        #expect(h.files["/etc/dracut.conf.d/hvagent-hyperv.conf"] == "add_drivers+=\" hv_vmbus hv_storvsc hv_blkvsc hv_netvsc \"\n")
        #expect(finding(doctor.run(), "initramfs.modules")?.severity == .ok)
    }

    @Test func poolFilesAreCheckedForWholeRecordsAndAge() {
        let h = seeded()
        h.files["/proc/stat"] = "cpu 1 2 3\nbtime 1000\n"
        h.files["/var/lib/hyperv/.kvp_pool_1"] = String(repeating: "x", count: 2560 * 3)
        h.files["/var/lib/hyperv/.kvp_pool_3"] = String(repeating: "x", count: 2560 * 2 + 100)
        h.files["/var/lib/hyperv/.kvp_pool_0"] = String(repeating: "x", count: 2560) // mtime 0 in the fake: before boot
        let findings = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        #expect(finding(findings, "kvp.pool.1")?.severity == .ok)
        #expect(finding(findings, "kvp.pool.1")?.message == "/var/lib/hyperv/.kvp_pool_1: 3 records")
        #expect(finding(findings, "kvp.pool.3")?.severity == .warning)
        #expect(finding(findings, "kvp.pool.3")?.message.contains("2 whole records and a partial one") == true)
        #expect(finding(findings, "kvp.pool.0")?.message.contains("before this boot") == true)
        #expect(finding(findings, "kvp.pool.2")?.severity == .info)
    }

    /// The last host request per service, from the running daemon's status socket.
    @Test func reportsWhatTheRunningDaemonSawFromTheHost() throws {
        let h = seeded()
        let doctor = Doctor(system: h, sysfs: h, config: AgentSettings())
        let notRunning = try #require(finding(doctor.run(), "daemon.running"))
        #expect(notRunning.severity == .warning)
        #expect(notRunning.message == "hvagent is not running (nothing answers on /run/hvagent/status.sock): no host requests to report")
        #expect(notRunning.fix == "systemctl enable --now hvagent")

        let last = Date(timeIntervalSince1970: 1_796_000_000)
        var status = AgentStatus(version: "0.1.0", pid: 42, started: Date(timeIntervalSince1970: 1_795_990_000), services: [
            .init(name: .heartbeat, mode: .uio, reason: "kernel 6.12 signals the host"),
            .init(name: .shutdown, mode: .kernel, reason: "forced"),
            .init(name: .timesync, mode: .uio, reason: "kernel 6.12 signals the host"),
            .init(name: .kvp, mode: .kernel, reason: "forced"),
        ])
        status.services[0].open = true
        status.services[0].requests = 120
        status.services[0].lastActivity = last
        status.services[2].open = true
        status.services[3].requests = 7
        status.services[3].dropped = 1
        status.services[3].lastActivity = last
        status.services[3].lastError = "dropped: pool 7 out of range"
        status.reloads.restartPending = ["services.kvp"]
        h.statuses["/run/hvagent/status.sock"] = status
        let findings = doctor.run()
        #expect(finding(findings, "daemon.running")?.severity == .ok)
        #expect(finding(findings, "daemon.running")?.message == "hvagent 0.1.0 running as pid 42 since 2026-11-29T22:06:40Z")
        #expect(finding(findings, "host.heartbeat") == Finding("host.heartbeat", .ok,
            "heartbeat (uio): last host activity 2026-11-30T00:53:20Z, 120 requests, 0 dropped"))
        #expect(finding(findings, "host.shutdown")?.severity == .info)
        #expect(finding(findings, "host.shutdown")?.message.contains("served by the kernel") == true)
        #expect(finding(findings, "host.timesync")?.message == "timesync (uio): open, no host request yet")
        let kvp = try #require(finding(findings, "host.kvp"))
        #expect(kvp.severity == .warning)
        #expect(kvp.message == "kvp (kernel): last host activity 2026-11-30T00:53:20Z, 7 requests, 1 dropped; last error: dropped: pool 7 out of range")
        #expect(finding(findings, "config.restart")?.fix == "systemctl restart hvagent")
        #expect(finding(findings, "config.reload") == nil)
    }

    @Test func notHyperVIsAnErrorWithTheReason() {
        let h = FakeHost()
        h.commands["systemd-detect-virt"] = (1, "kvm\n")
        let findings = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        let d = finding(findings, "hyperv.detected")
        #expect(d?.severity == .error)
        #expect(d?.message == "Hyper-V not detected (systemd-detect-virt says kvm): hvagent has nothing to serve on this machine")
        #expect(!findings.contains { $0.id.hasPrefix("service.") })
        #expect(findings.filter { $0.id.hasPrefix("module.") }.allSatisfy { $0.fix == nil })
    }

    /// On this machine: unless it really is a Hyper-V guest, the real checks say so.
    @Test func realMachineVerdictIsConsistent() {
        let (detected, how) = Doctor(system: HostSystem(), sysfs: DirectorySysfs(), config: AgentSettings()).hyperVDetected()
        if !FileManager.default.fileExists(atPath: "/sys/bus/vmbus/devices") {
            #expect(!detected, "detected Hyper-V without a VMBus: \(how)")
        }
        #expect(!how.isEmpty)
    }

    @Test func hostSystemRunsCommandsAndCapturesOutput() {
        let host = HostSystem()
        #expect(host.run(["sh", "-c", "echo hi; exit 3"])?.status == 3)
        #expect(host.run(["sh", "-c", "echo hi"])?.output == "hi\n")
        #expect(host.run(["definitely-not-a-command-hvagent"]) == nil)
    }

    // MARK: - VSS (docs/PROTOCOL.md §6.5; docs/COMPATIBILITY.md, VSS rows)

    /// An ext4 root, a tmpfs, a read-only ext4, an ext4 image on a loop device whose backing file
    /// is on the root, and a vfat ESP.
    static let mountInfo = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
        25 22 0:22 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,size=400000k
        30 22 8:17 / /mnt/ro ro,relatime shared:9 - ext4 /dev/sdb1 ro
        31 22 7:0 / /mnt/image rw,relatime shared:10 - ext4 /dev/loop0 rw
        32 22 8:2 / /boot/efi rw,relatime shared:11 - vfat /dev/sda2 rw,fmask=0077

        """

    func vssSeeded() -> FakeHost {
        let h = seeded()
        h.device("00000005-1111-4222-8333-444455556666", .vss, relID: 5, driver: "hv_utils")
        h.files["/dev/vmbus/hv_vss"] = ""
        h.files["/proc/1/mountinfo"] = Self.mountInfo
        h.blockDevices = ["/dev/sda1": (8, 1), "/dev/sdb1": (8, 17), "/dev/loop0": (7, 0), "/dev/sda2": (8, 2)]
        h.loopBacking = ["7:0": ["8:1"]]
        return h
    }

    @Test func vssIsServedByDefaultThroughTheFreezeHelper() throws {
        let h = vssSeeded()
        let findings = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        #expect(finding(findings, "vss.device") == Finding("vss.device", .ok,
            "the host offers the backup (VSS) device 00000005-1111-4222-8333-444455556666, bound to hv_utils"))
        #expect(finding(findings, "vss.node")?.severity == .ok)
        #expect(finding(findings, "vss.hv_vss_daemon")?.message == "hv_vss_daemon is not installed")
        // The default (auto) keeps the device with hv_utils: kernel mode.
        #expect(finding(findings, "service.vss") == Finding("service.vss", .ok,
            "vss: kernel mode (hv_utils owns the vss device: served through /dev/vmbus/hv_vss); bound to hv_utils"))
        let mode = try #require(finding(findings, "vss.mode"))
        #expect(mode.severity == .info)
        #expect(mode.message.hasPrefix("services.vss = auto: hvagent answers the host's FREEZE"))
        #expect(mode.fix == nil)
        // The helper's socket is not there (the agent is not running): a FREEZE would fail.
        #expect(finding(findings, "vss.helper")?.severity == .warning)
        h.files["/run/hvagent/freeze.sock"] = ""
        #expect(finding(Doctor(system: h, sysfs: h, config: AgentSettings()).run(), "vss.helper")?.severity == .ok)
        #expect(finding(findings, "vss.frozen_list") == nil)

        // hv_vss_daemon running holds the device: hvagent leaves backups to it, and says how to switch.
        h.files["/usr/sbin/hv_vss_daemon"] = ""
        h.files["/proc/812/comm"] = "hv_vss_daemon\n"
        h.files["/proc/1/comm"] = "systemd\n"
        let both = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        #expect(finding(both, "vss.hv_vss_daemon")?.message.hasPrefix("hv_vss_daemon is running (pid 812)") == true)
        #expect(finding(both, "vss.mode")?.message.contains("hv_vss_daemon holds /dev/vmbus/hv_vss") == true)
        #expect(finding(both, "vss.mode")?.fix?.contains("disable --now hv-vss-daemon") == true)
    }

    @Test func ipInjectionNeedsTheIPHelpersSocket() throws {
        let h = vssSeeded()
        // On by default (auto) and the socket not there (the agent is not running): HV_E_FAIL.
        let missing = try #require(finding(Doctor(system: h, sysfs: h, config: AgentSettings()).run(), "kvp.ip_helper"))
        #expect(missing.severity == .warning)
        #expect(missing.message.contains("/run/hvagent/ip.sock does not exist"))
        #expect(missing.fix == "systemctl start hvagent-ip.socket (hvagent.service starts it)")
        h.files["/run/hvagent/ip.sock"] = ""
        #expect(finding(Doctor(system: h, sysfs: h, config: AgentSettings()).run(), "kvp.ip_helper")?.severity == .ok)
        var inProcess = AgentSettings()
        try inProcess.override("kvp.ip_helper_socket=")
        #expect(finding(Doctor(system: h, sysfs: h, config: inProcess).run(), "kvp.ip_helper")?.severity == .info)
        var off = AgentSettings()
        try off.override("kvp.ip_injection=off")
        #expect(finding(Doctor(system: h, sysfs: h, config: off).run(), "kvp.ip_helper") == nil)
    }

    @Test func vssOffSaysWhoServesBackups() throws {
        let h = vssSeeded()
        var config = AgentSettings()
        try config.override("services.vss=off")
        let findings = Doctor(system: h, sysfs: h, config: config).run()
        let mode = try #require(finding(findings, "vss.mode"))
        #expect(mode.severity == .warning)
        #expect(mode.message == "services.vss is off and hv_vss_daemon is not running: backups are crash-consistent")
        #expect(mode.fix?.contains("set services.vss = auto") == true)
        #expect(finding(findings, "vss.helper") == nil)

        // Installed and running: hv_vss_daemon serves them.
        h.files["/usr/sbin/hv_vss_daemon"] = ""
        h.files["/proc/812/comm"] = "hv_vss_daemon\n"
        h.files["/proc/1/comm"] = "systemd\n"
        let served = Doctor(system: h, sysfs: h, config: config).run()
        #expect(finding(served, "vss.mode")?.severity == .info)
        #expect(finding(served, "vss.mode")?.message.contains("hv_vss_daemon serves backups") == true)

        // Device not offered, node missing.
        let bare = seeded()
        let none = Doctor(system: bare, sysfs: bare, config: config).run()
        #expect(finding(none, "vss.device")?.severity == .info)
        #expect(finding(none, "vss.device")?.message.contains("crash-consistent") == true)
        #expect(finding(none, "vss.node") == nil)
        #expect(finding(none, "vss.mode")?.severity == .info)
    }

    @Test func vssPlanListsWhatWouldBeFrozenAndWhatIsSkippedWithReasons() throws {
        let h = vssSeeded()
        let findings = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        #expect(finding(findings, "vss.plan") == Finding("vss.plan", .ok, "a FREEZE would freeze 1 filesystem, in this order: / (ext4 on /dev/sda1)"))
        #expect(findings.filter { $0.id == "vss.skipped" }.map(\.message) == [
            "not frozen: /boot/efi (/dev/sda2): filesystem type vfat excluded",
            "not frozen: /mnt/ro (/dev/sdb1): read-only",
            "not frozen: /mnt/image (/dev/loop0): loop-backed, its backing file is on a filesystem frozen too",
        ])
        #expect(h.factRoots == ["/proc/1/root"]) // resolved in the initial mount namespace, as the service does

        // A loop image whose backing file is on a filesystem left alone freezes (COMPATIBILITY.md V5),
        // children before parents.
        h.loopBacking = ["7:0": ["8:17"]]
        let image = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        #expect(finding(image, "vss.plan")?.message == "a FREEZE would freeze 2 filesystems, in this order: /mnt/image (ext4 on /dev/loop0), / (ext4 on /dev/sda1)")

        // The configured mountinfo and rules are the ones used.
        var config = AgentSettings()
        try config.override("vss.mountinfo=/srv/mountinfo")
        try config.override("vss.exclude_fstypes=xfs")
        h.files["/srv/mountinfo"] = Self.mountInfo
        let configured = Doctor(system: h, sysfs: h, config: config).run()
        #expect(finding(configured, "vss.plan")?.message.contains("/boot/efi (vfat on /dev/sda2)") == true)
        #expect(h.factRoots.last == "")

        // Unreadable mountinfo.
        h.files.removeValue(forKey: "/proc/1/mountinfo")
        let unreadable = try #require(finding(Doctor(system: h, sysfs: h, config: AgentSettings()).run(), "vss.plan"))
        #expect(unreadable.severity == .warning)
        #expect(unreadable.fix == "run hvagent doctor as root")
    }

    @Test func vssHooksAreListedInNameOrder() throws {
        let h = vssSeeded()
        #expect(finding(Doctor(system: h, sysfs: h, config: AgentSettings()).run(), "vss.hooks")?.message.hasPrefix("no hooks in /etc/hvagent/vss.d") == true)
        for name in ["20-postgres", "10-mysql", "README", ".hidden", "10-mysql~"] { h.files["/etc/hvagent/vss.d/\(name)"] = "#!/bin/sh\n" }
        h.executables = ["/etc/hvagent/vss.d/20-postgres", "/etc/hvagent/vss.d/10-mysql", "/etc/hvagent/vss.d/.hidden", "/etc/hvagent/vss.d/10-mysql~"]
        let findings = Doctor(system: h, sysfs: h, config: AgentSettings()).run()
        #expect(finding(findings, "vss.hooks") == Finding("vss.hooks", .ok,
            "hooks in /etc/hvagent/vss.d (freeze in this order, thaw in reverse): 10-mysql, 20-postgres"))
        let ignored = try #require(finding(findings, "vss.hooks.ignored"))
        #expect(ignored.message == "ignored in /etc/hvagent/vss.d (not executable regular files): README")
        #expect(ignored.fix == "chmod +x /etc/hvagent/vss.d/README")
        #expect(finding(findings, "vss.mode")?.message.hasPrefix("services.vss = auto: hvagent answers") == true)
        // Off: listed, but said not to run.
        var config = AgentSettings()
        try config.override("services.vss=off")
        let off = Doctor(system: h, sysfs: h, config: config).run()
        #expect(finding(off, "vss.hooks")?.message.hasSuffix("(not run while services.vss is off: hv_vss_daemon runs no hooks)") == true)
        // A frozen list left behind.
        h.files["/run/hvagent/vss-frozen"] = "/home\n/\n"
        #expect(finding(off, "vss.frozen_list") == nil)
        let left = try #require(finding(Doctor(system: h, sysfs: h, config: AgentSettings()).run(), "vss.frozen_list"))
        #expect(left.fix == "hvagent vss-thaw")
        #expect(left.message.contains("/home /"))
    }
}
