import HVSystem
import AgentConfig
import AgentCore
import DaemonSupport
import FoundationEssentials
import HVProtocol
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The backup service's entry in the daemon's service table (docs/PROTOCOL.md §6.5): one
/// ``VSSCoordinator`` shared by the uio channel handler and the kernel-mode device front end.
///
/// Building it thaws whatever a previous run left frozen (its frozen list exists): a killed
/// agent's next start is one of the ways a VM never stays frozen (V3).
public final class VSSAgentService: AgentService {
    public let id = ICServiceID.vss
    public let coordinator: VSSCoordinator
    public let devicePath: String
    private let logger: Logger
    private var frontEnd: VSSDeviceFrontEnd?
    private var reopenTimer: LoopTimer?

    public init(coordinator: VSSCoordinator, devicePath: String = VSSDeviceFrontEnd.defaultDevicePath,
                logger: Logger = Logger(label: "hvagent.vss")) {
        self.coordinator = coordinator
        self.devicePath = devicePath
        self.logger = logger
        coordinator.thawLeftovers()
    }

    /// The service as the configuration describes it.
    public convenience init(settings: AgentSettings, logger: Logger = Logger(label: "hvagent.vss")) throws {
        let coordinator = try VSSCoordinator(procedure: FreezeProcedure(settings: settings),
                                             thawTimeoutSeconds: Double(settings[.vssThawTimeoutSeconds]),
                                             log: { logger.notice("\($0)") })
        self.init(coordinator: coordinator, devicePath: settings[.vssDevice], logger: logger)
    }

    public func channelHandler(events: ServiceEvents) -> any ICChannelHandler {
        let logger = self.logger
        let coordinator = coordinator
        // FREEZE and THAW replies are held until the coordinator's work is done; a NEGOTIATE or the
        // channel's loss thaws (docs/PROTOCOL.md §6.5.7 step 8).
        return HeldReplyChannelHandler(
            VSSICService(ready: { coordinator.readyForBackup }, note: { logger.info("\($0)") },
                         renegotiated: { coordinator.abandon(reason: "host negotiated again") }),
            events: events,
            start: { work, answer in
                switch work {
                case .freeze: coordinator.freeze(reply: answer)
                case .thaw: coordinator.thaw(reply: answer)
                }
            },
            abandon: { coordinator.abandon(reason: $0) })
    }

    public func kernelModeInputs(events: ServiceEvents) throws -> [PollInput] {
        let logger = self.logger
        let frontEnd = VSSDeviceFrontEnd(coordinator: coordinator, devicePath: devicePath, log: { logger.notice("\($0)") })
        let timer = try LoopTimer()
        self.frontEnd = frontEnd
        reopenTimer = timer
        // hv_vss_daemon holding the device (EBUSY) is said once; it keeps backups working, and
        // hvagent takes over (looking every 60 s) when it stops. No device (ENOENT: the host does
        // not offer Backup, or hv_utils is not loaded) is said once too, and looked for again only
        // when a vmbus device comes or a driver binds (a kernel uevent: hv_utils creates the
        // device while it binds the Backup channel), so a VM without Backup never wakes for it —
        // VSS is on by default. Without a uevent socket, every 60 s. Other failures retry every 5 s.
        let uevents = try? UEventMonitor()
        var reported = false
        let attempt = {
            do {
                try frontEnd.start()
                reported = false
            } catch {
                if let failure = error as? SystemCallError, failure.errno == .resourceBusy || failure.errno == .noSuchFileOrDirectory {
                    let waitsForUEvent = failure.errno == .noSuchFileOrDirectory && uevents != nil
                    if !reported {
                        let line = failure.errno == .resourceBusy
                            ? "\(error): another daemon (hv_vss_daemon?) serves backups; looking again every 60 s"
                            : "\(error): no backup device (the host does not offer Backup, or hv_utils is not loaded); "
                              + (waitsForUEvent ? "looking again when a vmbus device appears" : "looking again every 60 s")
                        logger.notice("\(line)")
                    }
                    reported = true
                    if !waitsForUEvent { try? timer.arm(afterMicroseconds: 60_000_000) }
                } else {
                    logger.warning("\(error); retrying in 5 s")
                    try? timer.arm(afterMicroseconds: 5_000_000)
                }
            }
        }
        attempt()
        var inputs: [PollInput] = []
        if let uevents {
            inputs.append(PollInput(descriptor: uevents.descriptor, onReadable: {
                if !uevents.drain().isEmpty && frontEnd.descriptor < 0 { attempt() }
            }))
        }
        return inputs + [
            PollInput(currentDescriptor: { frontEnd.descriptor }, onReadable: {
                frontEnd.handleReadable()
                if frontEnd.descriptor < 0 { try? timer.arm(afterMicroseconds: 1_000_000) }
            }),
            PollInput(descriptor: timer.descriptor, onReadable: {
                _ = timer.acknowledge()
                attempt()
            }),
        ]
    }

    public func inputs(events: ServiceEvents) -> [PollInput] { coordinator.inputs }

    public func stop() { coordinator.stop() }
}

extension FreezeProcedure {
    /// The procedure as the `[vss]` section configures it. The freezer, unless given: the ioctls
    /// when this process may freeze (CAP_SYS_ADMIN: `hvagent vss-thaw` from `ExecStopPost=+`,
    /// the freeze helper, an agent run by hand), else the freeze helper (the packaged agent,
    /// whose unit keeps no such capability; docs/PROTOCOL.md §6.5.9).
    public init(settings: AgentSettings, freezer: (any FilesystemFreezer)? = nil) {
        let mountInfo = settings[.vssMountInfo]
        let root = Self.rootPrefix(forMountInfo: mountInfo)
        let freezer = freezer ?? (Self.mayFreeze() ? IoctlFilesystemFreezer(rootPrefix: root)
                                                   : FreezeHelperClient(socketPath: settings[.vssFreezeHelperSocket]))
        self.init(
            mountInfoPath: mountInfo,
            rules: FreezePlan.Rules(settings: settings),
            hooks: VSSHookRunner(directory: settings[.vssHookDir], timeoutSeconds: Double(settings[.vssHookTimeoutSeconds])),
            freezeTimeoutSeconds: Double(settings[.vssFreezeTimeoutSeconds]),
            frozenList: FrozenList(path: settings[.vssFrozenList]),
            freezer: freezer,
            facts: { SystemBlockDeviceFacts(rootPrefix: root) })
    }

    /// Whether this process has CAP_SYS_ADMIN in its effective set (`/proc/self/status`, CapEff).
    public static func mayFreeze(status: String = "/proc/self/status") -> Bool {
        guard let text = try? String(contentsOfFile: status, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst(7).filter { !$0.isWhitespace }, radix: 16) else { return false }
        return mask & (1 << 21) != 0
    }

    /// `/proc/N/mountinfo` → `/proc/N/root` (paths in it are relative to that root);
    /// `/proc/self/mountinfo` or any other file → no prefix.
    public static func rootPrefix(forMountInfo path: String) -> String {
        let parts = path.split(separator: "/")
        guard parts.count == 3, parts[0] == "proc", parts[2] == "mountinfo", parts[1] != "self", Int(parts[1]) != nil else { return "" }
        return "/proc/\(parts[1])/root"
    }
}

extension FreezePlan.Rules {
    /// The rules as the `[vss]` section configures them (the service's and doctor's plan alike).
    public init(settings: AgentSettings) {
        self.init(excludeDevices: settings[.vssExcludeDevices], excludeFilesystemTypes: settings[.vssExcludeFilesystemTypes],
                  onlyUnder: settings[.vssOnlyUnder])
    }
}
