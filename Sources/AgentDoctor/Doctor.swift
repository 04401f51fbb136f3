import RingTransport
import AgentConfig
import DaemonSupport
import FoundationEssentials
import KVPStore
import VMBusDiscovery
import HVProtocol

/// `hvagent doctor`: the checks an admin would otherwise do by hand on a Hyper-V Linux guest, each
/// finding saying what is wrong and the command that fixes it.
public struct Doctor {
    public let system: any SystemAccess
    public let sysfs: any SysfsAccess
    public let config: AgentSettings

    public init(system: any SystemAccess, sysfs: any SysfsAccess, config: AgentSettings) {
        self.system = system
        self.sysfs = sysfs
        self.config = config
    }

    /// The modules a Hyper-V guest relies on, and what each is for.
    public static let modules: [(name: String, role: String)] = [
        ("hv_vmbus", "the VMBus itself"), ("hv_storvsc", "synthetic SCSI disks"), ("hv_netvsc", "synthetic network"),
        ("hv_utils", "kernel integration services"), ("hv_balloon", "dynamic memory"), ("hid_hyperv", "synthetic mouse"),
        ("uio_hv_generic", "user-space channels (uio mode)"),
    ]

    /// What must be in the initramfs so the root disk and network come up (hv_blkvsc is folded into
    /// hv_storvsc on current kernels; listing it is harmless and helps old ones).
    public static let initramfsModules = ["hv_vmbus", "hv_storvsc", "hv_blkvsc", "hv_netvsc"]

    /// Whether this machine is a Hyper-V guest, and how we know.
    public func hyperVDetected() -> (Bool, String) {
        if let virt = system.run(["systemd-detect-virt"])?.output.trimmedLine, !virt.isEmpty {
            return (virt == "microsoft", "systemd-detect-virt says \(virt)")
        }
        if let vendor = system.read("/sys/class/dmi/id/sys_vendor")?.trimmedLine, !vendor.isEmpty {
            return (vendor == "Microsoft Corporation", "DMI system vendor is \"\(vendor)\"")
        }
        let bus = sysfs.exists(VMBusDiscovery.devicesPath)
        return (bus, bus ? "the VMBus is present" : "no VMBus in sysfs and no other evidence")
    }

    /// Runs every check.
    public func run() -> [Finding] {
        var findings: [Finding] = []
        let (isHyperV, how) = hyperVDetected()
        findings.append(isHyperV
            ? Finding("hyperv.detected", .ok, "Hyper-V detected (\(how))")
            : Finding("hyperv.detected", .error, "Hyper-V not detected (\(how)): hvagent has nothing to serve on this machine"))
        findings += moduleFindings(hyperV: isHyperV)
        findings += initramfsFindings()
        if isHyperV { findings += bindingFindings() + vssFindings() + ipInjectionFindings() }
        findings += timeFindings()
        findings += poolFindings()
        findings += hostActivityFindings(hyperV: isHyperV)
        return findings
    }

    /// What the running daemon has seen from the host, per service (asked over its status socket):
    /// when the host last asked and how often, the last error, and configuration changes that wait
    /// for a restart. A service whose channel is open but never asked is not a fault (the host may
    /// have the integration service switched off); one that failed is.
    func hostActivityFindings(hyperV: Bool) -> [Finding] {
        let socket = config[.statusSocket]
        guard let status = system.daemonStatus(socket: socket) else {
            return [Finding("daemon.running", hyperV ? .warning : .info,
                            "hvagent is not running (nothing answers on \(socket)): no host requests to report",
                            fix: hyperV ? "systemctl enable --now hvagent" : nil)]
        }
        var findings = [Finding("daemon.running", .ok,
                                "hvagent \(status.version) running as pid \(status.pid) since \(status.started.formatted(.iso8601))")]
        for service in status.services {
            let id = "host.\(service.name)"
            let counts = "\(service.requests) request\(service.requests == 1 ? "" : "s"), \(service.dropped) dropped"
            switch (service.mode, service.lastActivity) {
            case (.off, _), (.unavailable, _):
                findings.append(Finding(id, .info, "\(service.name): \(service.mode) (\(service.reason))"))
            case (.kernel, _) where service.name == .heartbeat || service.name == .shutdown:
                findings.append(Finding(id, .info, "\(service.name): served by the kernel (hv_utils); its host requests are not visible to hvagent"))
            case (_, nil):
                findings.append(Finding(id, .info, "\(service.name) (\(service.mode)): \(service.open ? "open, " : "")no host request yet"
                    + (service.lastError.map { "; last error: \($0)" } ?? "")))
            case (_, let last?):
                let line = "\(service.name) (\(service.mode)): last host activity \(last.formatted(.iso8601)), \(counts)"
                if let error = service.lastError {
                    findings.append(Finding(id, .warning, line + "; last error: \(error)", fix: "journalctl -u hvagent"))
                } else {
                    findings.append(Finding(id, .ok, line))
                }
            }
        }
        if let error = status.reloads.lastError {
            findings.append(Finding("config.reload", .warning, "the last reload was refused, the daemon runs the previous configuration: \(error)",
                                    fix: "correct the file (hvagent config checks it), then systemctl reload hvagent"))
        }
        if !status.reloads.restartPending.isEmpty {
            findings.append(Finding("config.restart", .warning,
                                    "changed in the configuration but not applied until a restart: " + status.reloads.restartPending.joined(separator: ", "),
                                    fix: "systemctl restart hvagent"))
        }
        return findings
    }

    /// The KVP pool files: present, whole records, and whether they predate this boot (a pool 3 or 0
    /// older than the boot is the host's data from a previous run that nothing refreshed).
    func poolFindings() -> [Finding] {
        let directory = config[.kvpPoolDir]
        let bootTime = (system.read("/proc/stat") ?? "").split(separator: "\n")
            .first { $0.hasPrefix("btime ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
        var findings: [Finding] = []
        for pool in KVPPool.allCases {
            let path = "\(directory)/\(pool.fileName)"
            let id = "kvp.pool.\(pool.rawValue)"
            guard let status = system.fileStatus(path) else {
                findings.append(Finding(id, .info, "\(path) does not exist yet (created when KVP first writes pool \(pool))"))
                continue
            }
            let records = status.size / PoolRecord.size
            if status.size % PoolRecord.size != 0 {
                findings.append(Finding(id, .warning,
                    "\(path) is \(status.size) bytes: \(records) whole records and a partial one (a writer died mid-record); the agent drops the partial record when it starts",
                    fix: "systemctl restart hvagent"))
            } else if let bootTime, status.mtime < bootTime, pool == .external || pool == .autoExternal {
                findings.append(Finding(id, .info, "\(path): \(records) records, last written before this boot"))
            } else {
                findings.append(Finding(id, .ok, "\(path): \(records) records"))
            }
        }
        return findings
    }

    func moduleFindings(hyperV: Bool) -> [Finding] {
        Self.modules.map { module in
            let id = "module.\(module.name)"
            if system.exists("/sys/module/\(module.name)") {
                return Finding(id, .ok, "\(module.name) is loaded (\(module.role))")
            }
            let available = system.run(["modinfo", "-F", "filename", module.name]).map { $0.status == 0 } ?? false
            if !available {
                let severity: Finding.Severity = hyperV && module.name == "hv_vmbus" ? .error : .info
                return Finding(id, severity, "\(module.name) is not available in this kernel (\(module.role))",
                               fix: hyperV ? "install the kernel's extra modules package (e.g. linux-modules-extra-$(uname -r) or linux-image-$(uname -r))" : nil)
            }
            let severity: Finding.Severity = hyperV && module.name != "uio_hv_generic" && module.name != "hid_hyperv" ? .warning : .info
            return Finding(id, severity, "\(module.name) is available but not loaded (\(module.role))", fix: "modprobe \(module.name)")
        }
    }

    func initramfsFindings() -> [Finding] {
        if system.exists("/etc/initramfs-tools/modules") {
            let listed = Set((system.read("/etc/initramfs-tools/modules") ?? "").split(separator: "\n")
                .map { $0.split(separator: " ").first.map(String.init) ?? "" }.filter { !$0.hasPrefix("#") })
            let missing = Self.initramfsModules.filter { !listed.contains($0) }
            if missing.isEmpty { return [Finding("initramfs.modules", .ok, "initramfs-tools lists the Hyper-V storage and network modules")] }
            return [Finding("initramfs.modules", .warning,
                            "initramfs-tools does not list \(missing.joined(separator: " ")): the root disk may not be found at boot on Hyper-V",
                            fix: "hvagent doctor --fix  (appends them to /etc/initramfs-tools/modules and runs update-initramfs -u)")]
        }
        if system.exists("/etc/dracut.conf.d") || system.exists("/usr/bin/dracut") || system.exists("/usr/sbin/dracut") {
            let confs = system.list("/etc/dracut.conf.d").filter { $0.hasSuffix(".conf") }
            let text = confs.compactMap { system.read("/etc/dracut.conf.d/\($0)") }.joined(separator: "\n")
            let missing = Self.initramfsModules.filter { !text.contains($0) }
            if missing.isEmpty { return [Finding("initramfs.modules", .ok, "dracut includes the Hyper-V storage and network modules")] }
            return [Finding("initramfs.modules", .warning,
                            "dracut configuration does not add \(missing.joined(separator: " ")): the root disk may not be found at boot on Hyper-V",
                            fix: "hvagent doctor --fix  (writes /etc/dracut.conf.d/hvagent-hyperv.conf and runs dracut -f)")]
        }
        return [Finding("initramfs.modules", .info, "no initramfs-tools or dracut configuration found; nothing to check")]
    }

    /// Applies the initramfs fix. Returns what was done.
    public func fixInitramfs() throws -> [String] {
        var done: [String] = []
        if system.exists("/etc/initramfs-tools/modules") {
            let listed = Set((system.read("/etc/initramfs-tools/modules") ?? "").split(separator: "\n").map { String($0).trimmedLine })
            let missing = Self.initramfsModules.filter { !listed.contains($0) }
            guard !missing.isEmpty else { return [] }
            try system.append("/etc/initramfs-tools/modules", "# added by hvagent doctor --fix\n" + missing.map { "\($0)\n" }.joined())
            done.append("appended \(missing.joined(separator: " ")) to /etc/initramfs-tools/modules")
            let status = system.run(["update-initramfs", "-u"])?.status ?? -1
            done.append(status == 0 ? "update-initramfs -u succeeded" : "update-initramfs -u failed (status \(status)); run it by hand")
        } else if system.exists("/etc/dracut.conf.d") {
            try system.append("/etc/dracut.conf.d/hvagent-hyperv.conf", "add_drivers+=\" \(Self.initramfsModules.joined(separator: " ")) \"\n")
            done.append("wrote /etc/dracut.conf.d/hvagent-hyperv.conf")
            let status = system.run(["dracut", "-f"])?.status ?? -1
            done.append(status == 0 ? "dracut -f succeeded" : "dracut -f failed (status \(status)); run it by hand")
        }
        return done
    }

    func bindingFindings() -> [Finding] {
        let discovery = VMBusDiscovery(sysfs: sysfs)
        let kernel = system.read("/proc/sys/kernel/osrelease").flatMap { KernelRelease($0.trimmedLine) }
        let selector = ModeSelector(kernel: kernel, assumeUIOSignalling: config[.uioSignalBackport],
                                    confidentialGuest: ConfidentialGuest.detect())
        var findings: [Finding] = []
        var uioBound: [String] = []
        for service in ICServiceID.allCases {
            let device = discovery.devices(of: service.deviceClass).first
            let preference = config.mode(of: service)
            let id = "service.\(service.rawValue)"
            guard let device else {
                findings.append(Finding(id, .info, "the host offers no \(service.rawValue) device (enable the integration service in Hyper-V Manager if you want it)"))
                continue
            }
            if device.driver == UIOBinder.uioDriver { uioBound.append(service.rawValue) }
            guard preference != .off else {
                findings.append(Finding(id, .info, "\(service.rawValue) is off in the configuration; bound to \(device.driver ?? "no driver")"))
                continue
            }
            let decision = selector.decide(service, preference: preference, device: device)
            guard let mode = decision.mode else {
                findings.append(Finding(id, .error, "\(service.rawValue): \(decision.reason)", fix: "set services.\(service.rawValue) = auto in \(AgentSettings.defaultPath)"))
                continue
            }
            let expected = mode == .uio ? UIOBinder.uioDriver : (service.deviceClass.kernelDriver ?? "")
            let bound = device.driver ?? "no driver"
            if mode == .kernel && device.driver == UIOBinder.uioDriver {
                findings.append(Finding(id, .warning, "\(service.rawValue) should be served by the kernel (\(decision.reason)) but is bound to uio_hv_generic",
                                        fix: "hvagent release"))
            } else if device.driver == expected || mode == .uio {
                findings.append(Finding(id, .ok, "\(service.rawValue): \(mode.rawValue) mode (\(decision.reason)); bound to \(bound)"))
            } else {
                findings.append(Finding(id, .warning, "\(service.rawValue): \(mode.rawValue) mode expected but bound to \(bound)",
                                        fix: "modprobe \(expected) && echo \(device.instanceID) > /sys/bus/vmbus/drivers/\(expected)/bind"))
            }
        }
        if !uioBound.isEmpty {
            let hibernation = (sysfs.read("/sys/bus/vmbus/hibernation") ?? "").trimmedLine == "1"
            findings.append(Finding("hibernation", hibernation ? .warning : .info,
                                    "\(uioBound.joined(separator: ", ")) bound to uio_hv_generic: VM hibernation fails while any device is bound to uio"
                                        + (hibernation ? " (this VM could otherwise hibernate)" : ""),
                                    fix: hibernation ? "set services.<name> = kernel for those services, then hvagent release" : nil))
        }
        return findings
    }

    func timeFindings() -> [Finding] {
        var findings: [Finding] = []
        let ptp = system.list("/sys/class/ptp").first { (system.read("/sys/class/ptp/\($0)/clock_name") ?? "").trimmedLine == "hyperv" }
        let chrony = system.exists("/usr/sbin/chronyd")
        let mode = config[.timesyncMode]
        let effective: TimesyncModeChoice = mode == .auto ? (chrony ? .chrony : .discipline) : mode
        findings.append(Finding("time.mode", .info, "timesync mode \(mode.rawValue) -> \(effective.rawValue)"
            + (ptp.map { "; kernel PTP clock \($0) (hyperv) present" } ?? "; no hyperv PTP clock")))
        if effective == .chrony && !chrony {
            findings.append(Finding("time.chrony", .error, "timesync.mode is chrony but chronyd is not installed", fix: "apt-get install chrony  (or dnf install chrony)"))
        }
        if effective == .chrony && chrony {
            let confs = (system.list("/etc/chrony/conf.d").map { "/etc/chrony/conf.d/\($0)" } + system.list("/etc/chrony.d").map { "/etc/chrony.d/\($0)" } + ["/etc/chrony/chrony.conf", "/etc/chrony.conf"])
            let socket = config[.chronySocket]
            let configured = confs.contains { (system.read($0) ?? "").split(separator: "\n").contains { $0.hasPrefix("refclock SOCK \(socket)") } }
            findings.append(configured
                ? Finding("time.chrony", .ok, "chrony reads hvagent's refclock at \(socket)")
                : Finding("time.chrony", .warning, "chrony has no `refclock SOCK \(socket)` line: hvagent's samples are not used",
                          fix: "uncomment the refclock line in /etc/chrony/conf.d/hvagent.conf and run: systemctl restart chrony"))
        }
        return findings
    }
}

extension StringProtocol {
    var trimmedLine: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
