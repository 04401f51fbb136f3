import AgentConfig
import HVProtocol
import VMBusDiscovery
import VSS

/// Whether a backup of this VM will be application-consistent (docs/PROTOCOL.md §6.5;
/// docs/COMPATIBILITY.md, "VSS (backups) vs hv_vss_daemon"). Read-only: the plan is computed the way
/// the service computes it, but nothing is frozen and no hook is run.
extension Doctor {
    /// The names hv_vss_daemon is installed under (upstream and Debian; RHEL renames it).
    static let vssDaemonPaths = ["/usr/sbin/hv_vss_daemon", "/usr/sbin/hypervvssd"]

    func vssFindings() -> [Finding] {
        var findings: [Finding] = []
        let mode = config.mode(of: .vss)
        let device = VMBusDiscovery(sysfs: sysfs).devices(of: VMBusDeviceClass.vss).first
        let node = config[.vssDevice]

        // 1. The device the host offers, and the kernel's node for it (hv_utils creates it).
        if let device {
            let driver = device.driver ?? "no driver"
            findings.append(Finding("vss.device", .ok, "the host offers the backup (VSS) device \(device.instanceID), bound to \(driver)"))
            if system.exists(node) {
                findings.append(Finding("vss.node", .ok, "\(node) exists (kernel mode: hv_vss_daemon or hvagent serves it)"))
            } else if device.driver == UIOBinder.uioDriver {
                findings.append(Finding("vss.node", .info, "\(node) does not exist: the device is bound to uio_hv_generic (uio mode)"))
            } else {
                findings.append(Finding("vss.node", .warning, "\(node) does not exist: nothing can answer the host's FREEZE in kernel mode",
                                        fix: "modprobe hv_utils"))
            }
        } else {
            findings.append(Finding("vss.device", .info,
                "the host offers no backup (VSS) device: its backups and checkpoints of this VM are crash-consistent",
                fix: "enable the Backup (volume shadow copy) integration service in Hyper-V Manager"))
        }

        // 2. Who answers a FREEZE: hvagent (by its mode), hv_vss_daemon, or nobody.
        let daemonInstalled = Self.vssDaemonPaths.first { system.exists($0) }
        let daemonPID = vssDaemonPID()
        if let daemonPID {
            findings.append(Finding("vss.hv_vss_daemon", .ok, "hv_vss_daemon is running (pid \(daemonPID)): it freezes the filesystems but runs no hooks (COMPATIBILITY.md V4)"))
        } else if let daemonInstalled {
            findings.append(Finding("vss.hv_vss_daemon", .info, "hv_vss_daemon is installed (\(daemonInstalled)) but not running"))
        } else {
            findings.append(Finding("vss.hv_vss_daemon", .info, "hv_vss_daemon is not installed"))
        }
        if mode == .off {
            if daemonPID != nil {
                findings.append(Finding("vss.mode", .info, "services.vss is off: hv_vss_daemon serves backups, which are application-consistent as far as a filesystem freeze makes them; the hooks below are not run"))
            } else {
                findings.append(Finding("vss.mode", device == nil ? .info : .warning,
                    "services.vss is off and hv_vss_daemon is not running: backups are crash-consistent",
                    fix: "set services.vss = auto (the default) in \(AgentSettings.defaultPath)"
                        + (daemonInstalled != nil ? ", or start hv_vss_daemon (its unit is hypervvssd or hyperv-daemons.hv-vss-daemon, by distribution)" : "")))
            }
        } else {
            var line = "services.vss = \(mode.rawValue): hvagent answers the host's FREEZE, runs the hooks and has hvagent-freeze.service freeze the filesystems"
            if daemonPID != nil { line += "; but hv_vss_daemon holds \(node) now, so in kernel mode hvagent leaves backups to it (no hooks run) until it stops" }
            findings.append(Finding("vss.mode", .info, line,
                                    fix: daemonPID != nil ? "systemctl disable --now hv-vss-daemon.service (hypervvssd.service on Fedora/RHEL)" : nil))
            // The agent's unit has no CAP_SYS_ADMIN: without the helper's socket a FREEZE fails.
            let socket = config[.vssFreezeHelperSocket]
            if system.exists(socket) {
                findings.append(Finding("vss.helper", .ok, "the freeze helper's socket \(socket) exists (hvagent-freeze.socket)"))
            } else if device != nil {
                findings.append(Finding("vss.helper", .warning, "the freeze helper's socket \(socket) does not exist: a FREEZE from the packaged agent would fail (E_FAIL)",
                                        fix: "systemctl start hvagent-freeze.socket (hvagent.service starts it)"))
            }
        }

        // 3. What a FREEZE would freeze and leave alone, and the hooks around it.
        findings += vssPlanFindings()
        findings += vssHookFindings(used: mode != .off)
        let frozenList = config[.vssFrozenList]
        if system.exists(frozenList) {
            let left = (system.read(frozenList) ?? "").split(separator: "\n").joined(separator: " ")
            findings.append(Finding("vss.frozen_list", .warning, "\(frozenList) exists: hvagent recorded filesystems as frozen (\(left.isEmpty ? "none listed" : left))",
                                    fix: "hvagent vss-thaw"))
        }
        return findings
    }

    /// The pid of a running hv_vss_daemon, from `/proc/<pid>/comm` (both its names fit in comm's 15 characters).
    func vssDaemonPID() -> String? {
        system.list("/proc").first { pid in
            pid.allSatisfy(\.isNumber) && ["hv_vss_daemon", "hypervvssd"].contains((system.read("/proc/\(pid)/comm") ?? "").trimmedLine)
        }
    }

    /// The freeze plan from the configured mountinfo (docs/PROTOCOL.md §6.5.7), one finding for the
    /// filesystems frozen (in freeze order) and one per mount left alone with its reason.
    func vssPlanFindings() -> [Finding] {
        let path = config[.vssMountInfo]
        guard let text = system.read(path) else {
            return [Finding("vss.plan", .warning, "cannot read \(path): the freeze plan cannot be shown", fix: "run hvagent doctor as root")]
        }
        let mounts = MountInfoEntry.parseAll(text)
        let rootPrefix = FreezeProcedure.rootPrefix(forMountInfo: path)
        let plan = FreezePlan.make(mounts: mounts, rules: FreezePlan.Rules(settings: config), facts: system.blockDeviceFacts(rootPrefix: rootPrefix))
        var findings: [Finding] = []
        if plan.targets.isEmpty {
            let unresolved = plan.skipped.isEmpty && !mounts.isEmpty && !rootPrefix.isEmpty
            findings.append(Finding("vss.plan", .warning, "a FREEZE would freeze no filesystem (\(path))"
                + (unresolved ? ": no mount source resolved to a block device under \(rootPrefix)" : ""),
                fix: unresolved ? "run hvagent doctor as root" : nil))
        } else {
            let list = plan.targets.map { "\($0.mountPoint) (\($0.filesystemType) on \($0.source))" }.joined(separator: ", ")
            findings.append(Finding("vss.plan", .ok, "a FREEZE would freeze \(plan.targets.count) filesystem\(plan.targets.count == 1 ? "" : "s"), in this order: \(list)"))
        }
        for skip in plan.skipped {
            findings.append(Finding("vss.skipped", .info, "not frozen: \(skip.mountPoint) (\(skip.source)): \(skip.reason)"))
        }
        return findings
    }

    /// The hooks in `vss.hook_dir` as the service would find them (COMPATIBILITY.md V4), and
    /// entries it would ignore because they are not executable.
    func vssHookFindings(used: Bool) -> [Finding] {
        let directory = config[.vssHookDir]
        let names = system.list(directory).filter(VSSHookRunner.isCandidate)
        let hooks = names.filter { system.isExecutableFile("\(directory)/\($0)") }
        let ignored = names.filter { !hooks.contains($0) }
        let notRun = used ? "" : " (not run while services.vss is off: hv_vss_daemon runs no hooks)"
        var findings: [Finding] = []
        if hooks.isEmpty {
            findings.append(Finding("vss.hooks", .info,
                "no hooks in \(directory): applications are not told before their filesystems freeze (databases get a crash-consistent image of their files)\(notRun)"))
        } else {
            findings.append(Finding("vss.hooks", .ok, "hooks in \(directory) (freeze in this order, thaw in reverse): \(hooks.joined(separator: ", "))\(notRun)"))
        }
        if !ignored.isEmpty {
            findings.append(Finding("vss.hooks.ignored", .warning, "ignored in \(directory) (not executable regular files): \(ignored.joined(separator: ", "))",
                                    fix: "chmod +x " + ignored.map { "\(directory)/\($0)" }.joined(separator: " ")))
        }
        return findings
    }
}
