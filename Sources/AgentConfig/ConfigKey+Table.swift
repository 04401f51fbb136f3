/// The configuration table: every key as a typed ``Setting`` handle holding its row, section by
/// section, and ``ConfigKey/all`` listing the rows in the order of the documented file and the man
/// page.
///
/// A row exists only as a handle (``ConfigKey``'s initialiser is internal and only ``Setting``
/// calls it), so every key has its typed handle; `AgentConfigTests` checks that the table and the
/// handles match one to one. The handles are computed (`static var`) because generic types cannot
/// have stored statics; a read builds the row again, which costs less than the read is worth.
extension ConfigKey {
    public static let all: [ConfigKey] = [
        Setting.logLevel.key, Setting.uioSignalBackport.key, Setting.releaseOnStop.key, Setting.statusSocket.key,
        Setting.heartbeatServiceMode.key, Setting.shutdownServiceMode.key, Setting.timesyncServiceMode.key, Setting.kvpServiceMode.key, Setting.fcopyServiceMode.key,
        Setting.vssServiceMode.key,
        Setting.healthUnits.key, Setting.healthCommand.key,
        Setting.poweroffCommand.key, Setting.rebootCommand.key, Setting.hibernateCommand.key, Setting.shutdownHookDir.key,
        Setting.timesyncMode.key, Setting.chronySocket.key, Setting.stepThresholdSeconds.key,
        Setting.kvpPoolDir.key, Setting.kvpDevice.key, Setting.ipInjection.key, Setting.ipVerifyTimeoutSeconds.key, Setting.ipHelperSocket.key,
        Setting.fcopyAllowedRoots.key, Setting.fcopyDevice.key,
        Setting.vssDevice.key, Setting.vssHookDir.key, Setting.vssHookTimeoutSeconds.key,
        Setting.vssFreezeTimeoutSeconds.key, Setting.vssThawTimeoutSeconds.key, Setting.vssExcludeDevices.key,
        Setting.vssExcludeFilesystemTypes.key, Setting.vssFrozenList.key, Setting.vssFreezeHelperSocket.key, Setting.vssMountInfo.key, Setting.vssOnlyUnder.key,
        Setting.networkExclude.key, Setting.networkInclude.key, Setting.ipv6LinkLocal.key,
    ]
}

// MARK: - [agent]

extension Setting where Value == LogLevelChoice {
    /// `[agent] log_level`
    public static var logLevel: Self {
        Setting(section: "agent", name: "log_level", default: .info,
                help: "Messages below this level are not logged.", appliesOnReload: true)
    }
}

extension Setting where Value == Bool {
    /// `[agent] uio_signal_backport`
    public static var uioSignalBackport: Self {
        Setting(section: "agent", name: "uio_signal_backport", default: false,
                help: "Set when the kernel is older than 6.10 but has commit 547fa4ffd799 (uio_hv_generic signals the host on write) backported; enables uio mode there.")
    }

    /// `[agent] release_on_stop`
    public static var releaseOnStop: Self {
        Setting(section: "agent", name: "release_on_stop", default: false,
                help: "Hand channels taken through uio_hv_generic back to hv_utils when the daemon stops (they are always handed back on package removal).", appliesOnReload: true)
    }
}

extension Setting where Value == String {
    /// `[agent] status_socket`
    public static var statusSocket: Self {
        Setting(section: "agent", name: "status_socket", .path, default: "/run/hvagent/status.sock",
                help: "Where `hvagent status` asks the running daemon for its state (readable by root only).")
    }
}

// MARK: - [services]

/// One handle per integration service hvagent serves; `VMBusDeviceClass.modeSetting`
/// (VMBusDiscovery) names each service's own.
extension Setting where Value == ServiceModeChoice {
    /// `[services] heartbeat`
    public static var heartbeatServiceMode: Self {
        Setting(section: "services", name: "heartbeat", default: .auto,
                help: "auto: uio where the kernel supports it, else leave it to the kernel; uio or kernel force a mode; off leaves the device alone.")
    }

    /// `[services] shutdown`
    public static var shutdownServiceMode: Self {
        Setting(section: "services", name: "shutdown", default: .auto, help: "As for heartbeat.")
    }

    /// `[services] timesync`
    public static var timesyncServiceMode: Self {
        Setting(section: "services", name: "timesync", default: .auto,
                help: "As for heartbeat. Taking timesync through uio removes the kernel's hyperv PTP clock.")
    }

    /// `[services] kvp`
    public static var kvpServiceMode: Self {
        Setting(section: "services", name: "kvp", default: .auto,
                help: "As for heartbeat. In kernel mode KVP is served through /dev/vmbus/hv_kvp (instead of hv_kvp_daemon).")
    }

    /// `[services] fcopy`
    public static var fcopyServiceMode: Self {
        Setting(section: "services", name: "fcopy", default: .auto,
                help: "File copy (Copy-VMFile). As for heartbeat; kernel mode serves /dev/vmbus/hv_fcopy (kernels before 6.10). Never served on confidential VMs; off refuses every copy.")
    }
}

// MARK: - [heartbeat]

extension Setting where Value == [String] {
    /// `[heartbeat] health_units`
    public static var healthUnits: Self {
        Setting(section: "heartbeat", name: "health_units", default: [],
                help: "systemd units whose state is reported to the host as application health: all active = healthy, any failed = critical. Empty: no health reporting. Checked in the background when a heartbeat asks and the last answer is over 10 s old; heartbeats carry the last answer (the host's own value until the first).", appliesOnReload: true)
    }
}

extension Setting where Value == String {
    /// `[heartbeat] health_command`
    public static var healthCommand: Self {
        Setting(section: "heartbeat", name: "health_command", .text, default: "",
                help: "A command whose exit status is the application health (0 healthy, otherwise critical; killed after 5 s: critical). Used when health_units is empty; run in the background like health_units.", appliesOnReload: true)
    }
}

// MARK: - [shutdown]

extension Setting where Value == String {
    /// `[shutdown] poweroff_command`
    public static var poweroffCommand: Self {
        Setting(section: "shutdown", name: "poweroff_command", .text, default: "systemctl poweroff",
                help: "Run for a host power-off request.", appliesOnReload: true)
    }

    /// `[shutdown] reboot_command`
    public static var rebootCommand: Self {
        Setting(section: "shutdown", name: "reboot_command", .text, default: "systemctl reboot",
                help: "Run for a host restart request.", appliesOnReload: true)
    }

    /// `[shutdown] hibernate_command`
    public static var hibernateCommand: Self {
        Setting(section: "shutdown", name: "hibernate_command", .text, default: "systemctl hibernate",
                help: "Run for a host hibernate request (only when the VM can hibernate and no device is bound to uio).", appliesOnReload: true)
    }

    /// `[shutdown] hook_dir`
    public static var shutdownHookDir: Self {
        Setting(section: "shutdown", name: "hook_dir", .path, default: "/etc/hvagent/shutdown.d",
                help: "Executables here run (in name order) before the action, bounded by the host's timeout.", appliesOnReload: true)
    }
}

// MARK: - [timesync]

extension Setting where Value == TimesyncModeChoice {
    /// `[timesync] mode`
    public static var timesyncMode: Self {
        Setting(section: "timesync", name: "mode", default: .auto,
                help: "discipline: step and slew the clock from host samples; chrony: feed chronyd's SOCK refclock; auto: chrony when chronyd is installed, else discipline.")
    }
}

extension Setting where Value == String {
    /// `[timesync] chrony_socket`
    public static var chronySocket: Self {
        Setting(section: "timesync", name: "chrony_socket", .path, default: "/run/chrony.hvagent.sock",
                help: "The socket named by chrony's `refclock SOCK` line.")
    }
}

extension Setting where Value == Int {
    /// `[timesync] step_threshold_seconds`
    public static var stepThresholdSeconds: Self {
        Setting(section: "timesync", name: "step_threshold_seconds", range: 1...3600, default: 5,
                help: "A sample showing the guest this far behind is treated as a resume and steps the clock.", appliesOnReload: true)
    }
}

// MARK: - [kvp]

extension Setting where Value == String {
    /// `[kvp] pool_dir`
    public static var kvpPoolDir: Self {
        Setting(section: "kvp", name: "pool_dir", .path, default: "/var/lib/hyperv", help: "Where the .kvp_pool_0..4 files live.")
    }

    /// `[kvp] device`
    public static var kvpDevice: Self {
        Setting(section: "kvp", name: "device", .path, default: "/dev/vmbus/hv_kvp", help: "The kernel's KVP device (kernel mode).")
    }
}

extension Setting where Value == IPInjectionChoice {
    /// `[kvp] ip_injection`
    public static var ipInjection: Self {
        Setting(section: "kvp", name: "ip_injection", default: .auto,
                help: "How a host SET_IP_INFO (Hyper-V Replica failover addresses, static IP pools) is applied: auto through what manages the interface (netplan, NetworkManager, systemd-networkd, the ifcfg layout, else netlink); networkmanager, networkd, netplan, ifcfg or netlink to force one; off answers HV_E_FAIL. Either way the result is verified and rolled back when the kernel does not show it, and the compatibility files ifcfg-<if> and <if>.nmconnection are written into pool_dir.")
    }
}

extension Setting where Value == String {
    /// `[kvp] ip_helper_socket`
    public static var ipHelperSocket: Self {
        Setting(section: "kvp", name: "ip_helper_socket", .pathOrEmpty, default: "/run/hvagent/ip.sock",
                help: "The socket of `hvagent ip-helper` (hvagent-ip.socket), which applies a SET_IP_INFO with CAP_NET_ADMIN for an agent that holds none; empty applies it in this process, which then needs CAP_NET_ADMIN and write access to the network configuration itself.")
    }
}

extension Setting where Value == Int {
    /// `[kvp] ip_verify_timeout_seconds`
    public static var ipVerifyTimeoutSeconds: Self {
        Setting(section: "kvp", name: "ip_verify_timeout_seconds", range: 1...25, default: 20,
                help: "How long an applied SET_IP_INFO may take to show in the kernel before it is rolled back and answered HV_E_FAIL (below the kernel's 30-second transaction timeout).")
    }
}

// MARK: - [fcopy]

extension Setting where Value == [String] {
    /// `[fcopy] allowed_roots`
    public static var fcopyAllowedRoots: Self {
        Setting(section: "fcopy", name: "allowed_roots", default: [],
                help: "Absolute directories Copy-VMFile may write under (with their subdirectories). Empty: any absolute path.")
    }
}

extension Setting where Value == String {
    /// `[fcopy] device`
    public static var fcopyDevice: Self {
        Setting(section: "fcopy", name: "device", .path, default: "/dev/vmbus/hv_fcopy", help: "The kernel's file-copy device (kernel mode, kernels before 6.10).")
    }
}

// MARK: - [vss]

extension Setting where Value == ServiceModeChoice {
    /// `[services] vss` (listed with the other service modes in the file; declared with its section).
    public static var vssServiceMode: Self {
        Setting(section: "services", name: "vss", default: .auto,
                help: "Backups (production checkpoints). As for heartbeat, except that auto keeps kernel mode where hv_utils owns the device: backups are then served through /dev/vmbus/hv_vss (instead of hv_vss_daemon, which takes over while hvagent is stopped); uio mode also sets the hot-backup flags the kernel cannot. Filesystems are frozen by hvagent-freeze.service, which alone holds CAP_SYS_ADMIN.")
    }
}

extension Setting where Value == String {
    /// `[vss] device`
    public static var vssDevice: Self {
        Setting(section: "vss", name: "device", .path, default: "/dev/vmbus/hv_vss", help: "The kernel's VSS device (kernel mode).")
    }

    /// `[vss] hook_dir`
    public static var vssHookDir: Self {
        Setting(section: "vss", name: "hook_dir", .path, default: "/etc/hvagent/vss.d",
                help: "Executables here run in name order with `freeze` before the filesystems are frozen, and in reverse order with `thaw` after they are thawed (`freeze-fail` when the freeze is abandoned).", appliesOnReload: true)
    }

    /// `[vss] mountinfo`
    public static var vssMountInfo: Self {
        Setting(section: "vss", name: "mountinfo", .path, default: "/proc/1/mountinfo",
                help: "The mount table the freeze set comes from: the initial mount namespace's (PID 1), so filesystems mounted only outside hvagent's sandbox are frozen too. Mount points are opened under the `root` next to it (/proc/1/root); /proc/self/mountinfo means hvagent's own namespace.")
    }

    /// `[vss] frozen_list`
    public static var vssFrozenList: Self {
        Setting(section: "vss", name: "frozen_list", .path, default: "/run/hvagent/vss-frozen",
                help: "Where the mount points hvagent froze are recorded (on tmpfs); `hvagent vss-thaw` and the next start thaw them.")
    }

    /// `[vss] freeze_helper_socket`
    public static var vssFreezeHelperSocket: Self {
        Setting(section: "vss", name: "freeze_helper_socket", .path, default: "/run/hvagent/freeze.sock",
                help: "The socket of `hvagent freeze-helper` (hvagent-freeze.socket), which freezes and thaws for an agent that lacks CAP_SYS_ADMIN; an agent that has it freezes itself.")
    }
}

extension Setting where Value == Int {
    /// `[vss] hook_timeout_seconds`
    public static var vssHookTimeoutSeconds: Self {
        Setting(section: "vss", name: "hook_timeout_seconds", range: 1...3600, default: 30,
                help: "A hook still running after this is killed; a killed `freeze` hook fails the backup.", appliesOnReload: true)
    }

    /// `[vss] freeze_timeout_seconds`
    public static var vssFreezeTimeoutSeconds: Self {
        Setting(section: "vss", name: "freeze_timeout_seconds", range: 1...3600, default: 60,
                help: "The whole FREEZE (hooks and filesystems) must finish within this, else it is rolled back and the host told it failed.", appliesOnReload: true)
    }

    /// `[vss] thaw_timeout_seconds`
    public static var vssThawTimeoutSeconds: Self {
        Setting(section: "vss", name: "thaw_timeout_seconds", range: 1...3600, default: 120,
                help: "Filesystems are thawed after this long frozen even if the host never sends THAW (watchdog).", appliesOnReload: true)
    }
}

extension Setting where Value == [String] {
    /// `[vss] exclude_devices`
    public static var vssExcludeDevices: Self {
        Setting(section: "vss", name: "exclude_devices", default: ["/dev/nbd*", "/dev/longhorn/*", "iscsi"],
                help: "Mount sources (shell patterns) never frozen: volumes served by a process of this guest deadlock a freeze. `iscsi` matches every disk on an iSCSI transport.", appliesOnReload: true)
    }

    /// `[vss] exclude_fstypes`
    public static var vssExcludeFilesystemTypes: Self {
        Setting(section: "vss", name: "exclude_fstypes", default: ["vfat"],
                help: "Filesystem types never frozen (hv_vss_daemon skips vfat).", appliesOnReload: true)
    }

    /// `[vss] only_under`
    public static var vssOnlyUnder: Self {
        Setting(section: "vss", name: "only_under", default: [],
                help: "If not empty, only mount points under these directories may be frozen (for tests and demos; empty: every eligible filesystem).", appliesOnReload: true)
    }
}

// MARK: - [network]

extension Setting where Value == [String] {
    /// `[network] exclude`
    public static var networkExclude: Self {
        Setting(section: "network", name: "exclude", default: ["lo", "docker*", "veth*", "virbr*", "cni*", "flannel*"],
                help: "Interfaces (shell patterns) whose addresses are not reported to the host.", appliesOnReload: true)
    }

    /// `[network] include`
    public static var networkInclude: Self {
        Setting(section: "network", name: "include", default: [],
                help: "If not empty, only these interfaces (shell patterns) are reported.", appliesOnReload: true)
    }
}

extension Setting where Value == Bool {
    /// `[network] ipv6_link_local`
    public static var ipv6LinkLocal: Self {
        Setting(section: "network", name: "ipv6_link_local", default: false,
                help: "Report fe80::/10 addresses too.", appliesOnReload: true)
    }
}
