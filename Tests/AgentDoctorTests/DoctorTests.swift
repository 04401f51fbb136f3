import RingTransport
import Foundation
import Testing
@testable import AgentConfig
@testable import AgentDoctor
import DaemonSupport
import HVSystem
@testable import VMBusDiscovery
import HVProtocol

/// An in-memory machine: files, symlinks (sysfs `driver`), and scripted commands.
final class FakeHost: SystemAccess, SysfsAccess {
    var files: [String: String] = [:]
    var links: [String: String] = [:]
    var commands: [String: (Int32, String)] = [:]
    var ran: [[String]] = []
    /// What the daemon's status socket answers, by socket path (nothing: not running).
    var statuses: [String: AgentStatus] = [:]
    let root = "/"

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
}
