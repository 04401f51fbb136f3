import AgentConfig
import ArgumentParser
import DaemonSupport
import HVSystem
import VSS
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent freeze-helper`: the process that freezes and thaws filesystems for the agent, run by
/// `hvagent-freeze.service` from `hvagent-freeze.socket` with CAP_SYS_ADMIN, so that
/// `hvagent.service` holds no such capability (docs/PROTOCOL.md §6.5.9, packaging/README.md).
struct FreezeHelperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze-helper",
        abstract: "Freeze and thaw filesystems for the agent (run by hvagent-freeze.socket; not for interactive use).")

    @Option(name: .long, help: "Configuration file (its [vss] section gives the freeze plan's rules).")
    var config: String = AgentSettings.defaultPath

    @OptionGroup var helper: HelperOptions

    func run() throws {
        let settings = try AgentSettings.load(path: config)
        let listener = try helper.listener(socketUnit: "hvagent-freeze.socket")
        let signals = try SignalEvents([SIGTERM, SIGINT])
        let mountInfo = settings[.vssMountInfo]
        let procedure = FreezeProcedure(settings: settings,
                                        freezer: IoctlFilesystemFreezer(rootPrefix: FreezeProcedure.rootPrefix(forMountInfo: mountInfo)))
        FreezeHelper(listener: listener, procedure: procedure, peerUnit: helper.peerUnit, idleExitSeconds: helper.idleExit,
                     log: HelperOptions.log)
            .run(stop: signals.descriptor)
    }
}
